"""Popup ④ — a trigger event without a negative NAT after it.

SPEC §2 ④: entering Beijing, buying one of the four drug classes, or a clinic visit with one of the
eleven symptoms, with no negative NAT sampled at or after the trigger once `popup4_grace_hours`
have passed; cleared as soon as such a NAT is on record. A hotel check-in with a valid NAT
satisfies it (SPEC §4).
"""

import datetime as dt

from django.utils.translation import gettext_lazy as _

from apps.evidence.choices import DrugClass, HealthEventKind, Symptom

from ..definition import PopupDefinition
from ..facts import EventFact, Facts
from ..result import Evidence, Finding, RuleOutcome
from ..texts import Message, Text
from .common import fmt, negative_nats

POPUP = PopupDefinition(
    number=4,
    key="untested",
    title=_("No negative NAT found after entering Beijing, buying medicine or a clinic visit"),
    guidance=_(
        "Please take a NAT as soon as possible; the popup clears automatically once the negative result is uploaded."
    ),
)

RULE = "popup4.untested_trigger"
SUMMARY = Message(RULE, _("You %(event)s; no negative NAT sampled after that was found within %(hours)s hours."))
CLEARS = Message(f"{RULE}.clears", _("Take a NAT: cleared automatically once the negative result is uploaded."))
ENTERED = Message("event.beijing_entry", _("entered (or returned to) Beijing at %(when)s"))
BOUGHT = Message("event.drug_purchase", _("bought %(drug)s medicine at %(when)s"))
VISITED = Message("event.clinic_visit", _("saw a doctor for %(symptom)s at %(when)s"))
# The drug classes and symptoms by their labels (evidence.choices), translated with them.
DRUGS = {c.value: Message(f"drug.{c.value}", c.label) for c in DrugClass}
SYMPTOMS = {s.value: Message(f"symptom.{s.value}", s.label) for s in Symptom}


def is_trigger(event: EventFact) -> bool:
    if event.kind == HealthEventKind.BEIJING_ENTRY:
        return True
    if event.kind == HealthEventKind.DRUG_PURCHASE:
        return event.detail in DrugClass.values
    if event.kind == HealthEventKind.CLINIC_VISIT:
        return event.detail in Symptom.values
    return False


def describe(event: EventFact) -> Text:
    if event.kind == HealthEventKind.BEIJING_ENTRY:
        return ENTERED(when=fmt(event.occurred_at))
    if event.kind == HealthEventKind.DRUG_PURCHASE:
        return BOUGHT(when=fmt(event.occurred_at), drug=DRUGS[event.detail]())
    return VISITED(when=fmt(event.occurred_at), symptom=SYMPTOMS[event.detail]())


def evaluate(facts: Facts, t: dt.datetime) -> RuleOutcome:
    out = RuleOutcome()
    grace = dt.timedelta(hours=facts.policy.popup4_grace_hours)
    nats = negative_nats(facts, t)
    hotel_checks = [d.submitted_at for d in facts.declarations if d.source == "hotel" and d.submitted_at <= t]
    for event in facts.events:
        if not is_trigger(event):
            continue
        if event.occurred_at > t:
            out.changes.append(event.occurred_at + grace)
            continue
        if any(n.sampled_at >= event.occurred_at for n in nats):
            continue
        if any(checked >= event.occurred_at for checked in hotel_checks):
            continue
        due = event.occurred_at + grace
        if t < due:
            out.changes.append(due)
            continue
        out.findings.append(
            Finding(
                rule=RULE,
                popup=POPUP.number,
                summary=SUMMARY(event=describe(event), hours=facts.policy.popup4_grace_hours),
                clears=CLEARS(),
                evidence=(Evidence("health_event", event.id, event.ingestion_id),),
                since=due,
                clears_at=None,
            )
        )
    return out
