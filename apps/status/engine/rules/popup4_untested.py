"""Popup ④ — a trigger event without a negative NAT after it.

SPEC §2 ④: entering Beijing, buying one of the four drug classes, or a clinic visit with one of the
eleven symptoms, with no negative NAT sampled at or after the trigger once `popup4_grace_hours`
have passed; cleared as soon as such a NAT is on record. A hotel check-in with a valid NAT
satisfies it (SPEC §4).
"""

import datetime as dt

from apps.evidence.choices import DrugClass, HealthEventKind, Symptom

from ..facts import EventFact, Facts
from ..result import Evidence, Finding, RuleOutcome
from .common import fmt, negative_nats

RULE = "popup4.untested_trigger"
DRUG_LABEL = {"antipyretic": "退热类", "cough": "止咳类", "antiviral": "抗病毒类", "antibiotic": "抗生素类"}
SYMPTOM_LABEL = {
    "fever": "发热",
    "dry_cough": "干咳",
    "fatigue": "乏力",
    "sore_throat": "咽痛",
    "smell_taste_loss": "嗅味觉减退",
    "nasal_congestion": "鼻塞",
    "runny_nose": "流涕",
    "conjunctivitis": "结膜炎",
    "myalgia": "肌痛",
    "diarrhea": "腹泻",
    "dyspnea": "呼吸困难",
}


def is_trigger(event: EventFact) -> bool:
    if event.kind == HealthEventKind.BEIJING_ENTRY:
        return True
    if event.kind == HealthEventKind.DRUG_PURCHASE:
        return event.detail in DrugClass.values
    if event.kind == HealthEventKind.CLINIC_VISIT:
        return event.detail in Symptom.values
    return False


def describe(event: EventFact) -> str:
    if event.kind == HealthEventKind.BEIJING_ENTRY:
        return f"{fmt(event.occurred_at)}进（返）京"
    if event.kind == HealthEventKind.DRUG_PURCHASE:
        return f"{fmt(event.occurred_at)}购买{DRUG_LABEL[event.detail]}药品"
    return f"{fmt(event.occurred_at)}因{SYMPTOM_LABEL[event.detail]}就诊"


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
                popup=4,
                summary=f"您{describe(event)}，{facts.policy.popup4_grace_hours}小时内未查到此后采样的核酸阴性结果。",
                clears="完成核酸检测，阴性结果上传后系统自动解除。",
                evidence=(Evidence("health_event", event.id, event.ingestion_id),),
                since=due,
                clears_at=None,
            )
        )
    return out
