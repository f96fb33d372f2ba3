"""The forms of the hotel screens of the admin (SPEC §4): a guest checked in by hand, a guest list
uploaded. They only collect input; the hotel services decide."""

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.accounts.choices import OrgKind
from apps.accounts.models import Organisation
from apps.core.forms import MomentFormField
from apps.evidence.choices import LabResultValue
from apps.people.choices import IdType

from . import services


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
