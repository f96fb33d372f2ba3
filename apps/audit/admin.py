"""Admin of the audit: every manual change and every look-up of one person's record. Append-only:
seen, never added, changed or deleted here (SPEC §5, §7). Auditors see all of it, so these lists
are not limited to the persons a user may see."""

import datetime as dt
import json

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.db.models import Q
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext_lazy as _

from apps.core.admin import AppendOnlyMixin, BaseAdmin, BigTableMixin, pretty_json
from apps.core.clock import LOCAL_TZ, now
from apps.core.exports import csv_response
from apps.people.admin import PersonIdSearchMixin

from .choices import AuditKind
from .models import AccessLog, AuditCheckpoint, AuditEvent, AuditLeaf, AuditLeafPurge
from .services import audit_event_record

# At most this many rows an export: narrow the list (date, kind, person) for more.
EXPORT_MAX_ROWS = 100_000


def _person(person) -> str:
    return f"{person.display_name} {person.display_id} ({person.ref})" if person else ""


def _export(request, queryset, name: str, header: list[str], row):
    """The selected rows as CSV for the auditor, the persons masked; the export is audited. Past
    EXPORT_MAX_ROWS the file ends with a row saying how many were left out, never silently."""
    total = queryset.count()
    shown = queryset.order_by("at", "id")[:EXPORT_MAX_ROWS]
    audit_event_record(
        kind=AuditKind.AUDIT_EXPORTED,
        actor=request.user,
        detail={"list": name, "rows": min(total, EXPORT_MAX_ROWS), "selected": total},
    )

    def rows():
        yield from (row(obj) for obj in shown.iterator(chunk_size=2000))
        if total > EXPORT_MAX_ROWS:
            left = total - EXPORT_MAX_ROWS
            yield [_("%(count)d more rows not exported: narrow the list (dates, kind, person).") % {"count": left}]

    stamp = now().astimezone(LOCAL_TZ).strftime("%Y%m%d-%H%M")
    return csv_response(f"{name}-{stamp}.csv", header, rows())


class DateRangeFilter(admin.DateFieldListFilter):
    """The admin's date links (today, past 7 days, this month, this year) and a from / to form of
    dates, both days in Beijing time and the "to" day included; no query over the table to offer
    them (a date hierarchy's would be a DISTINCT over every row)."""

    template = "audit/admin/date_range_filter.html"

    def __init__(self, field, request, params, model, model_admin, field_path):
        self.lookup_kwarg_to = f"{field_path}__lte"
        for key in [key for key, value in params.items() if key.startswith(f"{field_path}__")]:
            if all(v == "" for v in (params[key] if isinstance(params[key], list) else [params[key]])):
                params.pop(key)  # an empty input of the form: no bound
        super().__init__(field, request, params, model, model_admin, field_path)

    def expected_parameters(self):
        return [*super().expected_parameters(), self.lookup_kwarg_to]

    @staticmethod
    def _bound(value: str, *, after: bool) -> dt.datetime:
        """A day's start in Beijing time (the next day's with `after`), or a moment as written
        (the links write aware moments; a naive one is Beijing time)."""
        day = parse_date(value) if len(value) == 10 else None
        if day is not None:
            return dt.datetime.combine(day + dt.timedelta(days=1 if after else 0), dt.time(), LOCAL_TZ)
        moment = parse_datetime(value)
        if moment is None:
            raise ValueError(value)
        return moment if moment.tzinfo else moment.replace(tzinfo=LOCAL_TZ)

    def queryset(self, request, queryset):
        bounds = Q()
        try:
            for key, values in self.used_parameters.items():
                value = values[-1] if isinstance(values, list) else values
                if key == self.lookup_kwarg_since:
                    bounds &= Q(**{key: self._bound(value, after=False)})
                elif key == self.lookup_kwarg_until:
                    bounds &= Q(**{key: self._bound(value, after=False)})
                elif key == self.lookup_kwarg_to:  # the day given included: before the next one
                    bounds &= Q(**{self.lookup_kwarg_until: self._bound(value, after=len(value) == 10)})
        except (ValueError, OverflowError) as exc:
            raise IncorrectLookupParameters(exc) from exc
        return queryset.filter(bounds)

    def choices(self, changelist):
        def day(key):
            value = self.date_params.get(key, "")
            return value if len(value) == 10 and parse_date(value) else ""

        self.range_form = {
            "since_name": self.lookup_kwarg_since,
            "since": day(self.lookup_kwarg_since),
            "to_name": self.lookup_kwarg_to,
            "to": day(self.lookup_kwarg_to),
            "hidden": [(k, v) for k, v in changelist.params.items() if not k.startswith(self.field_generic)],
        }
        yield from super().choices(changelist)


class ActorFilter(admin.RelatedFieldListFilter):
    """The users, by user name (staff, and the partner systems' accounts that rotate or revoke
    their tokens), and "-" for the events no one made (tasks, commands)."""

    def field_choices(self, field, request, model_admin):
        return field.get_choices(include_blank=False, ordering=("username",))


class OrganisationFilter(admin.RelatedFieldListFilter):
    def field_choices(self, field, request, model_admin):
        return field.get_choices(include_blank=False, ordering=("code",))


@admin.register(AuditEvent)
class AuditEventAdmin(PersonIdSearchMixin, AppendOnlyMixin, BigTableMixin, BaseAdmin):
    # `kind` and `origin` are shown by their labels (their choices).
    list_display = ("at", "kind", "actor", "actor_org", "person", "origin", "short_reason")
    # Every filter's choices are known without reading the table (the kinds are AuditKind).
    list_filter = (
        "kind",
        ("actor", ActorFilter),
        ("actor_org", OrganisationFilter),
        "origin",
        ("at", DateRangeFilter),
    )
    search_fields = ("kind__exact", "actor__username")
    search_help_text = _("The event kind, the staff user name, or the person's full ID number or reference.")
    list_select_related = ("actor", "actor_org", "person")
    fields = ("at", "kind", "actor", "actor_org", "person", "origin", "reason", "detail_display")
    readonly_fields = fields
    actions = ("export_csv",)

    @admin.action(description=_("Export the selected events (CSV)"), permissions=["view"])
    def export_csv(self, request, queryset):
        return _export(
            request,
            queryset.select_related("actor", "actor_org", "person"),
            "audit-events",
            [
                str(_("at")),
                str(_("kind")),
                str(_("actor")),
                str(_("organisation")),
                str(_("person")),
                str(_("origin")),
                str(_("reason")),
                str(_("detail")),
            ],
            lambda e: [
                e.at.astimezone(LOCAL_TZ).isoformat(),
                e.kind,
                e.actor.username if e.actor else "",
                e.actor_org.code if e.actor_org else "",
                _person(e.person),
                e.origin,
                e.reason,
                json.dumps(e.detail, ensure_ascii=False),
            ],
        )

    @admin.display(description=_("reason"))
    def short_reason(self, obj):
        reason = obj.reason or ""
        return reason if len(reason) <= 60 else reason[:59] + "…"

    @admin.display(description=_("detail"))
    def detail_display(self, obj):
        return pretty_json(obj.detail)


@admin.register(AccessLog)
class AccessLogAdmin(PersonIdSearchMixin, AppendOnlyMixin, BigTableMixin, BaseAdmin):
    list_display = ("at", "actor", "person", "via", "why")
    list_filter = ("via", ("actor", ActorFilter), ("at", DateRangeFilter))
    search_fields = ("actor__username",)
    search_help_text = _("The staff user name, or the person's full ID number or reference.")
    list_select_related = ("actor", "person")
    fields = ("at", "actor", "person", "via", "why")
    readonly_fields = fields
    actions = ("export_csv",)

    @admin.action(description=_("Export the selected look-ups (CSV)"), permissions=["view"])
    def export_csv(self, request, queryset):
        return _export(
            request,
            queryset.select_related("actor", "person"),
            "access-log",
            [str(_("at")), str(_("actor")), str(_("person")), str(_("via")), str(_("why"))],
            lambda a: [a.at.astimezone(LOCAL_TZ).isoformat(), a.actor.username, _person(a.person), a.via, a.why],
        )


# --- the sealed audit (apps.audit.chain): digests, ids and signatures, nothing personal -------------


@admin.register(AuditCheckpoint)
class AuditCheckpointAdmin(AppendOnlyMixin, BigTableMixin, BaseAdmin):
    list_display = ("size", "at", "root", "kid")
    fields = ("size", "at", "root", "signature", "kid")
    readonly_fields = fields


@admin.register(AuditLeaf)
class AuditLeafAdmin(AppendOnlyMixin, BigTableMixin, BaseAdmin):
    list_display = ("seq", "source", "row_id", "at", "leaf_hash")
    list_filter = ("source",)
    fields = ("seq", "source", "row_id", "at", "digest", "leaf_hash")
    readonly_fields = fields


@admin.register(AuditLeafPurge)
class AuditLeafPurgeAdmin(AppendOnlyMixin, BigTableMixin, BaseAdmin):
    list_display = ("leaf", "purged_at")
    fields = ("leaf", "purged_at")
    readonly_fields = fields
    list_select_related = ("leaf",)
