"""The facts feeds bring in (SPEC §2–4): stays, lab results, health events, inbound arrivals,
observation orders, associations and itinerary declarations.

Every fact arrives through an `Ingestion` — the inbox that keeps each accepted batch as received,
so nothing accepted is ever lost — and carries `(source, external_id)`, unique per source, and the
ingestion it came with. Ingestion ids are the order of knowledge: a release covers the evidence
ingested up to its watermark and no later (SPEC §5).
"""

import json

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.accounts.querysets import RestrictedQuerySet
from apps.core import crypto
from apps.core.db import INGESTION_LOCK
from apps.core.history import HistoricalRecords
from apps.core.text import is_storable

from .choices import (
    AssociationKind,
    EvidenceOrigin,
    HealthEventKind,
    LabResultValue,
    OrderKind,
    Precision,
    StaySource,
)

# Ingestion ids and releases' watermarks (SPEC §5): an id is handed out under a shared advisory
# lock held until the inserting transaction ends; `ingestions_settled()` takes the lock exclusively
# for a moment, so every id up to the newest it then reads has committed. Without it a release
# could cover the id of a batch still being written, whose evidence it never saw (INGESTION_LOCK).

# How long a release waits for batches being written; new batches queue behind the waiting
# release meanwhile, so this also bounds their stall. Past it the release is refused, to retry.
SETTLE_TIMEOUT_MS = 5000


def ingestions_settled() -> None:
    """Wait until every ingestion being written has committed or rolled back (PostgreSQL; on
    SQLite one writer at a time does this already). Inside a transaction (a release) the wait is
    bounded by SETTLE_TIMEOUT_MS and raises OperationalError past it (the API answers 503). Needs a
    session-level lock: behind a transaction-pooling bouncer, use session pooling for the web."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        if connection.in_atomic_block:
            cursor.execute("SELECT current_setting('lock_timeout')")
            (previous,) = cursor.fetchone()
            cursor.execute("SELECT set_config('lock_timeout', %s, true)", [f"{SETTLE_TIMEOUT_MS}ms"])
        # Past the timeout this raises and the transaction is aborted; the local setting ends with it.
        cursor.execute("SELECT pg_advisory_lock(%s)", [INGESTION_LOCK])
        cursor.execute("SELECT pg_advisory_unlock(%s)", [INGESTION_LOCK])
        if connection.in_atomic_block:
            cursor.execute("SELECT set_config('lock_timeout', %s, true)", [previous])


def payload_text(value) -> tuple[str, bool]:
    """The JSON a batch is kept as, and whether all its text can be stored as it is. A lone
    surrogate (a record rejected for it) has no UTF-8: then it is kept escaped (`\\udfff`), which
    reads back as exactly what was received. `False` also when the JSON holds an escaped NUL
    (`\\u0000`, or a backslash and `u0000` of the text itself): then only a closer look at each
    record tells (apps.core.text.unstorable_text_errors)."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    if not is_storable(text):
        return json.dumps(value, default=str), False
    return text, "\\u0000" not in text


class Ingestion(models.Model):
    """One accepted batch (or one staff or person action), kept as received."""

    feed = models.CharField(_("feed"), max_length=32, db_index=True)
    received_at = models.DateTimeField(_("received at"), db_index=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("submitted by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    payload_encrypted = models.TextField(_("payload as received (encrypted)"), editable=False, default="")
    record_count = models.PositiveIntegerField(_("records"), default=0)
    accepted = models.PositiveIntegerField(_("accepted"), default=0)
    updated = models.PositiveIntegerField(_("updated"), default=0)
    duplicates = models.PositiveIntegerField(_("duplicates"), default=0)
    rejected = models.JSONField(_("rejected records"), default=list, blank=True)

    class Meta:
        verbose_name = _("ingestion")
        verbose_name_plural = _("ingestions")
        ordering = ["-id"]
        indexes = [
            # The retention purge's walk over batches still holding their raw payload.
            models.Index(
                fields=["received_at"], name="ingestion_payload_kept", condition=~models.Q(payload_encrypted="")
            )
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.feed} {self.received_at:%Y-%m-%d %H:%M:%S}"

    def save(self, *args, **kwargs):
        from django.db import connection

        if self._state.adding and connection.vendor == "postgresql":
            with connection.cursor() as cursor:  # see INGESTION_LOCK
                cursor.execute("SELECT pg_advisory_xact_lock_shared(%s)", [INGESTION_LOCK])
        super().save(*args, **kwargs)

    # The batch as received holds clear ID and phone numbers: it is kept encrypted, like every
    # personal value, and read back only by code that needs it (a replay, an investigation).
    @property
    def payload(self):
        return json.loads(crypto.decrypt(self.payload_encrypted)) if self.payload_encrypted else None

    @payload.setter
    def payload(self, value) -> None:
        self.payload_encrypted = crypto.encrypt(payload_text(value)[0])


class FeedRecord(models.Model):
    """Shared fields of every fact: where it came from, when it was learnt, its content hash (an
    identical resend is a duplicate, a changed one an update; earlier versions stay in history)."""

    source = models.CharField(_("source"), max_length=32)
    external_id = models.CharField(_("external id"), max_length=128)
    person = models.ForeignKey(
        "people.Person",
        verbose_name=_("person"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="%(class)ss",
    )
    ingestion = models.ForeignKey(
        Ingestion, verbose_name=_("ingestion"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    ingested_at = models.DateTimeField(_("ingested at"), db_index=True)
    content_hash = models.CharField(_("content hash"), max_length=64, editable=False, blank=True)
    origin = models.CharField(_("origin"), max_length=10, choices=EvidenceOrigin.choices, default=EvidenceOrigin.FEED)

    class Meta:
        abstract = True
        constraints = [
            models.UniqueConstraint(fields=["source", "external_id"], name="%(app_label)s_%(class)s_source_extid")
        ]


class Stay(FeedRecord):
    """A stay in a county or a city. Telecom stays belong to a phone number (`phone_hash`) and count
    for every person the number belongs to; other stays name their person."""

    source = models.CharField(_("source"), max_length=32, choices=StaySource.choices)
    phone_hash = models.CharField(_("phone look-up hash"), max_length=64, blank=True, default="", editable=False)
    area = models.ForeignKey("areas.Area", verbose_name=_("area"), on_delete=models.PROTECT, related_name="stays")
    precision = models.CharField(_("precision"), max_length=10, choices=Precision.choices)
    arrived_at = models.DateTimeField(_("arrived at"))
    departed_at = models.DateTimeField(_("departed at"), null=True, blank=True)
    refunded = models.BooleanField(_("refunded"), default=False)
    history = HistoricalRecords()

    class Meta(FeedRecord.Meta):
        verbose_name = _("stay")
        verbose_name_plural = _("stays")
        ordering = ["-arrived_at"]
        indexes = [
            models.Index(fields=["area", "departed_at"], name="stay_area_departed"),
            models.Index(fields=["person", "departed_at"], name="stay_person_departed"),
            models.Index(fields=["phone_hash", "departed_at"], name="stay_phone_departed"),
            # The retention purge's walk over departed telecom stays (apps.retention).
            models.Index(fields=["departed_at"], name="stay_telecom_departed", condition=models.Q(source="telecom")),
        ]

    def __str__(self) -> str:
        return f"{self.get_source_display()} {self.area_id} {self.arrived_at:%Y-%m-%d %H:%M}"


class LabResult(FeedRecord):
    """A nucleic-acid test (NAT) result. Tests taken at a hotel are stored here too."""

    sampled_at = models.DateTimeField(_("sampled at"))
    reported_at = models.DateTimeField(_("reported at"), null=True, blank=True)
    result = models.CharField(_("result"), max_length=10, choices=LabResultValue.choices)
    institution = models.CharField(_("institution"), max_length=200, blank=True)
    history = HistoricalRecords()

    class Meta(FeedRecord.Meta):
        verbose_name = _("lab result")
        verbose_name_plural = _("lab results")
        ordering = ["-sampled_at"]
        indexes = [models.Index(fields=["person", "sampled_at"], name="lab_person_sampled")]

    def __str__(self) -> str:
        return f"{self.get_result_display()} {self.sampled_at:%Y-%m-%d %H:%M}"


class HealthEvent(FeedRecord):
    """A trigger of popup ④: entering Beijing, a drug purchase, a clinic visit."""

    kind = models.CharField(_("kind"), max_length=20, choices=HealthEventKind.choices)
    occurred_at = models.DateTimeField(_("occurred at"))
    detail = models.CharField(_("detail"), max_length=200, blank=True)
    history = HistoricalRecords()

    class Meta(FeedRecord.Meta):
        verbose_name = _("health event")
        verbose_name_plural = _("health events")
        ordering = ["-occurred_at"]
        indexes = [models.Index(fields=["person", "occurred_at"], name="event_person_occurred")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.detail} {self.occurred_at:%Y-%m-%d %H:%M}"


class InboundArrival(FeedRecord):
    """An international arrival (border control), governing popup ②."""

    entered_at = models.DateTimeField(_("entered at"))
    port = models.CharField(_("port"), max_length=64, blank=True)
    quarantine_completed_at = models.DateTimeField(_("quarantine completed at"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta(FeedRecord.Meta):
        verbose_name = _("inbound arrival")
        verbose_name_plural = _("inbound arrivals")
        ordering = ["-entered_at"]
        indexes = [models.Index(fields=["person", "entered_at"], name="arrival_person_entered")]

    def __str__(self) -> str:
        return f"{self.port} {self.entered_at:%Y-%m-%d %H:%M}"


class ObservationOrder(FeedRecord):
    """A centralised (red) or home (yellow) observation order, active from `starts_at` until
    `ends_at` or until its issuer ends it (a manual change)."""

    kind = models.CharField(_("kind"), max_length=20, choices=OrderKind.choices)
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("issued by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    issuer_org = models.ForeignKey(
        "accounts.Organisation",
        verbose_name=_("issuing organisation"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("ended by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    end_reason = models.CharField(_("end reason"), max_length=500, blank=True)
    history = HistoricalRecords()

    objects = RestrictedQuerySet.as_manager()

    class Meta(FeedRecord.Meta):
        verbose_name = _("observation order")
        verbose_name_plural = _("observation orders")
        ordering = ["-starts_at"]
        indexes = [models.Index(fields=["person", "starts_at"], name="order_person_starts")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.starts_at:%Y-%m-%d %H:%M}"


class Association(FeedRecord):
    """An association record (popup ③(c)): an epidemiological link, a scan near a controlled
    site, or a phone registered under the person's ID seen in a risk area."""

    kind = models.CharField(_("kind"), max_length=20, choices=AssociationKind.choices)
    observed_at = models.DateTimeField(_("observed at"))
    detail = models.CharField(_("detail"), max_length=500, blank=True)
    history = HistoricalRecords()

    class Meta(FeedRecord.Meta):
        verbose_name = _("association")
        verbose_name_plural = _("associations")
        ordering = ["-observed_at"]
        indexes = [models.Index(fields=["person", "observed_at"], name="assoc_person_observed")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.observed_at:%Y-%m-%d %H:%M}"


class ItineraryDeclaration(FeedRecord):
    """A person's county-by-county declaration of where they stayed (SPEC §4), or what a hotel
    check-in verified. It covers the city-precision stays its places overlap."""

    entered_beijing_at = models.DateTimeField(_("entered Beijing at"), null=True, blank=True)
    submitted_at = models.DateTimeField(_("submitted at"))
    nat = models.ForeignKey(
        LabResult, verbose_name=_("NAT relied on"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    history = HistoricalRecords()

    class Meta(FeedRecord.Meta):
        verbose_name = _("itinerary declaration")
        verbose_name_plural = _("itinerary declarations")
        ordering = ["-submitted_at"]
        indexes = [models.Index(fields=["person", "submitted_at"], name="declaration_person_submitted")]

    def __str__(self) -> str:
        return f"{_('declaration')} {self.submitted_at:%Y-%m-%d %H:%M}"


class DeclaredPlace(models.Model):
    """One county of a declaration, with when the person was there."""

    declaration = models.ForeignKey(
        ItineraryDeclaration, verbose_name=_("declaration"), on_delete=models.CASCADE, related_name="places"
    )
    area = models.ForeignKey("areas.Area", verbose_name=_("county"), on_delete=models.PROTECT, related_name="+")
    arrived_at = models.DateTimeField(_("arrived at"))
    departed_at = models.DateTimeField(_("departed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("declared place")
        verbose_name_plural = _("declared places")
        ordering = ["arrived_at"]

    def __str__(self) -> str:
        return str(self.area_id)
