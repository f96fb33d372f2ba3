"""Administrative divisions (SPEC §6): the provinces, cities and counties every stay, designation
and organisation names. The policy placed on them lives in apps.policy."""

from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from .choices import AreaLevel

six_digits = RegexValidator(r"^\d{6}$", _("An area code has six digits (GB/T 2260)."))


class Area(models.Model):
    """A province, city or county (GB/T 2260 six-digit code, the primary key).

    `city` is the city a county lies in, for matching city-precision stays; a city without counties
    (东莞 441900) and a county-level city run directly by its province (仙桃 429004) are their own
    city, and `acts_as_county` marks the city that stays and designations may name as a county."""

    code = models.CharField(_("code"), max_length=6, primary_key=True, validators=[six_digits])
    name = models.CharField(_("name"), max_length=100)
    full_name = models.CharField(_("full name"), max_length=200, db_index=True)
    level = models.CharField(_("level"), max_length=10, choices=AreaLevel.choices, db_index=True)
    parent = models.ForeignKey(
        "self", verbose_name=_("parent"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    city = models.ForeignKey(
        "self", verbose_name=_("city"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    province = models.ForeignKey(
        "self", verbose_name=_("province"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    acts_as_county = models.BooleanField(_("acts as a county"), default=False)

    class Meta:
        verbose_name = _("area")
        verbose_name_plural = _("areas")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.full_name} ({self.code})"

    @property
    def is_county_like(self) -> bool:
        return self.level == AreaLevel.COUNTY or self.acts_as_county
