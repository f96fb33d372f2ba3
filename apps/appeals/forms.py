"""The forms of the appeal screens of the admin (SPEC §6): the intake of a call, and one form per
step on an appeal's page. They only collect input; the appeal services decide, and their errors
land on these forms' fields (`apps.core.admin_actions`). The steps that release popups take the
release checklist of casework (`ChecklistMixin`)."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from apps.accounts.choices import OrgKind
from apps.accounts.models import Organisation
from apps.casework.forms import DATETIME_INPUT, ChecklistMixin, localised
from apps.casework.services import CHECKLIST
from apps.core.forms import MomentFormField
from apps.people.choices import IdType

from . import services
from .choices import DEADLINE_HOURS, Category, Channel


def _category_choices():
    return [(value, f"{label} — {DEADLINE_HOURS[value]} h") for value, label in Category.choices]


class IntakeForm(forms.Form):
    """The call as the operator takes it. No name: persons and their names come from the feeds
    (SPEC §7), an appeal never creates or renames one."""

    id_type = forms.ChoiceField(label=_("ID type"), choices=IdType.choices, initial=IdType.RESIDENT_ID)
    id_number = forms.CharField(label=_("ID number"), max_length=40)
    channel = forms.ChoiceField(label=_("channel"), choices=Channel.choices)
    category = forms.ChoiceField(label=_("category (deadline)"), choices=_category_choices)
    description = forms.CharField(label=_("what the caller reports"), widget=forms.Textarea(attrs={"rows": 4}))
    caller_phone = forms.CharField(label=_("caller's phone"), max_length=24, required=False)


class RouteForm(forms.Form):
    routed_to = forms.ModelChoiceField(
        label=_("route to"),
        queryset=Organisation.objects.filter(kind__in=(OrgKind.COMMUNITY, OrgKind.CDC), is_active=True),
    )
    reason = forms.CharField(label=_("reason"), widget=forms.Textarea(attrs={"rows": 2}))


class ResolveForm(ChecklistMixin):
    """The resolution for the caller; releasing the person's popups with it takes the checklist."""

    resolution = forms.CharField(label=_("resolution for the caller"), widget=forms.Textarea(attrs={"rows": 3}))
    release_popups = forms.BooleanField(label=_("release the person's popups"), required=False)

    field_order = ("resolution", "release_popups", *CHECKLIST)

    def releases(self, cleaned: dict) -> bool:
        return bool(cleaned.get("release_popups"))


class NoteForm(forms.Form):
    note = forms.CharField(label=_("note"), required=False)


class RejectForm(forms.Form):
    reason = forms.CharField(label=_("reason for the caller"), widget=forms.Textarea(attrs={"rows": 2}))


def _moment_field(label, *, required: bool = True, help_text: str = "") -> MomentFormField:
    return MomentFormField(
        label=label,
        required=required,
        input_formats=[DATETIME_INPUT, "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_INPUT),
        help_text=help_text,
    )


class PlaceForm(forms.Form):
    """One county the caller stayed in, with when."""

    area_code = forms.CharField(
        label=_("county code"),
        max_length=6,
        widget=forms.TextInput(
            attrs={"list": "on-call-counties", "inputmode": "numeric", "autocomplete": "off", "size": 8}
        ),
        help_text=_("Six digits; the counties of the caller's cities are offered."),
    )
    arrived_at = _moment_field(_("arrived"))
    departed_at = _moment_field(_("departed"), required=False, help_text=_("Empty: still there."))


PlaceFormSet = forms.formset_factory(
    PlaceForm, extra=2, min_num=1, validate_min=True, max_num=services.MAX_PLACES, validate_max=True
)


class ItineraryForm(forms.Form):
    """The caller's itinerary, verified county by county on the call (SPEC §4, §6): the places
    are a formset of their own (`places`), validated with the form."""

    entered_beijing_at = _moment_field(
        _("entered Beijing at"),
        required=False,
        help_text=_("A negative NAT sampled within 48 hours before it lets the itinerary clear the popup by itself."),
    )
    reason = forms.CharField(label=_("how the itinerary was verified"), widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, data=None, *args, prefix=None, **kwargs):
        super().__init__(data, *args, prefix=prefix, **kwargs)
        self.places = PlaceFormSet(data, prefix=f"{prefix or 'itinerary'}-places")
        self._rows: list[int] = []

    def is_valid(self) -> bool:
        valid = super().is_valid()
        places_valid = self.places.is_valid()
        if not (valid and places_valid):
            return False
        rows = [(i, f.cleaned_data) for i, f in enumerate(self.places.forms) if f.cleaned_data]
        self._rows = [i for i, _data in rows]
        self.cleaned_data["entered_beijing_at"] = localised(self.cleaned_data.get("entered_beijing_at"))
        self.cleaned_data["places"] = [
            {
                "area_code": data["area_code"].strip(),
                "arrived_at": localised(data["arrived_at"]),
                "departed_at": localised(data.get("departed_at")),
            }
            for _i, data in rows
        ]
        return True

    def place_service_errors(self, exc: ValidationError) -> ValidationError | None:
        """The service's `places[i].field` errors on the place's row (`apps.core.admin_actions.
        put_errors`); the rest, to go on this form."""
        if not hasattr(exc, "error_dict"):
            return exc
        rest = {}
        for name, errors in exc.error_dict.items():
            head, _dot, field = name.partition("].")
            if head.startswith("places[") and head[7:].isdigit() and int(head[7:]) < len(self._rows):
                place = self.places.forms[self._rows[int(head[7:])]]
                for error in errors:
                    place.add_error(field if field in place.fields else None, error.messages)
            else:
                rest[name] = errors
        return ValidationError(rest) if rest else None


class ReleaseOnCallForm(ChecklistMixin):
    """Popup ③ released on the call, with the reason and the checklist (SPEC §5, §6)."""

    reason = forms.CharField(label=_("reason"), widget=forms.Textarea(attrs={"rows": 2}))
    field_order = ("reason", *CHECKLIST)
