"""`purge_telecom_stays`: telecom stays go `lookback_days` + the margin (14 + 7 days) after they
departed, with their row history and the raw batch that brought them; a stay the audit cites is
kept without its phone link."""

import datetime as dt

import time_machine

from apps.audit.models import AuditEvent
from apps.evidence.models import Ingestion, Stay
from apps.people.services import PhoneInput
from apps.policy.models import PolicyVersion
from apps.policy.services import risk_designation_publish
from apps.retention.services import purge_telecom_stays
from apps.status.services import status_refresh

from .conftest import MINUTE, NOW, RISK_COUNTY, make_person, telecom

WINDOW = dt.timedelta(days=14 + 7)
PHONE = "13900000001"


def _stays(areas):
    with time_machine.travel(NOW - dt.timedelta(days=40), tick=False):
        inside = telecom("inside", PHONE, NOW - WINDOW - dt.timedelta(days=1), NOW - WINDOW + MINUTE)
        past = telecom("past", PHONE, NOW - WINDOW - dt.timedelta(days=1), NOW - WINDOW - MINUTE)
        ongoing = telecom("ongoing", PHONE, NOW - dt.timedelta(days=39), None)
    return inside, past, ongoing


def test_it_purges_a_stay_one_minute_past_the_window_and_keeps_one_a_minute_inside(areas):
    inside, past, ongoing = _stays(areas)
    past_batch = past.ingestion_id
    with time_machine.travel(NOW, tick=False):
        assert purge_telecom_stays() == 1
    assert set(Stay.objects.values_list("external_id", flat=True)) == {"inside", "ongoing"}
    assert not Stay.history.filter(id=past.pk).exists(), "its earlier versions go with it"
    assert Stay.history.filter(id=inside.pk).exists()
    assert Ingestion.objects.get(pk=past_batch).payload_encrypted == "", "the raw batch held the clear number"
    assert Ingestion.objects.get(pk=inside.ingestion_id).payload["records"][0]["external_id"] == "inside"


def test_it_writes_one_audit_event_with_counts_only(areas):
    _stays(areas)
    with time_machine.travel(NOW, tick=False):
        purge_telecom_stays()
        assert purge_telecom_stays() == 0, "a second run finds nothing left"
    event = AuditEvent.objects.get(kind="retention.purged")
    assert event.actor is None and event.person is None and event.origin == "task"
    detail = dict(event.detail)
    assert dt.datetime.fromisoformat(detail.pop("cutoff")) == NOW - WINDOW
    assert detail == {"purge": "telecom_stays", "count": 1, "batches_erased": 1}
    assert PHONE not in str(event.detail)


def test_a_stay_the_audit_cites_is_kept_without_its_phone_link(areas):
    _inside, past, _ongoing = _stays(areas)
    with time_machine.travel(NOW - dt.timedelta(days=25), tick=False):
        evidence = {"reasons": [{"rule": "popup3", "evidence": [{"kind": "stay", "id": str(past.pk)}]}]}
        AuditEvent.objects.create(
            kind="popup.released", at=NOW - dt.timedelta(days=25), detail={"status_before": evidence}
        )
    with time_machine.travel(NOW, tick=False):
        assert purge_telecom_stays() == 1
    kept = Stay.objects.get(pk=past.pk)
    assert (kept.phone_hash, kept.person_id) == ("", None)
    assert (kept.area_id, kept.arrived_at, kept.departed_at) == (past.area_id, past.arrived_at, past.departed_at)
    assert set(Stay.history.filter(id=past.pk).values_list("phone_hash", flat=True)) == {""}
    with time_machine.travel(NOW + dt.timedelta(days=1), tick=False):
        assert purge_telecom_stays() == 1, "the next day: the stay that was inside, not the anonymous one"
    assert set(Stay.objects.values_list("external_id", flat=True)) == {"past", "ongoing"}


def test_a_longer_look_back_scheduled_later_keeps_stays_longer(areas):
    _stays(areas)
    PolicyVersion.objects.create(effective_from=NOW + dt.timedelta(days=3), lookback_days=30)
    with time_machine.travel(NOW, tick=False):
        assert purge_telecom_stays() == 0, "30 + 7 days: the stay may count again under the coming policy"


def test_the_status_of_the_phone_owner_is_the_same_before_and_after(areas):
    with time_machine.travel(NOW - dt.timedelta(days=40), tick=False):
        person = make_person(1, PhoneInput(PHONE, "alipay", NOW - dt.timedelta(days=60)))
        risk_designation_publish(
            actor=None, area_code=RISK_COUNTY, level="high", effective_from=NOW - dt.timedelta(days=40)
        )
        telecom("old", PHONE, NOW - WINDOW - dt.timedelta(days=2), NOW - WINDOW - MINUTE)
        telecom("recent", PHONE, NOW - dt.timedelta(days=5), NOW - dt.timedelta(days=4))
    with time_machine.travel(NOW, tick=False):
        before = status_refresh(person_id=person.pk)
        before = (before.state, before.popups, before.reasons, before.next_change_at)
        assert before[0] == "popup", "the recent telecom stay in a high-risk city raises popup 3"
        assert purge_telecom_stays() == 1
        after = status_refresh(person_id=person.pk)
    assert (after.state, after.popups, after.reasons, after.next_change_at) == before
