"""Admin of hotel registrations (SPEC §4, §7).

- Hotel stays: every stay of the hotels the user oversees; a clerk checks a guest in with a small
  form, or a whole guest list (CSV or Excel) all or nothing with a report of the bad rows.
- Current guests: who is checked in now, with their colour; clerks check guests out from here.
- Hotels overview: the hotels of a culture-and-tourism officer's district with their current
  guests counted by state (one aggregate query), read-only.

The screens only collect input and show results: the hotel services write, the selectors read.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from apps.accounts import access
from apps.accounts.choices import OrgKind
from apps.accounts.models import Organisation
from apps.accounts.throttling import lookup_check
from apps.core.admin import HistoryAdmin, ViewOnlyMixin, state_dot
from apps.core.errors import DomainError
from apps.core.forms import MomentFormField
from apps.evidence.choices import LabResultValue
from apps.people.admin import PersonIdSearchMixin
from apps.people.choices import IdType
from apps.status.choices import State

from . import selectors, services
from .guest_list import COLUMNS, GuestListError, parse_guest_list
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


# --- forms ----------------------------------------------------------------------------------------


class CheckInForm(forms.Form):
    hotel = forms.ModelChoiceField(
        label=_("hotel"), queryset=Organisation.objects.filter(kind=OrgKind.HOTEL), required=False
    )
    id_type = forms.ChoiceField(label=_("ID type"), choices=IdType.choices, initial=IdType.RESIDENT_ID)
    id_number = forms.CharField(label=_("ID number"), max_length=40)
    name = forms.CharField(label=_("name"), max_length=100, required=False)
    checked_in_at = MomentFormField(
        label=_("checked in at"), required=False, help_text=_("Empty: now. Beijing time, e.g. 2021-08-16 14:30.")
    )
    nat_sampled_at = MomentFormField(label=_("NAT sampled at"), required=False)
    nat_result = forms.ChoiceField(
        label=_("NAT result"), choices=[("", _("no NAT"))] + list(LabResultValue.choices), required=False
    )
    nat_at_hotel = forms.BooleanField(label=_("the test was taken at the hotel"), required=False)

    def __init__(self, *args, superuser: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not superuser:
            del self.fields["hotel"]

    def clean(self):
        cleaned = super().clean()
        sampled, result = cleaned.get("nat_sampled_at"), cleaned.get("nat_result")
        if sampled and not result:
            self.add_error("nat_result", _("Give the result of the NAT."))
        if result and not sampled:
            self.add_error("nat_sampled_at", _("Give the time the NAT was sampled."))
        return cleaned

    def guest(self) -> services.GuestInput:
        data = self.cleaned_data
        nat = None
        if data.get("nat_result") and data.get("nat_sampled_at"):
            nat = services.NatInput(
                sampled_at=data["nat_sampled_at"], result=data["nat_result"], at_hotel=data["nat_at_hotel"]
            )
        return services.GuestInput(
            id_type=data["id_type"],
            id_number=data["id_number"],
            name=data.get("name", ""),
            checked_in_at=data.get("checked_in_at"),
            nat=nat,
        )


class GuestListForm(forms.Form):
    hotel = forms.ModelChoiceField(
        label=_("hotel"), queryset=Organisation.objects.filter(kind=OrgKind.HOTEL), required=False
    )
    file = forms.FileField(label=_("guest list (.csv or .xlsx)"))

    def __init__(self, *args, superuser: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not superuser:
            del self.fields["hotel"]


def add_service_errors(form: forms.Form, exc: Exception) -> None:
    """A service's refusal shown on the form: field errors on their fields, the rest on top."""
    if isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            field = name if name in form.fields else None
            for error in errors:
                for message in error.messages:
                    form.add_error(field, f"{name}: {message}" if field is None else message)
        return
    form.add_error(None, getattr(exc, "message", None) or " ".join(getattr(exc, "messages", [str(exc)])))


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
        return [
            path("check-in/", wrap(self.check_in_view), name="hotels_hotelstay_check_in"),
            path("import/", wrap(self.import_view), name="hotels_hotelstay_import"),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "may_check_in": access.may(request.user, "hotel.check_in")}
        return super().changelist_view(request, extra_context)

    def _require_check_in(self, request):
        if not access.may(request.user, "hotel.check_in"):
            raise PermissionDenied

    def check_in_view(self, request):
        """Check one guest in (SPEC §4); the answer says what the check-in verified."""
        self._require_check_in(request)
        superuser = request.user.is_superuser
        form = CheckInForm(request.POST or None, superuser=superuser)
        if request.method == "POST" and form.is_valid():
            try:
                lookup_check(request.user, "hotel_checkin")  # a check-in tests an ID number
                outcome = services.hotel_check_in(
                    actor=request.user, guest=form.guest(), hotel=form.cleaned_data.get("hotel"), origin="admin"
                )
            except (ValidationError, DomainError) as exc:
                add_service_errors(form, exc)
            else:
                level = messages.SUCCESS if outcome.verified else messages.WARNING
                self.message_user(request, outcome.message, level)
                return redirect(reverse("admin:hotels_currentguest_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Check a guest in"),
            "form": form,
        }
        return TemplateResponse(request, "hotels/admin/check_in.html", context)

    def import_view(self, request):
        """Check in a guest list all or nothing: a bad row imports nothing and is reported."""
        self._require_check_in(request)
        form = GuestListForm(request.POST or None, request.FILES or None, superuser=request.user.is_superuser)
        report = None
        if request.method == "POST" and form.is_valid():
            try:
                guests, rejected = parse_guest_list(form.cleaned_data["file"])
            except GuestListError as exc:
                form.add_error("file", str(exc))
            else:
                try:
                    # Each row of a guest list tests an ID number.
                    lookup_check(request.user, "guest_import", count=len(guests))
                    outcome = services.hotel_check_in_bulk(
                        actor=request.user,
                        guests=guests,
                        rejected=rejected,
                        hotel=form.cleaned_data.get("hotel"),
                        origin="admin",
                    )
                except DomainError as exc:
                    add_service_errors(form, exc)
                else:
                    if outcome.ok:
                        verified = sum(1 for hs in outcome.created if hs.verified)
                        self.message_user(
                            request,
                            ngettext(
                                "%(n)d guest checked in (%(v)d verified by a valid NAT).",
                                "%(n)d guests checked in (%(v)d verified by a valid NAT).",
                                len(outcome.created),
                            )
                            % {"n": len(outcome.created), "v": verified},
                            messages.SUCCESS,
                        )
                        return redirect(reverse("admin:hotels_currentguest_changelist"))
                    report = [
                        (row, [(field, message) for field, msgs in errors.items() for message in msgs])
                        for row, errors in outcome.errors.items()
                    ]
                    self.message_user(
                        request,
                        _("Nothing was imported: correct the rows below and upload the whole list again."),
                        messages.ERROR,
                    )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Import a guest list"),
            "form": form,
            "report": report,
            "columns": [names for names in COLUMNS.values()],
        }
        return TemplateResponse(request, "hotels/admin/import.html", context)


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
    actions = ("check_out",)
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

    @admin.action(description=_("Check the selected guests out now"), permissions=["check_out"])
    def check_out(self, request, queryset):
        done, refused = 0, []
        for hotel_stay in queryset:
            try:
                services.hotel_check_out(actor=request.user, hotel_stay_id=hotel_stay.pk, origin="admin")
                done += 1
            except (ValidationError, DomainError) as exc:
                refused.append(f"{hotel_stay.person}: {getattr(exc, 'message', exc)}")
        if done:
            self.message_user(
                request,
                ngettext("%(n)d guest checked out.", "%(n)d guests checked out.", done) % {"n": done},
                messages.SUCCESS,
            )
        for line in refused:
            self.message_user(request, line, messages.ERROR)


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
