"""The audit's vocabularies as choices (STYLE.md "Event kinds as an enum"): `AuditKind`, every
business event a service writes, and `Origin`, where it came from (defined in apps.core.origin,
the ground layer, because the row history records it too). The values are the strings stored in
`AuditEvent.kind` / `origin` and returned by the audit API: never change one, add a member."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.core.origin import Origin

__all__ = ["AccessVia", "AuditKind", "Origin"]


class AuditKind(models.TextChoices):
    """Every kind of manual change a service appends to the audit (`audit_event_record`)."""

    # casework: releases, observation orders, persons and their records
    POPUP_RELEASED = "popup.released", _("popup released")
    ORDER_STARTED = "order.started", _("observation order started")
    ORDER_ENDED = "order.ended", _("observation order ended")
    PERSON_CREATED = "person.created", _("person created")
    PERSON_CHANGED = "person.changed", _("person changed")
    REGISTRATION_DECIDED = "registration.decided", _("community registration decided")
    ITINERARY_VERIFIED = "itinerary.verified", _("itinerary verified")
    RECORD_ADDED = "record.added", _("record added")
    RECORD_CORRECTED = "record.corrected", _("record corrected")
    # appeals
    APPEAL_OPENED = "appeal.opened", _("appeal opened")
    APPEAL_ROUTED = "appeal.routed", _("appeal routed")
    APPEAL_STARTED = "appeal.started", _("appeal started")
    APPEAL_RESOLVED = "appeal.resolved", _("appeal resolved")
    APPEAL_REJECTED = "appeal.rejected", _("appeal rejected")
    APPEAL_ITINERARY_RECORDED = "appeal.itinerary_recorded", _("itinerary recorded on an appeal")
    APPEAL_RELEASED_ON_CALL = "appeal.released_on_call", _("popup released on the call")
    # reviews: the background review of each release and the decisions on it
    RELEASE_REVIEWED = "release.reviewed", _("release reviewed")
    RELEASE_REVIEW_CONFIRMED = "release_review.confirmed", _("release review confirmed")
    RELEASE_REVIEW_REFERRED = "release_review.referred", _("release review referred to the CDC")
    RELEASE_REVIEW_CLOSED = "release_review.closed", _("referred release review closed")
    # hotels
    HOTEL_CHECKED_IN = "hotel.checked_in", _("hotel check-in")
    HOTEL_CHECKED_OUT = "hotel.checked_out", _("hotel check-out")
    # policy: designations, border ports, the policy
    DESIGNATION_PUBLISHED = "designation.published", _("designation published")
    BORDER_PORT_PUBLISHED = "border_port.published", _("border port published")
    POLICY_PUBLISHED = "policy.published", _("policy published")
    # credentials: the trust list of other regions' keys (互认, SPEC §11)
    TRUST_LIST_CHANGED = "trust_list.changed", _("trust list changed")
    # accounts: tokens, second factor, lock-outs
    API_TOKEN_ISSUED = "api_token.issued", _("API token issued")
    API_TOKEN_REVOKED = "api_token.revoked", _("API token revoked")
    API_TOKEN_ROTATED = "api_token.rotated", _("API token rotated")
    SECOND_FACTOR_ENROLLED = "second_factor.enrolled", _("second factor enrolled")
    SECOND_FACTOR_RESET = "second_factor.reset", _("second factor reset")
    LOGIN_UNLOCKED = "login.unlocked", _("login unlocked")
    # the audit and retention themselves
    AUDIT_EXPORTED = "audit.exported", _("audit exported")
    RETENTION_PURGED = "retention.purged", _("expired data purged")


class AccessVia(models.TextChoices):
    """Where a staff look-up of one person's record was made (`AccessLog.via`)."""

    ADMIN = "admin", _("admin site")
    API = "api", _("API")
    AUDIT = "audit", _("audit read")
    REVEAL = "reveal", _("identity revealed")
