"""Admin of the audit: every manual change and every look-up of one person's record. Append-only:
seen, never added, changed or deleted here (SPEC §5, §7). Auditors see all of it, so these lists
are not limited to the persons a user may see."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from apps.core.admin import AppendOnlyMixin, BaseAdmin, BigTableMixin, PersonIdSearchMixin, pretty_json

from .models import AccessLog, AuditEvent


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
