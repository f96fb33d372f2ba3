from django.db import models


class PersonQuerySet(models.QuerySet):
    def visible_to(self, user) -> "PersonQuerySet":
        """The persons `user` may see (SPEC §7) — the one door; see apps.accounts.access."""
        from apps.accounts.access import persons_visible_to

        return persons_visible_to(user, self)


class PhoneQuerySet(models.QuerySet):
    pass
