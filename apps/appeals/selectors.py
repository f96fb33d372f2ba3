"""Reads of appeals: which appeals a user may follow, the hotline's view of one appeal (with the
person's masked status and reasons), the overdue ones, and the caller's popup ③ evidence as the
hotline sees it on the call (SPEC §6)."""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q
from django.utils.translation import gettext as _

from apps.accounts import access
from apps.areas.choices import AreaLevel
from apps.areas.models import Area
from apps.core.clock import local_iso, now
from apps.evidence.choices import EvidenceOrigin
from apps.evidence.models import ItineraryDeclaration
from apps.status.engine.rules import popup3_risk_area as rule3
from apps.status.engine.rules.common import STAY, when
from apps.status.presentation import reason_shown
from apps.status.selectors import person_facts
from apps.status.services import status_current

from .choices import OPEN_STATES
from .models import Appeal


def appeals_visible_to(user, queryset=None):
    """The appeals a user may follow (apps.accounts.access: those their hotline centre opened,
    those routed to their community, all for the CDC)."""
    return (Appeal.objects.all() if queryset is None else queryset).visible_to(user)


def appeals_to_resolve(user):
    """The open appeals the user resolves (apps.accounts.access.appeals_to_resolve): the appeals of
    casework's work queue, which reaches them through the door `apps.core.doors.appeals_to_resolve`."""
    return access.appeals_to_resolve(user, Appeal.objects.filter(status__in=OPEN_STATES))


def overdue_q(at: dt.datetime) -> Q:
    """Appeals still open after their deadline (at `due_at` itself not yet)."""
    return Q(status__in=OPEN_STATES, due_at__lt=at)


def appeal_json(appeal: Appeal, at: dt.datetime, *, events: bool = False) -> dict:
    """An appeal as the API shows it: the person masked, the caller's phone masked."""
    body = {
        "id": str(appeal.pk),
        "tracking_number": appeal.tracking_number,
        "person": appeal.person.ref,
        "display_name": appeal.person.display_name,
        "display_id": appeal.person.display_id,
        "channel": appeal.channel,
        "category": appeal.category,
        "description": appeal.description,
        "caller_phone": appeal.caller_phone_display or None,
        "status": appeal.status,
        "routed_to": appeal.routed_to.code if appeal.routed_to else None,
        "routed_to_name": appeal.routed_to.name if appeal.routed_to else None,
        "routing_basis": appeal.routing_basis or None,
        "due_at": local_iso(appeal.due_at),
        "overdue": appeal.is_overdue(at),
        "opened_at": local_iso(appeal.created_at),
        "resolved_at": local_iso(appeal.resolved_at) if appeal.resolved_at else None,
        "resolution": appeal.resolution or None,
    }
    if events:
        body["events"] = [
            {
                "at": local_iso(e.at),
                "from": e.from_status or None,
                "to": e.to_status,
                "routed_to": e.routed_to.code if e.routed_to else None,
                "actor": e.actor.username,
                "reason": e.reason,
            }
            for e in appeal.events.select_related("routed_to", "actor").order_by("at", "pk")
        ]
    return body


# --- the hotline on the call (SPEC §6) -----------------------------------------------------------

# A declaration the hotline records on an appeal carries the appeal in its external id (and in its
# ingestion's payload): `appeal-<id>-<uuid>`, its stays `…-<n>`.
DECLARATION_PREFIX = "appeal-{id}-"


def appeal_declaration_prefix(appeal: Appeal) -> str:
    return DECLARATION_PREFIX.format(id=appeal.pk)


def appeal_declarations(appeal: Appeal):
    """The itineraries recorded on this appeal, newest first, with their places."""
    return (
        ItineraryDeclaration.objects.filter(
            person_id=appeal.person_id,
            origin=EvidenceOrigin.STAFF,
            external_id__startswith=appeal_declaration_prefix(appeal),
        )
        .select_related("ingestion__submitted_by")
        .prefetch_related("places__area")
        .order_by("-submitted_at", "-pk")
    )


@dataclass(frozen=True)
class CallEvidence:
    """One piece of the caller's popup ③ evidence as the hotline sees it (SPEC §6): a
    city-precision stay can be verified on the call (`on_call`), and the itinerary recorded on the
    appeal may cover it (`covered`); anything else — a stay in a risk county, an association —
    must go to the community or CDC, and `why` says so."""

    kind: str
    id: int
    rule: str
    summary: str
    on_call: bool
    covered: bool
    why: str
    area_code: str = ""
    area_name: str = ""
    precision: str = ""
    source: str = ""
    arrived_at: dt.datetime | None = None
    departed_at: dt.datetime | None = None
    covered_by: int | None = None  # the declaration covering it
    after_release: str | None = None

    @property
    def releasable(self) -> bool:
        return self.on_call and self.covered

    def label(self) -> str:
        """`stay #12 扬州市（2021-08-10 08:00 至 2021-08-11 08:00）` or `association #3`."""
        kind = {"stay": _("stay"), "association": _("association")}.get(self.kind, self.kind)
        text = f"{kind} #{self.id}"
        if self.kind == "stay":
            text += " " + str(
                STAY(
                    area=self.area_name or self.area_code,
                    arrived=when(self.arrived_at),
                    departed=when(self.departed_at),
                )
            )
        return text

    def as_json(self) -> dict:
        return {
            "kind": self.kind,
            "id": str(self.id),
            "rule": self.rule,
            "summary": self.summary,
            "on_call": self.on_call,
            "covered": self.covered,
            "covered_by": str(self.covered_by) if self.covered_by else None,
            "why": self.why,
            "area_code": self.area_code or None,
            "precision": self.precision or None,
            "arrived_at": local_iso(self.arrived_at) if self.arrived_at else None,
            "departed_at": local_iso(self.departed_at) if self.departed_at else None,
            "after_release": self.after_release,
        }


def popup3_call_evidence(appeal: Appeal, row=None, *, t: dt.datetime | None = None) -> list[CallEvidence]:
    """Each piece of evidence of popup ③ in the person's current status reasons (`row`, default the
    current status), classified for the hotline: a city-precision stay (rule ③(b)) can be verified
    on the call, and is covered when the itinerary recorded on this appeal covers it as the engine
    decides coverage (`popup3_risk_area.covered`: a declared low-risk county in the stay's city,
    the times overlapping), with the negative NAT confirmed by the operator's checklist instead of
    the entry window; a stay in a risk county (③(a)), an association (③(c)) or anything else must
    go to the community or CDC. Empty when popup ③ is not active."""
    t = t or now()
    if row is None:
        row = status_current(person_id=appeal.person_id)
    reasons = [reason_shown(r) for r in row.reasons if r.get("popup") == rule3.POPUP.number]
    if not reasons:
        return []
    facts = person_facts(appeal.person_id, t)
    mine = set(appeal_declarations(appeal).values_list("pk", flat=True))
    declarations = tuple(d for d in facts.declarations if d.id in mine)
    stays = {s.id: s for s in facts.stays}
    out = []
    for reason in reasons:
        rule, summary, after = reason["rule"], reason.get("summary", ""), reason.get("after_release")
        pieces = [e for e in reason.get("evidence", []) if e["kind"] != "designation"] or reason.get("evidence", [])
        for piece in pieces:
            kind, pk = piece["kind"], int(piece["id"])
            stay = stays.get(pk) if kind == "stay" else None
            place = {}
            if stay is not None:
                place = {
                    "area_code": stay.area_code,
                    "area_name": stay.area_name,
                    "precision": stay.precision,
                    "source": stay.source,
                    "arrived_at": stay.arrived_at,
                    "departed_at": stay.departed_at,
                }
            common = {"kind": kind, "id": pk, "rule": rule, "summary": summary, "after_release": after, **place}
            if rule == rule3.RULE_CITY:
                by = stay and rule3.covered(facts, stay, t, declarations=declarations, nat_seen=True)
                out.append(
                    CallEvidence(
                        **common,
                        on_call=True,
                        covered=by is not None,
                        covered_by=by.id if by else None,
                        why=str(
                            _("City precision: covered by the itinerary recorded on this appeal.")
                            if by
                            else _(
                                "City precision, can be verified on the call: record the counties the caller "
                                "stayed in in this city (the itinerary recorded so far does not cover it)."
                            )
                        ),
                    )
                )
            elif rule == rule3.RULE_COUNTY:
                out.append(
                    CallEvidence(
                        **common,
                        on_call=False,
                        covered=False,
                        why=str(
                            _(
                                "A county-precision stay in a medium- or high-risk county: must go to the "
                                "community or CDC."
                            )
                        ),
                    )
                )
            elif rule == rule3.RULE_ASSOCIATION:
                out.append(
                    CallEvidence(
                        **common,
                        on_call=False,
                        covered=False,
                        why=str(_("An association record: must go to the community or CDC.")),
                    )
                )
            else:
                out.append(
                    CallEvidence(
                        **common,
                        on_call=False,
                        covered=False,
                        why=str(_("Not a city-precision stay: must go to the community or CDC.")),
                    )
                )
    return out


def on_call_counties(evidence: list[CallEvidence]):
    """The counties of the cities of the caller's city-precision stays, to choose from when the
    itinerary is taken down (a city without counties is its own county)."""
    cities = {e.area_code for e in evidence if e.on_call and e.area_code}
    if not cities:
        return []
    return list(
        Area.objects.filter(Q(city_id__in=cities, level=AreaLevel.COUNTY) | Q(code__in=cities, acts_as_county=True))
        .order_by("code")
        .values("code", "full_name")
    )
