"""Admin of hotel registrations (SPEC §4, §7): configuration only.

- Hotel stays: every stay of the hotels the user oversees; a clerk checks a guest in with a small
  form, or a whole guest list (CSV or Excel) all or nothing with a report of the bad rows.
- Current guests: who is checked in now, with their colour; clerks check guests out from here.
- Hotels overview: the hotels of a culture-and-tourism officer's district with their current
  guests counted by state (one aggregate query), read-only.

The screens (check-in, guest-list import, check-out) are in `apps.hotels.admin_views`, wired here;
the hotel services write, the selectors read.
"""

from django.contrib import admin
from django.urls import path
from django.utils.translation import gettext_lazy as _

from apps.accounts import access
from apps.core.admin import HistoryAdmin, ViewOnlyMixin, state_dot
from apps.people.admin import PersonIdSearchMixin
from apps.status.choices import State

from . import admin_views, selectors, services
from .models import CurrentGuest, HotelOverview, HotelStay


class CheckedInFilter(admin.SimpleListFilter):
    title = _("checked in")
    parameter_name = "checked_in"

    def lookups(self, request, model_admin):
        return (("yes", _("still checked in")), ("no", _("checked out")))

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(checked_out_at__isnull=self.value() == "yes")
        return queryset


# --- hotel stays ------------------------------------------------------------------------------------


class HotelScopedMixin:
    """The stays of the hotels the user oversees (hotel staff: their own, within the look-back
    window; tourism officers: their district's current guests; CDC: all)."""

    def get_queryset(self, request):
        return selectors.hotel_stays_visible_to(request.user, super().get_queryset(request))


@admin.register(HotelStay)
class HotelStayAdmin(HotelScopedMixin, PersonIdSearchMixin, HistoryAdmin):
    change_list_template = "hotels/admin/hotelstay_change_list.html"
    list_display = (
        "checked_in_at",
        "person",
        "hotel",
        "checked_out_at",
        "verified_display",
        "nat_result",
        "registered_by",
    )
    list_filter = (CheckedInFilter, "nat_result", "nat_at_hotel", "checked_in_at")
    search_fields = ("hotel__code__exact", "hotel__name")
    search_help_text = _("The guest's full ID number or reference, or the hotel's code or name.")
    date_hierarchy = "checked_in_at"
    list_select_related = ("person", "hotel", "registered_by")
    fieldsets = (
        (None, {"fields": ("hotel", "person", "checked_in_at", "registered_by")}),
        (_("NAT"), {"fields": ("nat_sampled_at", "nat_result", "nat_at_hotel", "nat")}),
        (_("check-out"), {"fields": ("checked_out_at", "checked_out_by")}),
        (_("records"), {"fields": ("stay", "declaration"), "classes": ("collapse",)}),
    )
    readonly_fields = (
        "hotel",
        "person",
        "checked_in_at",
        "registered_by",
        "nat_sampled_at",
        "nat_result",
        "nat_at_hotel",
        "nat",
        "checked_out_at",
        "checked_out_by",
        "stay",
        "declaration",
    )

    # Rows are written by the check-in and check-out services only.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("verified"), boolean=True)
    def verified_display(self, obj):
        return obj.declaration_id is not None

    def get_urls(self):
        wrap = self.admin_site.admin_view
        check_in = admin_views.CheckInView.as_view(model_admin=self)
        import_list = admin_views.GuestListImportView.as_view(model_admin=self)
        return [
            path("check-in/", wrap(check_in), name="hotels_hotelstay_check_in"),
            path("import/", wrap(import_list), name="hotels_hotelstay_import"),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "may_check_in": access.may(request.user, "hotel.check_in")}
        return super().changelist_view(request, extra_context)


# --- current guests -------------------------------------------------------------------------------


class GuestStateFilter(admin.SimpleListFilter):
    title = _("colour")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return State.choices

    def queryset(self, request, queryset):
        if self.value() in State.values:
            return queryset.filter(person__status__state=self.value())
        return queryset


@admin.register(CurrentGuest)
class CurrentGuestAdmin(ViewOnlyMixin, PersonIdSearchMixin, HistoryAdmin):
    """The guests checked in now, with their colour, oldest check-in first."""

    list_display = ("person", "colour", "hotel", "checked_in_at", "verified_display", "registered_by")
    list_filter = (GuestStateFilter,)
    search_fields = ("hotel__code__exact", "hotel__name")
    search_help_text = _("The guest's full ID number or reference, or the hotel's code or name.")
    list_select_related = ("person", "person__status", "hotel", "registered_by")
    actions = (admin_views.check_out,)
    fields = ("hotel", "person", "checked_in_at", "registered_by", "nat_sampled_at", "nat_result", "nat_at_hotel")
    readonly_fields = fields

    def get_queryset(self, request):
        return selectors.current_guests(request.user).select_related("person__status", "registered_by")

    def changelist_view(self, request, extra_context=None):
        # Colours are never shown stale: statuses due or marked dirty are recomputed first.
        ids = list(self.get_queryset(request).values_list("person_id", flat=True)[:2000])
        services.guests_status_refresh(ids)
        return super().changelist_view(request, extra_context)

    @admin.display(description=_("colour"), ordering="person__status__state")
    def colour(self, obj):
        return state_dot(getattr(obj.person, "status", None), empty=_("not computed yet"))

    @admin.display(description=_("verified"), boolean=True)
    def verified_display(self, obj):
        return obj.declaration_id is not None

    def has_check_out_permission(self, request):
        return access.may(request.user, "hotel.check_out")


# --- the district's hotels --------------------------------------------------------------------------


@admin.register(HotelOverview)
class HotelOverviewAdmin(ViewOnlyMixin, HistoryAdmin):
    """The hotels a culture-and-tourism officer oversees, with their current guests by colour."""

    list_display = ("name", "code", "area", "guests", "green", "popup", "yellow", "red")
    search_fields = ("code__exact", "name")
    fields = ("name", "code", "area", "parent", "guests", "green", "popup", "yellow", "red")
    readonly_fields = fields
    ordering = ("code",)

    def get_queryset(self, request):
        return selectors.hotels_overview(request.user, super().get_queryset(request))

    @admin.display(description=_("current guests"), ordering="guests")
    def guests(self, obj):
        return obj.guests

    @admin.display(description=State.GREEN.label, ordering="green")
    def green(self, obj):
        return obj.green

    @admin.display(description=State.POPUP.label, ordering="popup")
    def popup(self, obj):
        return obj.popup

    @admin.display(description=State.YELLOW.label, ordering="yellow")
    def yellow(self, obj):
        return obj.yellow

    @admin.display(description=State.RED.label, ordering="red")
    def red(self, obj):
        return obj.red
