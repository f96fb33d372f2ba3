from django.db import models

from apps.accounts.querysets import RestrictedQuerySet


class PersonQuerySet(RestrictedQuerySet):
    """Persons; `visible_to(user)` is the one door of SPEC §7 (apps.accounts.access)."""


class PhoneQuerySet(models.QuerySet):
    pass
