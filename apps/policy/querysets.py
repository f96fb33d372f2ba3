import datetime as dt

from django.db import models


class RiskDesignationQuerySet(models.QuerySet):
    def in_force_at(self, t: dt.datetime) -> "RiskDesignationQuerySet":
        return self.filter(effective_from__lte=t)


class PolicyQuerySet(models.QuerySet):
    def in_force_at(self, t: dt.datetime):
        """The version in force at `t`, or None (the defaults apply)."""
        return self.filter(effective_from__lte=t).order_by("-effective_from", "-id").first()
