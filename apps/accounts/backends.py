"""Admin permissions from the role (SPEC §7): a staff user's role decides which admin screens they
may open, from `apps.accounts.access.ROLE_MODEL_PERMISSIONS` — no groups to keep in step. What a
screen then shows is narrowed per person by the same access layer."""

from django.contrib.auth.backends import BaseBackend

from .access import ROLE_MODEL_PERMISSIONS


class RoleBackend(BaseBackend):
    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or not getattr(user_obj, "role", ""):
            return set()
        return set(ROLE_MODEL_PERMISSIONS.get(user_obj.role, ()))

    def has_module_perms(self, user_obj, app_label):
        prefix = f"{app_label}."
        return any(perm.startswith(prefix) for perm in self.get_all_permissions(user_obj))
