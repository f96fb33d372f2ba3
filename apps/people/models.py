"""Persons and their phone numbers. No ID number or phone number is ever stored in clear: each
has a keyed hash for look-ups, an encrypted copy for roles entitled to it, and a masked form for
display (SPEC §7, §9)."""

import secrets

from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.core.history import HistoricalRecords
from apps.core.models import TimeStampedModel

from .choices import IdType, PhoneChannel
from .querysets import PersonQuerySet, PhoneQuerySet


def new_ref() -> str:
    return secrets.token_urlsafe(12)


class Person(TimeStampedModel):
    """Someone the health-code service knows, identified by ID type and number. `ref` is the
    opaque identifier used in URLs and by partners; it never contains the ID number."""

    ref = models.CharField(_("reference"), max_length=32, unique=True, default=new_ref, editable=False)
    id_type = models.CharField(_("ID type"), max_length=32, choices=IdType.choices)
    id_hash = models.CharField(_("ID look-up hash"), max_length=64, unique=True, editable=False)
    id_encrypted = models.TextField(_("ID number (encrypted)"), editable=False)
    display_id = models.CharField(_("ID number"), max_length=40, editable=False)
    name = models.CharField(_("name"), max_length=100, blank=True)
    display_name = models.CharField(_("name (masked)"), max_length=100, editable=False, blank=True)
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    community = models.ForeignKey(
        "accounts.Organisation",
        verbose_name=_("community of residence"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="residents",
        limit_choices_to={"kind": "community"},
    )
    history = HistoricalRecords()

    objects = PersonQuerySet.as_manager()

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("persons")
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.display_name} {self.display_id}"


class Phone(TimeStampedModel):
    """A phone number belonging to a person through one channel: bound in an app (WeChat,
    Alipay, Baidu, Beijing Tong) or real-name registered to the person's ID by a carrier. Its
    telecom stays count for the person from `bound_at` until `phone_unbind_days` after
    `unbound_at` (SPEC §2)."""

    person = models.ForeignKey(Person, verbose_name=_("person"), on_delete=models.CASCADE, related_name="phones")
    number_hash = models.CharField(_("number look-up hash"), max_length=64, editable=False)
    number_encrypted = models.TextField(_("number (encrypted)"), editable=False)
    display_number = models.CharField(_("number"), max_length=24, editable=False)
    channel = models.CharField(_("channel"), max_length=20, choices=PhoneChannel.choices)
    bound_at = models.DateTimeField(_("bound at"))
    unbound_at = models.DateTimeField(_("unbound at"), null=True, blank=True)
    history = HistoricalRecords()

    objects = PhoneQuerySet.as_manager()

    class Meta:
        verbose_name = _("phone number")
        verbose_name_plural = _("phone numbers")
        ordering = ["person_id", "-bound_at"]
        constraints = [
            models.UniqueConstraint(fields=["person", "number_hash", "channel"], name="phone_person_number_channel")
        ]
        indexes = [
            models.Index(fields=["number_hash", "person"], name="phone_hash_person"),
            # The retention purge's walk over unbound numbers (apps.retention).
            models.Index(fields=["unbound_at"], name="phone_unbound", condition=models.Q(unbound_at__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"{self.display_number} ({self.get_channel_display()})"
