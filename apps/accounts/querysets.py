from django.db import models


class OrganisationQuerySet(models.QuerySet):
    def of_kind(self, *kinds: str) -> "OrganisationQuerySet":
        return self.filter(kind__in=kinds)

    def active(self) -> "OrganisationQuerySet":
        return self.filter(is_active=True)
