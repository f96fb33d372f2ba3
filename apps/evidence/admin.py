"""Admin of the facts feeds bring in. Facts come through feeds and services: staff see them (for
the persons they may see); only a superuser corrects one by hand. Ingestions are the inbox kept as
received and are never changed; their payload (which names ID and phone numbers) is never shown."""

from django.contrib import admin
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from apps.core.admin import (
    BaseAdmin,
    BigTableMixin,
    HistoryAdmin,
    SuperuserWritesMixin,
    ViewOnlyMixin,
    pretty_json,
)
from apps.core.clock import now
from apps.people.admin import PersonScopedAdminMixin

from .choices import EvidenceOrigin
from .models import (
    Association,
    DeclaredPlace,
    HealthEvent,
    InboundArrival,
    Ingestion,
    ItineraryDeclaration,
    LabResult,
    ObservationOrder,
    Stay,
)

PROVENANCE = ("source", "external_id", "origin", "ingestion", "ingested_at", "content_hash")


def feed_fieldsets(*fields: str) -> tuple:
    return (
        (None, {"fields": ("person", *fields)}),
        (_("provenance"), {"fields": PROVENANCE, "classes": ("collapse",)}),
    )


class FeedRecordAdmin(PersonScopedAdminMixin, SuperuserWritesMixin, BigTableMixin, HistoryAdmin):
    """Shared by every fact: the person (masked), where the fact came from and when it was learnt."""

    search_fields = ("external_id__exact",)
    search_help_text = _("The external id, or the person's full ID number or reference.")
    list_select_related = ("person",)
    autocomplete_fields = ("person",)
    # Where a fact came from and when it was learnt are never typed in: a correction is learnt
    # through its own staff ingestion (apps.casework.services.record_corrected).
    readonly_fields = ("ingestion", "ingested_at", "origin", "content_hash")

    def save_model(self, request, obj, form, change):
        if not change:
            obj.ingested_at = now()
            obj.origin = EvidenceOrigin.STAFF
        super().save_model(request, obj, form, change)


@admin.register(Stay)
class StayAdmin(FeedRecordAdmin):
    list_display = (
        "arrived_at",
        "departed_at",
        "area",
        "precision",
        "person",
        "by_phone",
        "source",
        "refunded",
        "ingested_at",
    )
    list_filter = (
        "source",
        "precision",
        "refunded",
        "origin",
        "arrived_at",
        ("departed_at", admin.EmptyFieldListFilter),
    )
    list_select_related = ("person", "area")
    autocomplete_fields = ("person", "area")
    fieldsets = feed_fieldsets("area", "precision", "arrived_at", "departed_at", "refunded", "by_phone")
    readonly_fields = ("content_hash", "by_phone")

    @admin.display(description=_("telecom stay of a phone number"), boolean=True)
    def by_phone(self, obj):
        return bool(obj.phone_hash)


@admin.register(LabResult)
class LabResultAdmin(FeedRecordAdmin):
    list_display = ("sampled_at", "result", "person", "institution", "reported_at", "source", "ingested_at")
    list_filter = ("result", "source", "origin", "sampled_at")
    fieldsets = feed_fieldsets("sampled_at", "reported_at", "result", "institution")


@admin.register(HealthEvent)
class HealthEventAdmin(FeedRecordAdmin):
    list_display = ("occurred_at", "kind", "detail", "person", "source", "ingested_at")
    list_filter = ("kind", "source", "origin", "occurred_at")
    fieldsets = feed_fieldsets("kind", "occurred_at", "detail")


@admin.register(InboundArrival)
class InboundArrivalAdmin(FeedRecordAdmin):
    list_display = ("entered_at", "port", "person", "quarantine_completed_at", "source", "ingested_at")
    list_filter = ("entered_at", ("quarantine_completed_at", admin.EmptyFieldListFilter), "source")
    fieldsets = feed_fieldsets("entered_at", "port", "quarantine_completed_at")


class OrderActiveFilter(admin.SimpleListFilter):
    title = _("active")
    parameter_name = "active"

    def lookups(self, request, model_admin):
        return (("yes", _("active now")), ("no", _("ended or not started")))

    def queryset(self, request, queryset):
        t = now()
        active = Q(starts_at__lte=t, ended_at__isnull=True) & (Q(ends_at__isnull=True) | Q(ends_at__gt=t))
        if self.value() == "yes":
            return queryset.filter(active)
        if self.value() == "no":
            return queryset.exclude(active)
        return queryset


@admin.register(ObservationOrder)
class ObservationOrderAdmin(FeedRecordAdmin):
    list_display = ("starts_at", "kind", "person", "ends_at", "ended_at", "issuer_org", "source")
    list_filter = ("kind", OrderActiveFilter, "starts_at", "source")
    list_select_related = ("person", "issuer_org")
    autocomplete_fields = ("person", "issued_by", "issuer_org", "ended_by")
    fieldsets = (
        *feed_fieldsets("kind", "starts_at", "ends_at", "reason", "issued_by", "issuer_org"),
        (_("ended"), {"fields": ("ended_at", "ended_by", "end_reason")}),
    )


@admin.register(Association)
class AssociationAdmin(FeedRecordAdmin):
    list_display = ("observed_at", "kind", "detail", "person", "source", "ingested_at")
    list_filter = ("kind", "source", "observed_at")
    fieldsets = feed_fieldsets("kind", "observed_at", "detail")


class DeclaredPlaceInline(admin.TabularInline):
    model = DeclaredPlace
    extra = 0
    fields = ("area", "arrived_at", "departed_at")
    autocomplete_fields = ("area",)

    def has_add_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser


@admin.register(ItineraryDeclaration)
class ItineraryDeclarationAdmin(FeedRecordAdmin):
    list_display = ("submitted_at", "person", "entered_beijing_at", "nat", "source", "origin")
    list_filter = ("origin", "source", "submitted_at")
    list_select_related = ("person", "nat")
    raw_id_fields = ("ingestion", "nat")
    fieldsets = feed_fieldsets("entered_beijing_at", "submitted_at", "nat")
    inlines = (DeclaredPlaceInline,)


@admin.register(DeclaredPlace)
class DeclaredPlaceAdmin(PersonScopedAdminMixin, SuperuserWritesMixin, BigTableMixin, BaseAdmin):
    person_path = "declaration__person"
    list_display = ("declaration", "area", "arrived_at", "departed_at")
    list_filter = ("arrived_at",)
    search_fields = ("area__code__exact",)
    list_select_related = ("declaration", "area")
    autocomplete_fields = ("area",)
    raw_id_fields = ("declaration",)
    fields = ("declaration", "area", "arrived_at", "departed_at")


@admin.register(Ingestion)
class IngestionAdmin(ViewOnlyMixin, BigTableMixin, BaseAdmin):
    list_display = (
        "id",
        "feed",
        "received_at",
        "submitted_by",
        "record_count",
        "accepted",
        "updated",
        "duplicates",
        "rejected_count",
    )
    list_filter = ("feed", "received_at")
    list_select_related = ("submitted_by",)
    fields = ("feed", "received_at", "submitted_by", "record_count", "accepted", "updated", "duplicates", "rejections")
    readonly_fields = fields

    @admin.display(description=_("rejected"))
    def rejected_count(self, obj):
        return len(obj.rejected or [])

    @admin.display(description=_("rejected records"))
    def rejections(self, obj):
        return pretty_json(obj.rejected)

    def get_queryset(self, request):
        # The payload can be large and is encrypted (it names ID and phone numbers): never loaded here.
        return super().get_queryset(request).defer("payload_encrypted")
