from django.db import models


class OrganisationQuerySet(models.QuerySet):
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
