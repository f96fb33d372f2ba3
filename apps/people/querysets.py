from django.db import models


class PersonQuerySet(models.QuerySet):
    """Reads of persons. `visible_to(user)` — the one door staff go through — is added by the
    access layer (apps.accounts.access) once casework lands; until then only superusers, CDC and
    partners read persons."""


class PhoneQuerySet(models.QuerySet):
    pass
