"""`purge_unbound_phones`: a phone binding goes `RETENTION_PHONE_UNBOUND_DAYS` (14) after it was
unbound, never sooner than the status engine stops counting the number for the person (the
policy's `phone_unbind_days`), and its number is erased from the row history."""

import datetime as dt

import time_machine

from apps.audit.models import AuditEvent
from apps.people.models import Phone
from apps.people.services import PhoneInput
from apps.policy.models import PolicyVersion
from apps.policy.services import risk_designation_publish
from apps.retention.services import purge_unbound_phones
from apps.status.services import status_refresh

from .conftest import MINUTE, NOW, RISK_COUNTY, make_person, telecom

DAYS_14 = dt.timedelta(days=14)
BOUND = NOW - dt.timedelta(days=90)


def _phones():
    with time_machine.travel(NOW - dt.timedelta(days=30), tick=False):
        return make_person(
            1,
            PhoneInput("13900000001", "alipay", BOUND, unbound_at=NOW - DAYS_14 - MINUTE),
            PhoneInput("13900000002", "wechat", BOUND, unbound_at=NOW - DAYS_14 + MINUTE),
            PhoneInput("13900000003", "baidu", BOUND),
        )


def _numbers(person) -> set[str]:
    return set(Phone.objects.filter(person=person).values_list("channel", flat=True))


def test_it_purges_a_binding_unbound_one_minute_past_and_keeps_one_a_minute_inside(db):
    person = _phones()
    gone = Phone.objects.get(channel="alipay")
    with time_machine.travel(NOW, tick=False):
        assert purge_unbound_phones() == 1
    assert _numbers(person) == {"wechat", "baidu"}
    history = Phone.history.filter(id=gone.pk)
    assert history.exists() and set(history.values_list("number_encrypted", "number_hash")) == {("", "")}
    assert Phone.history.filter(id=Phone.objects.get(channel="wechat").pk).exclude(number_encrypted="").exists()
    event = AuditEvent.objects.get(kind="retention.purged")
    assert (event.detail["purge"], event.detail["count"]) == ("unbound_phones", 1)
    assert "13900000001" not in str(event.detail)


def test_a_binding_the_audit_cites_is_kept_with_its_number_erased(db):
    _phones()
    cited = Phone.objects.get(channel="alipay")
    with time_machine.travel(NOW - dt.timedelta(days=20), tick=False):
        AuditEvent.objects.create(
            kind="record.corrected",
            at=NOW - dt.timedelta(days=20),
            detail={"model": "people.phone", "id": str(cited.pk), "fields": ["unbound_at"]},
        )
    with time_machine.travel(NOW, tick=False):
        assert purge_unbound_phones() == 1
        assert purge_unbound_phones() == 0, "an erased binding is no longer a candidate"
    cited.refresh_from_db()
    assert cited.number_encrypted == "" and cited.number_hash == f"erased:{cited.pk}"
    assert cited.display_number, "the masked number stays for the audit to read"


def test_a_longer_policy_unbind_period_keeps_bindings_longer(db):
    _phones()
    PolicyVersion.objects.create(effective_from=NOW - dt.timedelta(days=60), phone_unbind_days=30)
    with time_machine.travel(NOW, tick=False):
        assert purge_unbound_phones() == 0


def test_the_threshold_is_never_shorter_than_the_engine_needs_and_the_status_is_the_same(areas, settings):
    settings.RETENTION_PHONE_UNBOUND_DAYS = 7  # shorter than the policy's 14: the policy wins
    with time_machine.travel(NOW - dt.timedelta(days=30), tick=False):
        person = make_person(
            1,
            PhoneInput("13900000001", "alipay", BOUND, unbound_at=NOW - dt.timedelta(days=10)),
            PhoneInput("13900000002", "wechat", BOUND, unbound_at=NOW - DAYS_14 - MINUTE),
        )
        risk_designation_publish(
            actor=None, area_code=RISK_COUNTY, level="high", effective_from=NOW - dt.timedelta(days=30)
        )
        # Still counting for the person (unbound 10 days ago, the policy says 14)…
        telecom("counting", "13900000001", NOW - dt.timedelta(days=12), NOW - dt.timedelta(days=11))
        # …and no longer counting: its period ended a minute ago.
        telecom("over", "13900000002", NOW - dt.timedelta(days=5), NOW - dt.timedelta(days=4))
    with time_machine.travel(NOW, tick=False):
        before = status_refresh(person_id=person.pk)
        before = (before.state, before.popups, before.reasons, before.next_change_at)
        assert before[0] == "popup"
        assert purge_unbound_phones() == 1
        assert _numbers(person) == {"alipay"}
        after = status_refresh(person_id=person.pk)
    assert (after.state, after.popups, after.reasons, after.next_change_at) == before
