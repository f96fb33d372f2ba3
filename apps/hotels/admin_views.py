"""The hotel screens of the admin (SPEC §4), wired by the hotel admins, which keep only
configuration: a clerk checks a guest in with a small form, or a whole guest list (CSV or Excel)
all or nothing with a report of the bad rows (`apps.core.admin_actions.ActionView`), and checks
guests out from the list of current guests (an admin action). The screens only collect input and
show results: the hotel services write."""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from apps.accounts import access
from apps.accounts.throttling import lookup_check
from apps.core.admin_actions import ActionView, Done, error_text, report_bulk
from apps.core.errors import DomainError

from . import services
from .forms import CheckInForm, GuestListForm
from .guest_list import COLUMNS, GuestListError, parse_guest_list


class HotelAction(ActionView):
    """A clerk's action on their hotel's guests (403 for other roles); done, the current guests.
    A refusal of the service (not a hotel's clerk, say) is said above the form."""

    def load(self):
        access.require(self.request.user, "hotel.check_in")

    def get_form_kwargs(self) -> dict:
        return {"superuser": self.request.user.is_superuser}

    def success_url(self) -> str:
        return reverse("admin:hotels_currentguest_changelist")

    def refused(self, exc, form=None):
        if form is None:
            return super().refused(exc)
        form.add_error(None, exc.message)
        return self.show(form, status=exc.status_code)


class CheckInView(HotelAction):
    """Check one guest in (SPEC §4); the answer says what the check-in verified."""

    form_class = CheckInForm
    template_name = "hotels/admin/check_in.html"
    title = _("Check a guest in")

    def perform(self, form) -> Done:
        lookup_check(self.request.user, "hotel_checkin")  # a check-in tests an ID number
        outcome = services.hotel_check_in(
            actor=self.request.user, guest=form.guest(), hotel=form.cleaned_data.get("hotel"), origin="admin"
        )
        return Done(outcome.message, level=messages.SUCCESS if outcome.verified else messages.WARNING)


class GuestListImportView(HotelAction):
    """Check in a guest list all or nothing: a bad row imports nothing and is reported."""

    form_class = GuestListForm
    template_name = "hotels/admin/import.html"
    title = _("Import a guest list")
    report = None

    def get_context_data(self, form) -> dict:
        return {
            **super().get_context_data(form),
            "report": self.report,
            "columns": [names for names in COLUMNS.values()],
        }

    def perform(self, form):
        try:
            guests, rejected = parse_guest_list(form.cleaned_data["file"])
        except GuestListError as exc:
            raise ValidationError({"file": [str(exc)]}) from exc
        # Each row of a guest list tests an ID number.
        lookup_check(self.request.user, "guest_import", count=len(guests))
        outcome = services.hotel_check_in_bulk(
            actor=self.request.user,
            guests=guests,
            rejected=rejected,
            hotel=form.cleaned_data.get("hotel"),
            origin="admin",
        )
        if not outcome.ok:
            self.report = [
                (row, [(field, message) for field, msgs in errors.items() for message in msgs])
                for row, errors in outcome.errors.items()
            ]
            messages.error(
                self.request, _("Nothing was imported: correct the rows below and upload the whole list again.")
            )
            return self.show(form)
        verified = sum(1 for hs in outcome.created if hs.verified)
        return ngettext(
            "%(n)d guest checked in (%(v)d verified by a valid NAT).",
            "%(n)d guests checked in (%(v)d verified by a valid NAT).",
            len(outcome.created),
        ) % {"n": len(outcome.created), "v": verified}


@admin.action(description=_("Check the selected guests out now"), permissions=["check_out"])
def check_out(modeladmin, request, queryset):
    """Check the ticked guests out now, one service call each; a refused row is named."""
    done, refused = 0, []
    for hotel_stay in queryset:
        try:
            services.hotel_check_out(actor=request.user, hotel_stay_id=hotel_stay.pk, origin="admin")
            done += 1
        except (ValidationError, DomainError) as exc:
            refused.append(f"{hotel_stay.person}: {error_text(exc)}")
    report_bulk(
        modeladmin,
        request,
        done=done,
        refused=refused,
        message=ngettext("%(n)d guest checked out.", "%(n)d guests checked out.", done) % {"n": done},
    )
