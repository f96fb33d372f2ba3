"""Admin of risk designations, local-case reports, border-port counties and the policy versions.

Designations, border ports and policy versions are published through their services (which
record the ingestion and audit event and recompute the persons affected) and never edited: a new
row supersedes.
"""

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from apps.areas.admin import COUNTY_FIELDS, COUNTY_LIKE
from apps.areas.models import Area
from apps.core.admin import HistoryAdmin, ServiceCreateMixin, SuperuserWritesMixin
from apps.core.clock import now

from .models import BorderPortCounty, LocalCaseReport, PolicyVersion, RiskDesignation
from .selectors import POLICY_PARAMETERS, policy_at
from .services import border_port_publish, policy_publish, risk_designation_publish

# Their "area" takes a county: its autocomplete (AreaAdmin's search) offers counties only.
COUNTY_FIELDS.update(
    (m._meta.app_label, m._meta.model_name) for m in (RiskDesignation, BorderPortCounty, LocalCaseReport)
)


class CountyFieldMixin:
    """The `area` of these rows is a county (or a city acting as one)."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "area":
            kwargs["queryset"] = Area.objects.filter(COUNTY_LIKE)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(RiskDesignation)
class RiskDesignationAdmin(CountyFieldMixin, ServiceCreateMixin, HistoryAdmin):
    list_display = ("area", "level", "effective_from", "published_at", "published_by", "note")
    list_filter = ("level", "effective_from", "published_at")
    search_fields = ("area__code__exact", "area__name", "area__full_name")
    date_hierarchy = "effective_from"
    list_select_related = ("area", "published_by")
    autocomplete_fields = ("area",)
    fields = ("area", "level", "effective_from", "note", "published_at", "published_by", "ingestion")
    readonly_fields = ("published_at", "published_by", "ingestion")

    def get_changeform_initial_data(self, request):
        return {"effective_from": now(), **super().get_changeform_initial_data(request)}

    def create_with_service(self, request, form):
        data = form.cleaned_data
        return risk_designation_publish(
            actor=request.user,
            area_code=data["area"].code,
            level=data["level"],
            effective_from=data["effective_from"],
            note=data.get("note", ""),
        )


class BorderPortForm(forms.ModelForm):
    class Meta:
        model = BorderPortCounty
        fields = ("area", "effective_from", "effective_to")

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("effective_from"), cleaned.get("effective_to")
        if start and end and end <= start:
            self.add_error("effective_to", _("The end must come after the start."))
        return cleaned


@admin.register(BorderPortCounty)
class BorderPortCountyAdmin(CountyFieldMixin, ServiceCreateMixin, HistoryAdmin):
    form = BorderPortForm
    list_display = ("area", "effective_from", "effective_to", "published_at", "published_by")
    list_filter = ("effective_from", ("effective_to", admin.EmptyFieldListFilter))
    search_fields = ("area__code__exact", "area__name", "area__full_name")
    list_select_related = ("area", "published_by")
    autocomplete_fields = ("area",)
    fields = ("area", "effective_from", "effective_to", "published_at", "published_by", "ingestion")
    readonly_fields = ("published_at", "published_by", "ingestion")

    def create_with_service(self, request, form):
        data = form.cleaned_data
        return border_port_publish(
            actor=request.user,
            area_code=data["area"].code,
            effective_from=data["effective_from"],
            effective_to=data.get("effective_to"),
        )


@admin.register(LocalCaseReport)
class LocalCaseReportAdmin(SuperuserWritesMixin, HistoryAdmin):
    """Local cases come through the `local-cases` feed."""

    list_display = ("area", "reported_on", "count", "source", "external_id", "ingested_at")
    list_filter = ("reported_on", "source")
    search_fields = ("area__code__exact", "area__name", "area__full_name", "external_id__exact")
    date_hierarchy = "reported_on"
    list_select_related = ("area",)
    autocomplete_fields = ("area",)
    raw_id_fields = ("ingestion",)
    fields = ("area", "reported_on", "count", "source", "external_id", "ingested_at", "ingestion", "content_hash")
    readonly_fields = ("content_hash",)


@admin.register(PolicyVersion)
class PolicyVersionAdmin(ServiceCreateMixin, HistoryAdmin):
    list_display = ("effective_from", *POLICY_PARAMETERS, "created_by", "note")
    list_filter = ("effective_from",)
    date_hierarchy = "effective_from"
    list_select_related = ("created_by",)
    fieldsets = (
        (None, {"fields": ("effective_from", "note")}),
        (_("parameters"), {"fields": POLICY_PARAMETERS}),
        (_("published"), {"fields": ("created_by", "created_at")}),
    )
    readonly_fields = ("created_by", "created_at")

    def get_changeform_initial_data(self, request):
        """A new version starts from the values in force now."""
        policy = policy_at(now())
        initial = {name: getattr(policy, name) for name in POLICY_PARAMETERS}
        initial["effective_from"] = now()
        return {**initial, **super().get_changeform_initial_data(request)}

    def create_with_service(self, request, form):
        data = form.cleaned_data
        return policy_publish(
            actor=request.user,
            effective_from=data["effective_from"],
            note=data.get("note", ""),
            **{name: data[name] for name in POLICY_PARAMETERS},
        )
