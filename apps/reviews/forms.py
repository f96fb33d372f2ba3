"""The forms of the review screens: an auditor's decision, the CDC closing a referral."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .choices import AUDITOR_DECISION_CHOICES


class DecisionForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Decision"),
        choices=AUDITOR_DECISION_CHOICES,
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)
    ids = forms.CharField(widget=forms.HiddenInput, required=False)


class CloseForm(forms.Form):
    reason = forms.CharField(label=_("What the CDC did"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)
