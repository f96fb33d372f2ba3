"""The forms of the casework screens of the admin. They only collect and shape input; the services
in `apps.casework.services` decide, and their field errors are put back next to the fields
(`apps.core.admin_actions`).

The release checklist (SPEC §5) is defined here once for every screen that releases: its items
(`services.CHECKLIST`), their labels and the error of an item left unconfirmed (`ChecklistMixin`),
used by the casework forms and by the appeal steps that release."""

import datetime as dt

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.core.clock import LOCAL_TZ, now
from apps.core.forms import MomentFormField
from apps.evidence.choices import OrderKind
from apps.status.engine.registry import circled

from .choices import RegistrationStatus
from .services import CHECKLIST

DATETIME_INPUT = "%Y-%m-%dT%H:%M"

CHECKLIST_LABELS = {
    "itinerary_verified": _("Itinerary verified (行程已核实)"),
    "nat_negative": _("Negative NAT on record or seen (核酸阴性已查验)"),
    "commitment_signed": _("Commitment letter signed (承诺书已签署)"),
}
CHECKLIST_REQUIRED = _("Confirm this item of the verification checklist before releasing.")


def localised(value: dt.datetime | None) -> dt.datetime | None:
    """A naive datetime from a `datetime-local` input is local (Asia/Shanghai) time."""
    if value is not None and value.tzinfo is None:
        value = value.replace(tzinfo=LOCAL_TZ)
    return value


class ChecklistMixin(forms.Form):
    """The three items of the release checklist (SPEC §5), all to be confirmed when the form
    releases (`releases`: always, unless a form says when)."""

    itinerary_verified = forms.BooleanField(label=CHECKLIST_LABELS["itinerary_verified"], required=False)
    nat_negative = forms.BooleanField(label=CHECKLIST_LABELS["nat_negative"], required=False)
    commitment_signed = forms.BooleanField(label=CHECKLIST_LABELS["commitment_signed"], required=False)

    def releases(self, cleaned: dict) -> bool:
        """Whether this submission releases popups, and so needs the checklist."""
        return True

    def clean(self):
        cleaned = super().clean()
        if self.releases(cleaned):
            for item in CHECKLIST:
                if not cleaned.get(item):
                    self.add_error(item, CHECKLIST_REQUIRED)
        return cleaned

    def checklist(self) -> dict:
        return {item: bool(self.cleaned_data.get(item)) for item in CHECKLIST}


REASON_LABEL = _("Reason")
REASON_HELP = _("What you checked and why: it is kept in the audit.")


def reason_field(label=REASON_LABEL, help_text=REASON_HELP):
    return forms.CharField(label=label, help_text=help_text, widget=forms.Textarea(attrs={"rows": 3}))


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several evidence files in one input (photos of the commitment letter, a test report)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data if d]
        return [single(data, initial)] if data else []


class BulkReleaseForm(ChecklistMixin):
    """Release popup ③ of the persons ticked in the work queue: one reason, one checklist."""

    person = forms.TypedMultipleChoiceField(
        label=_("Persons"), coerce=int, error_messages={"required": _("Tick at least one person in the list.")}
    )
    reason = reason_field()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The ticked ids are taken as given: the service skips whoever lies outside the jurisdiction.
        submitted = self.data.getlist("person") if hasattr(self.data, "getlist") else []
        self.fields["person"].choices = [(p, p) for p in dict.fromkeys(submitted)]


class PopupReleaseForm(ChecklistMixin):
    popup = forms.TypedChoiceField(label=_("Popup to release"), coerce=int, widget=forms.RadioSelect)
    reason = reason_field()
    files = MultipleFileField(
        label=_("Evidence files"),
        required=False,
        help_text=_("Optional: a photo of the commitment letter, a test report…"),
    )

    field_order = ("popup", "reason", *CHECKLIST, "files")

    def __init__(self, *args, popups=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["popup"].choices = [(p.pk, title or circled(p.number)) for p, title in popups]
        if len(popups) == 1:
            self.fields["popup"].initial = popups[0][0].pk


class OrderStartForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind of observation"), widget=forms.RadioSelect)
    starts_at = MomentFormField(
        label=_("Starts at"),
        required=False,
        input_formats=[DATETIME_INPUT, "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_INPUT),
        help_text=_("Leave empty to start now."),
    )
    days = forms.IntegerField(
        label=_("Days"),
        required=False,
        min_value=1,
        max_value=60,
        initial=14,
        help_text=_("How many days the observation lasts; empty: until it is ended."),
    )
    reason = reason_field()

    def __init__(self, *args, kinds=(OrderKind.HOME,), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [(k, OrderKind(k).label) for k in kinds]
        self.fields["kind"].initial = kinds[0] if kinds else None

    def clean_starts_at(self):
        return localised(self.cleaned_data.get("starts_at"))

    def period(self) -> tuple[dt.datetime | None, dt.datetime | None]:
        starts_at = self.cleaned_data.get("starts_at")
        days = self.cleaned_data.get("days")
        ends_at = (starts_at or now()) + dt.timedelta(days=days) if days else None
        return starts_at, ends_at


class OrderEndForm(forms.Form):
    reason = reason_field()


class RevealForm(forms.Form):
    reason = reason_field()


class VerificationForm(forms.Form):
    remote = forms.TypedChoiceField(
        label=_("How was the itinerary verified?"),
        choices=[("0", _("In person, at the community")), ("1", _("Remotely (phone, video, documents)"))],
        coerce=lambda v: v == "1",
        widget=forms.RadioSelect,
        initial="0",
    )
    declaration = forms.TypedChoiceField(label=_("Declaration checked"), coerce=int, required=False, empty_value=None)
    note = reason_field(label=_("Note"), help_text=_("What you checked: places, dates, documents."))

    def __init__(self, *args, declarations=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["declaration"].choices = [("", _("none"))] + [(d.pk, label) for d, label in declarations]


class RegistrationDecisionForm(ChecklistMixin):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[
            (RegistrationStatus.HOME_OBSERVATION, _("Home observation (居家观察)")),
            (RegistrationStatus.NO_ISOLATION, _("No isolation needed (无需隔离)")),
        ],
        widget=forms.RadioSelect,
    )
    observation_days = forms.IntegerField(
        label=_("Days of home observation"),
        required=False,
        min_value=1,
        max_value=60,
        help_text=_("Empty: the policy's look-back window (14 days)."),
    )
    release_popups = forms.BooleanField(
        label=_("Also release the person's active popups (needs the checklist)"), required=False
    )
    note = reason_field(label=_("Note"), help_text=_("Why you decided so: it is kept in the audit."))

    field_order = ("decision", "observation_days", "release_popups", *CHECKLIST, "note")

    def releases(self, cleaned: dict) -> bool:
        return cleaned.get("decision") == RegistrationStatus.NO_ISOLATION and bool(cleaned.get("release_popups"))

    def service_checklist(self) -> dict | None:
        return self.checklist() if self.releases(self.cleaned_data) else None


class CommunityForm(forms.Form):
    """A person's community of residence (SPEC §7): a community worker takes in a person who has
    none into their own community, or moves their own resident away; the CDC sets any."""

    community = forms.ModelChoiceField(
        label=_("Community of residence"),
        queryset=None,
        required=False,
        empty_label=_("none"),
    )
    reason = reason_field(label=_("Reason"), help_text=_("Why the person lives here, or why they moved away."))

    def __init__(self, *args, communities=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = communities
