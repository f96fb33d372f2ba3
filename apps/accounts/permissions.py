"""API permissions: partners act within their scopes, staff within their roles (API.md)."""

from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import BasePermission


def partner_scopes(user) -> list[str]:
    partner = getattr(user, "partner", None) if getattr(user, "is_partner", False) else None
    return list(partner.scopes) if partner is not None and partner.is_active else []


def may_use(user, *, scopes=(), roles=()) -> bool:
    if user is None or not user.is_authenticated:
        return False
    if getattr(user, "is_partner", False):
        return any(s in partner_scopes(user) for s in scopes)
    return user.is_superuser or user.role in roles


class ScopeOrRole(BasePermission):
    """Allows a partner holding one of `view.required_scopes` or staff in one of
    `view.allowed_roles` (per method when the attributes are dicts keyed by HTTP method)."""

    message = _("Your role or scope may not do this.")

    def has_permission(self, request, view):
        scopes = getattr(view, "required_scopes", ())
        roles = getattr(view, "allowed_roles", ())
        if isinstance(scopes, dict):
            scopes = scopes.get(request.method, ())
        if isinstance(roles, dict):
            roles = roles.get(request.method, ())
        return may_use(request.user, scopes=scopes, roles=roles)
