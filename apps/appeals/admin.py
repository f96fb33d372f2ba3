"""Admin of hotline appeals and their events. Appeals are opened, routed and resolved through
the appeal services; their events are append-only. The caller's phone appears masked only."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from apps.core.admin import (
    AppendOnlyMixin,
    BaseAdmin,
    HistoryAdmin,
    PersonScopedAdminMixin,
    ReadOnlyInline,
    SuperuserWritesMixin,
)
from apps.core.clock import now

from .choices import AppealStatus
from .models import Appeal, AppealEvent

OPEN_STATES = (AppealStatus.OPEN, AppealStatus.ROUTED, AppealStatus.IN_PROGRESS)


class OverdueFilter(admin.SimpleListFilter):
    title = _("deadline")
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return (("yes", _("overdue")), ("no", _("not overdue")))

    def queryset(self, request, queryset):
        overdue = {"status__in": OPEN_STATES, "due_at__lt": now()}
        if self.value() == "yes":
            return queryset.filter(**overdue)
        if self.value() == "no":
            return queryset.exclude(**overdue)
        return queryset


class AppealEventInline(ReadOnlyInline):
    model = AppealEvent
    fk_name = "appeal"
    fields = ("at", "from_status", "to_status", "routed_to", "actor", "reason")
    readonly_fields = fields
    show_change_link = False


@admin.register(Appeal)
class AppealAdmin(PersonScopedAdminMixin, SuperuserWritesMixin, HistoryAdmin):
    list_display = ("tracking_number", "person", "channel", "category", "status", "routed_to", "due_at", "is_overdue")
    list_filter = ("status", OverdueFilter, "channel", "category", "due_at")
    search_fields = ("tracking_number__exact",)
    search_help_text = _("The tracking number, or the person's full ID number or reference.")
    date_hierarchy = "created_at"
    list_select_related = ("person", "routed_to")
    autocomplete_fields = ("person", "routed_to", "opened_by")
    fieldsets = (
        (None, {"fields": ("tracking_number", "person", "channel", "category", "description", "caller_phone_display")}),
        (_("handling"), {"fields": ("status", "routed_to", "due_at", "opened_by")}),
        (_("resolution"), {"fields": ("resolved_at", "resolution")}),
        (_("timestamps"), {"fields": ("created_at", "updated_at"), "classes": ("collapse",)}),
    )
    readonly_fields = ("caller_phone_display", "created_at", "updated_at")
    inlines = (AppealEventInline,)

    @admin.display(description=_("overdue"), boolean=True)
    def is_overdue(self, obj):
        return obj.status in OPEN_STATES and obj.due_at < now()


@admin.register(AppealEvent)
class AppealEventAdmin(PersonScopedAdminMixin, AppendOnlyMixin, BaseAdmin):
    person_path = "appeal__person"
    list_display = ("at", "appeal", "from_status", "to_status", "routed_to", "actor")
    list_filter = ("to_status", "at")
    search_fields = ("appeal__tracking_number__exact",)
    search_help_text = _("The appeal's tracking number, or the person's full ID number or reference.")
    date_hierarchy = "at"
    list_select_related = ("appeal", "routed_to", "actor")
    fields = ("appeal", "at", "from_status", "to_status", "routed_to", "actor", "reason")
    readonly_fields = fields
