"""The states of a release review, its finding codes with their messages, and the decisions on it.

A finding is stored as its code, its parameters and its evidence ids; the message is rendered from
`FINDING_MESSAGES[code] % params` when it is read, so it follows the reader's language and a
translation fixed later reaches every stored finding."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ReviewStatus(models.TextChoices):
    PENDING = "pending", _("pending")
    CLEAN = "clean", _("clean")
    FLAGGED = "flagged", _("flagged")


class FindingCode(models.TextChoices):
    """Stable codes (API.md "Release reviews"); the label is the short name lists and filters show."""

    NAT_NOT_ON_RECORD = "nat_not_on_record", _("negative NAT not on record")
    NAT_POSITIVE_ON_RECORD = "nat_positive_on_record", _("positive NAT on record")
    NO_ITINERARY_VERIFICATION = "no_itinerary_verification", _("no itinerary verification")
    NO_COMMITMENT_FILE = "no_commitment_file", _("no commitment letter file")
    HIGH_RISK_NOW = "high_risk_now", _("high-risk county now")
    BURST = "burst", _("many releases within an hour")
    OUTSIDE_HOURS = "outside_hours", _("outside working hours")
    RERAISED_SOON = "reraised_soon", _("popup came back soon")


FINDING_MESSAGES = {
    FindingCode.NAT_NOT_ON_RECORD: _(
        "The checklist says a negative NAT was seen, but no negative NAT sampled after %(after)s "
        "(the released evidence) was on record at the release."
    ),
    FindingCode.NAT_POSITIVE_ON_RECORD: _(
        "A positive NAT sampled at %(sampled_at)s, after the released evidence, was on record at the release."
    ),
    FindingCode.NO_ITINERARY_VERIFICATION: _(
        "No itinerary verification was recorded for the person in the %(days)s days before the release."
    ),
    FindingCode.NO_COMMITMENT_FILE: _(
        "The commitment letter is ticked as signed, but no file is attached to the release."
    ),
    FindingCode.HIGH_RISK_NOW: _("The released evidence names %(counties)s, high risk at the time of this review."),
    FindingCode.BURST: _(
        "%(actor)s released %(count)s persons within the hour up to this release (the policy allows %(limit)s)."
    ),
    FindingCode.OUTSIDE_HOURS: _(
        "Released at %(time)s, outside the working hours of %(start)s:00 to %(end)s:00 (Beijing time)."
    ),
    FindingCode.RERAISED_SOON: _(
        "The popup came back at %(since)s, %(hours)s hours after the release (the policy's window is %(limit)s hours)."
    ),
}


class DecisionKind(models.TextChoices):
    """An auditor confirms a flagged release or refers it to the CDC; a CDC officer closes a
    referral once handled."""

    CONFIRMED = "confirmed", _("confirmed")
    REFERRED = "referred", _("referred to the CDC")
    CLOSED = "closed", _("referral closed by the CDC")


AUDITOR_DECISIONS = (DecisionKind.CONFIRMED, DecisionKind.REFERRED)
AUDITOR_DECISION_CHOICES = [(k.value, k.label) for k in AUDITOR_DECISIONS]
