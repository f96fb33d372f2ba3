from django.db import models

from . import access


class RestrictedQuerySet(models.QuerySet):
    """A queryset with the access layer's door (STYLE habit 12): `Model.objects.visible_to(user)`
    is `access.visible_to(user, queryset)`, the one rule of SPEC §7 for that kind of record."""

    def visible_to(self, user, *, person_path: str | None = None):
        return access.visible_to(user, self, person_path=person_path)


class OrganisationQuerySet(RestrictedQuerySet):
    def of_kind(self, *kinds: str) -> "OrganisationQuerySet":
        return self.filter(kind__in=kinds)

    def active(self) -> "OrganisationQuerySet":
        return self.filter(is_active=True)


class ApiTokenQuerySet(models.QuerySet):
    def usable(self, at) -> "ApiTokenQuerySet":
        """Tokens that authenticate at `at`: not revoked, not expired."""
        return self.filter(revoked_at__isnull=True).filter(
            models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=at)
        )
