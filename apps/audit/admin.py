"""Admin of the audit: every manual change and every look-up of one person's record. Append-only:
seen, never added, changed or deleted here (SPEC §5, §7). Auditors see all of it, so these lists
are not limited to the persons a user may see."""

import json

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from apps.core.admin import AppendOnlyMixin, BaseAdmin, BigTableMixin, PersonIdSearchMixin, pretty_json
from apps.core.clock import LOCAL_TZ, now
from apps.core.exports import csv_response

from .models import AccessLog, AuditEvent
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
        kind="audit.exported",
        actor=request.user,
        detail={"list": name, "rows": min(total, EXPORT_MAX_ROWS), "selected": total},
        origin="admin",
    )

    def rows():
        yield from (row(obj) for obj in shown.iterator(chunk_size=2000))
        if total > EXPORT_MAX_ROWS:
            left = total - EXPORT_MAX_ROWS
            yield [_("%(count)d more rows not exported: narrow the list (dates, kind, person).") % {"count": left}]

    stamp = now().astimezone(LOCAL_TZ).strftime("%Y%m%d-%H%M")
    return csv_response(f"{name}-{stamp}.csv", header, rows())


@admin.register(AuditEvent)
class AuditEventAdmin(PersonIdSearchMixin, AppendOnlyMixin, BigTableMixin, BaseAdmin):
    list_display = ("at", "kind", "actor", "actor_org", "person", "origin", "short_reason")
    # No filter on `kind`: its choices would need a DISTINCT over the whole table on every load.
    list_filter = ("origin", "at")
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
    list_filter = ("via", "at")
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
