"""Popup ③ — medium/high-risk areas and associations.

SPEC §2 ③: (a) a stay in the window in a county whose *current* designation is medium or high, also
when the designation came after the person left; (b) a city-precision stay in the window in a city
containing a current medium/high county, unless a verified itinerary declaration (SPEC §4) covers
it; (c) an association record in the window. Cleared by a release after verification (SPEC §5), or
automatically when no (a), (b) or (c) evidence is left in the window.
"""

import datetime as dt

from django.utils.translation import gettext_lazy as _

from ..definition import PopupDefinition
from ..facts import DeclarationFact, Facts, StayFact
from ..result import Evidence, Finding, RuleOutcome
from ..texts import Message
from .common import (
    counted_stays,
    fmt,
    is_county_stay,
    is_risky,
    just_after,
    level_at,
    level_text,
    negative_nats,
    stay_text,
)

POPUP = PopupDefinition(
    number=3,
    key="risk_area",
    title=_("Linked to a medium- or high-risk area or a risk association"),
    guidance=_(
        "Please contact the community where you live (or report through 京心相助): once your itinerary is "
        "verified and a negative NAT shown, the community releases the popup. If you are away, it can be "
        "verified remotely: you need not come in person. If you think the popup is a mistake, call 12345."
    ),
    released_manually=True,
    queued=True,
)

RULE_COUNTY = "popup3.risk_county_stay"
RULE_CITY = "popup3.risk_city_stay"
RULE_ASSOCIATION = "popup3.association"
CLEARS = Message(
    "popup3.clears",
    _(
        "Released by the community or CDC after verifying the itinerary; or cleared automatically once the "
        "records are more than %(days)s days old."
    ),
)
COUNTY_SUMMARY = Message(RULE_COUNTY, _("In the last %(days)s days you were in %(stay)s, now a %(level)s area."))
CITY_SUMMARY = Message(
    RULE_CITY,
    _(
        "Your telecom itinerary shows that in the last %(days)s days you were in %(stay)s, a city with medium- "
        "or high-risk areas (%(areas)s). The data is precise to the city only: if you were not in these areas, "
        "declare your itinerary and show a negative NAT, or ask your community to verify it."
    ),
)
ASSOCIATION_SUMMARY = Message(RULE_ASSOCIATION, _("%(observed)s: %(association)s on record."))
# As the reason's sentence says it (AssociationKind's labels name the kind in a list).
ASSOCIATIONS = {
    "epidemiological": Message("association.epidemiological", _("an epidemiological link")),
    "venue_scan": Message("association.venue_scan", _("a scan near a controlled site")),
    "phone_owner": Message("association.phone_owner", _("a phone number registered under your ID seen in a risk area")),
}


def declaration_verified(facts: Facts, declaration: DeclarationFact, t: dt.datetime, *, nat_seen: bool = False) -> bool:
    """SPEC §4: every declared county low risk at `t` and a negative NAT sampled within
    `entry_nat_window_hours` before the stated entry into Beijing, or any time after it. A hotel
    check-in was verified by hotel staff with its NAT when it was recorded. `nat_seen`: a person
    releasing by hand confirms the negative NAT in the checklist (the hotline on the call, SPEC §6),
    so only the counties are tested."""
    if declaration.submitted_at > t:
        return False
    if declaration.source == "hotel":
        return True
    if any(is_risky(level_at(facts, place.area_code, t)) for place in declaration.places):
        return False
    if nat_seen:
        return True
    entry = declaration.entered_beijing_at or declaration.submitted_at
    earliest = entry - dt.timedelta(hours=facts.policy.entry_nat_window_hours)
    return any(lab.sampled_at >= earliest for lab in negative_nats(facts, t))


def covered(
    facts: Facts,
    stay: StayFact,
    t: dt.datetime,
    *,
    declarations: tuple[DeclarationFact, ...] | None = None,
    nat_seen: bool = False,
) -> DeclarationFact | None:
    """The verified declaration (of `declarations`, default all the person's) whose places cover a
    city-precision stay: a declared county in the stay's city, their times overlapping (SPEC §4)."""
    for declaration in facts.declarations if declarations is None else declarations:
        if not declaration_verified(facts, declaration, t, nat_seen=nat_seen):
            continue
        if declaration.source == "hotel":
            if stay.arrived_at <= declaration.submitted_at:
                return declaration
            continue
        for place in declaration.places:
            overlaps = (stay.departed_at is None or place.arrived_at <= stay.departed_at) and (
                place.departed_at is None or place.departed_at >= stay.arrived_at
            )
            if place.city_code == stay.area_code and overlaps:
                return declaration
    return None


def _stay_clears_at(facts: Facts, stay: StayFact) -> dt.datetime | None:
    return None if stay.departed_at is None else just_after(stay.departed_at + facts.policy.lookback)


def evaluate(facts: Facts, t: dt.datetime) -> RuleOutcome:
    out = RuleOutcome()
    days = facts.policy.lookback_days
    clears = CLEARS(days=days)
    for stay in counted_stays(facts, t, out.changes):
        if is_county_stay(stay):
            designation = level_at(facts, stay.area_code, t, out.changes)
            if not is_risky(designation):
                continue
            out.findings.append(
                Finding(
                    rule=RULE_COUNTY,
                    popup=POPUP.number,
                    summary=COUNTY_SUMMARY(days=days, stay=stay_text(stay), level=level_text(designation.level)),
                    clears=clears,
                    evidence=(
                        Evidence("stay", stay.id, stay.ingestion_id),
                        Evidence("designation", designation.id, designation.ingestion_id),
                    ),
                    since=max(stay.arrived_at, designation.effective_from),
                    clears_at=_stay_clears_at(facts, stay),
                )
            )
            continue
        # City precision: the city contains a currently medium/high county.
        risky = []
        for d in facts.designations:
            if d.city_code == stay.area_code:
                current = level_at(facts, d.area_code, t, out.changes)
                if is_risky(current) and current not in risky:
                    risky.append(current)
        if not risky:
            continue
        # Declarations can turn unverified when a declared county becomes risky.
        for declaration in facts.declarations:
            for place in declaration.places:
                level_at(facts, place.area_code, t, out.changes)
            if declaration.submitted_at > t:
                out.changes.append(declaration.submitted_at)
        if covered(facts, stay, t):
            continue
        names = [d.area_name or d.area_code for d in risky]
        out.findings.append(
            Finding(
                rule=RULE_CITY,
                popup=POPUP.number,
                summary=CITY_SUMMARY(days=days, stay=stay_text(stay), areas=names),
                clears=clears,
                evidence=(Evidence("stay", stay.id, stay.ingestion_id),)
                + tuple(Evidence("designation", d.id, d.ingestion_id) for d in risky),
                since=max([stay.arrived_at] + [d.effective_from for d in risky]),
                clears_at=_stay_clears_at(facts, stay),
            )
        )
    lookback = facts.policy.lookback
    for association in facts.associations:
        if association.observed_at > t:
            out.changes.append(association.observed_at)
            continue
        if association.observed_at < t - lookback:
            continue
        ends = just_after(association.observed_at + lookback)
        out.changes.append(ends)
        out.findings.append(
            Finding(
                rule=RULE_ASSOCIATION,
                popup=POPUP.number,
                summary=ASSOCIATION_SUMMARY(
                    observed=fmt(association.observed_at),
                    association=ASSOCIATIONS[association.kind]()
                    if association.kind in ASSOCIATIONS
                    else association.kind,
                ),
                clears=clears,
                evidence=(Evidence("association", association.id, association.ingestion_id),),
                since=association.observed_at,
                clears_at=ends,
            )
        )
    return out
