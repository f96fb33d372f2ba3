"""Shared pieces of the fault tests: a partner's API clients, a population whose statuses are not
all green, and the expected statuses computed directly in this process."""

import datetime as dt

import pytest

from apps.people.identity import resident_id_check_char

from .helpers import broker_use, real_broker


def idn(n: int) -> str:
    """The n-th resident ID of the test population (distinct birth dates and sequence numbers)."""
    born = dt.date(1970, 1, 1) + dt.timedelta(days=n // 900)
    first17 = f"110105{born:%Y%m%d}{n % 900 + 100:03d}"
    return first17 + resident_id_check_char(first17)


def population_records(count: int, t: dt.datetime, *, prefix: str = "p") -> dict[str, list[dict]]:
    """Feed batches giving `count` persons a mix of statuses at `t`: an international arrival the
    day before (popup ②), a centralised observation order (red) or a home one (yellow)."""
    arrivals, orders = [], []
    for n in range(count):
        person = {"id_type": "resident_id", "id_number": idn(n)}
        if n % 3 == 0:
            entered = (t - dt.timedelta(days=1)).isoformat()
            arrivals.append({"external_id": f"{prefix}-in-{n}", **person, "entered_at": entered, "port": "PEK"})
        else:
            kind = "centralized" if n % 3 == 1 else "home"
            starts = (t - dt.timedelta(hours=2)).isoformat()
            orders.append({"external_id": f"{prefix}-ob-{n}", **person, "kind": kind, "starts_at": starts})
    return {"inbound-arrivals": arrivals, "observation-orders": orders}


def expected_statuses(person_ids, t: dt.datetime) -> dict[int, tuple[str, list[int]]]:
    """Each person's state and active popup numbers at `t`, computed here from the stored facts by
    the engine itself, without the materialised rows."""
    from apps.status.engine import evaluate
    from apps.status.selectors import persons_facts

    facts = persons_facts(sorted(person_ids), t)
    out = {}
    for pid, person_facts in facts.items():
        result = evaluate(person_facts, t)
        out[pid] = (result.state, sorted(p.number for p in result.popups))
    return out


def stored_statuses(person_ids) -> dict[int, tuple[str, list[int]]]:
    from apps.status.models import PersonStatus

    rows = PersonStatus.objects.filter(person_id__in=list(person_ids))
    return {r.person_id: (r.state, sorted(p["number"] for p in r.popups)) for r in rows}


def effects() -> dict[str, int]:
    """Counts of everything a recomputation or an ingestion may write: a retry or a redelivery
    must leave all of them as they were."""
    from apps.audit.models import AccessLog, AuditEvent
    from apps.evidence.models import InboundArrival, ObservationOrder
    from apps.people.models import Person
    from apps.status.models import PersonStatus, Popup, StatusTransition

    counted = (Person, PersonStatus, StatusTransition, Popup, InboundArrival, ObservationOrder, AuditEvent, AccessLog)
    out = {m.__name__: m.objects.count() for m in counted}
    out["InboundArrival.history"] = InboundArrival.history.count()
    out["ObservationOrder.history"] = ObservationOrder.history.count()
    return out


def assert_transitions_once(expected: dict[int, tuple[str, list[int]]]) -> None:
    """Exactly one transition from green for each person not green, none for the others, and one
    open popup episode per active popup."""
    from apps.status.models import Popup, StatusTransition

    transitions = list(StatusTransition.objects.values_list("person_id", "from_state", "to_state"))
    assert sorted(transitions) == sorted((pid, "green", s) for pid, (s, _p) in expected.items() if s != "green")
    episodes = list(Popup.objects.filter(ended_at__isnull=True).values_list("person_id", "number"))
    assert sorted(episodes) == sorted((pid, n) for pid, (_s, popups) in expected.items() for n in popups)
    assert not Popup.objects.filter(ended_at__isnull=False).exists()


@pytest.fixture
def partner(personas):
    """API clients of a feeds partner and of a partner that also looks statuses and restrictions up."""

    class Partner:
        feeds = personas.client("feeds-partner")
        gate = personas.client("all-scopes")

    return Partner


@pytest.fixture
def celery_app():
    """This process's Celery app, put back to eager in-process execution afterwards."""
    from config.celery import app

    yield app
    broker_use(app, "")


@pytest.fixture
def broker(transactional_db, celery_app):
    """The real test broker for this process (tasks are sent to it, not run here), emptied first;
    workers started with `broker.worker(...)` are killed afterwards."""
    with real_broker(celery_app) as b:
        yield b
