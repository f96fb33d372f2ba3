"""Admin of hotel stays: guests are checked in and out through the hotel services; staff see the
stays of the guests they may see."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from apps.core.admin import HistoryAdmin, PersonScopedAdminMixin, SuperuserWritesMixin

from .models import HotelStay


class CheckedInFilter(admin.SimpleListFilter):
    title = _("checked in")
    parameter_name = "checked_in"

    def lookups(self, request, model_admin):
        return (("yes", _("still checked in")), ("no", _("checked out")))

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(checked_out_at__isnull=self.value() == "yes")
        return queryset


@admin.register(HotelStay)
class HotelStayAdmin(PersonScopedAdminMixin, SuperuserWritesMixin, HistoryAdmin):
    list_display = ("checked_in_at", "person", "hotel", "checked_out_at", "has_nat", "registered_by")
    list_filter = (CheckedInFilter, "checked_in_at")
    search_fields = ("person__ref__exact", "hotel__code__exact", "hotel__name")
    search_help_text = _("The guest's full ID number or reference, or the hotel's code or name.")
    date_hierarchy = "checked_in_at"
    list_select_related = ("person", "hotel", "registered_by")
    autocomplete_fields = ("person", "hotel", "registered_by", "checked_out_by")
    raw_id_fields = ("nat", "stay", "declaration")
    fieldsets = (
        (None, {"fields": ("hotel", "person", "checked_in_at", "registered_by", "nat")}),
        (_("check-out"), {"fields": ("checked_out_at", "checked_out_by")}),
        (_("records"), {"fields": ("stay", "declaration"), "classes": ("collapse",)}),
    )

    @admin.display(description=_("NAT on record"), boolean=True)
    def has_nat(self, obj):
        return obj.nat_id is not None
