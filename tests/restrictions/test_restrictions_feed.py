"""The restrictions feed for rail and air (API.md "Restrictions"): who is not green and who turned
green since a moment, with clear ID numbers, keyset-paginated with a cursor, set-based (the number
of queries does not grow with the page), and never stale (due statuses are brought up to date)."""

import datetime as dt

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from apps.status.models import PersonStatus, StatusTransition
from tests.api.helpers import BORDER_COUNTY, RISK_COUNTY, at, iso, rid, stay

FLAGGED = [rid(f"32100319850101{i:03d}") for i in range(1, 6)]
GREEN = rid("11010519900101123")


def read_all(c, **params):
    """Follow `next` to the end; returns (restricted, lifted, as_of of the first page, pages)."""
    restricted, lifted, pages = [], [], 0
    r = c.get("/api/v1/restrictions/", params)
    assert r.status_code == 200, r.content
    as_of = r.json()["as_of"]
    while True:
        body = r.json()
        pages += 1
        restricted += body["restricted"]
        lifted += body["lifted"]
        if body["next"] is None:
            assert body["next_cursor"] is None
            return restricted, lifted, as_of, pages
        r = c.get(body["next"])
        assert r.status_code == 200, r.content


@pytest.fixture
def rail(world):
    world.rail = world.personas.client("rail")
    with time_machine.travel(at(2021, 8, 16, 9), tick=False):
        world.refs = {idn: world.person(idn) for idn in [*FLAGGED, GREEN]}
        world.feed(
            "stays",
            *(
                stay(idn, f"G{i}", RISK_COUNTY, iso(2021, 8, 10, 8), iso(2021, 8, 11, 8))
                for i, idn in enumerate(FLAGGED)
            ),
        )
        world.designate(RISK_COUNTY, "medium", iso(2021, 8, 15, 0))
        for idn in [*FLAGGED, GREEN]:
            world.status(idn)
    return world


def test_without_changed_since_it_lists_everyone_not_green_across_pages_once(rail):
    w = rail
    with time_machine.travel(at(2021, 8, 16, 10), tick=False):
        restricted, lifted, _as_of, pages = read_all(w.rail, page_size=2)
    assert pages == 3
    assert sorted(r["id_number"] for r in restricted) == sorted(FLAGGED), "clear ID numbers, each once"
    assert {r["state"] for r in restricted} == {"popup"}
    assert all(r["id_type"] == "resident_id" for r in restricted)
    # First computed when their evidence arrived: the restriction dates from then, so a client
    # polling with `changed_since` cannot miss it.
    assert all(dt.datetime.fromisoformat(r["since"]) == at(2021, 8, 16, 9) for r in restricted)
    assert lifted == []


def test_changes_after_a_poll_come_in_the_next_poll_restricted_and_lifted(rail):
    w = rail
    with time_machine.travel(at(2021, 8, 16, 10), tick=False):
        _r, _l, as_of, _p = read_all(w.rail)
    with time_machine.travel(at(2021, 8, 16, 11), tick=False):
        # One person is released by the CDC; the green one gets a centralised-observation order.
        popup = next(p for p in w.cdc.get(f"/api/v1/persons/{w.refs[FLAGGED[0]]}/popups/").json() if p["active"])
        release = {"reason": "核验无误", "itinerary_verified": True, "nat_negative": True, "commitment_signed": True}
        assert w.cdc.post(f"/api/v1/popups/{popup['id']}/release/", release, format="json").status_code == 200
        order = {"person": w.refs[GREEN], "kind": "centralized", "reason": "密接"}
        assert w.cdc.post("/api/v1/orders/", order, format="json").status_code == 201
    with time_machine.travel(at(2021, 8, 16, 12), tick=False):
        restricted, lifted, as_of2, _p = read_all(w.rail, changed_since=as_of, page_size=1)
    assert [(r["id_number"], r["state"]) for r in restricted] == [(GREEN, "red")]
    assert dt.datetime.fromisoformat(restricted[0]["since"]) == at(2021, 8, 16, 11)
    assert [(x["id_number"], dt.datetime.fromisoformat(x["at"])) for x in lifted] == [(FLAGGED[0], at(2021, 8, 16, 11))]
    with time_machine.travel(at(2021, 8, 16, 13), tick=False):
        restricted, lifted, _as_of, _p = read_all(w.rail, changed_since=as_of2)
    assert restricted == [] and lifted == [], "nothing changed since the last poll"


def test_a_person_who_turned_green_and_back_is_only_restricted(rail):
    w = rail
    with time_machine.travel(at(2021, 8, 16, 10), tick=False):
        _r, _l, as_of, _p = read_all(w.rail)
    with time_machine.travel(at(2021, 8, 16, 11), tick=False):
        popup = next(p for p in w.cdc.get(f"/api/v1/persons/{w.refs[FLAGGED[1]]}/popups/").json() if p["active"])
        release = {"reason": "核验无误", "itinerary_verified": True, "nat_negative": True, "commitment_signed": True}
        assert w.cdc.post(f"/api/v1/popups/{popup['id']}/release/", release, format="json").status_code == 200
    with time_machine.travel(at(2021, 8, 16, 12), tick=False):
        # A late ticket into the county raises ③ again (返弹).
        w.feed("stays", stay(FLAGGED[1], "late", RISK_COUNTY, iso(2021, 8, 12, 8), iso(2021, 8, 12, 18)))
        restricted, lifted, _as_of, _p = read_all(w.rail, changed_since=as_of)
    assert [r["id_number"] for r in restricted] == [FLAGGED[1]]
    assert lifted == []


def test_a_status_that_changed_with_the_clock_is_brought_up_to_date_before_the_feed_answers(world):
    rail = world.personas.client("rail")
    idn = FLAGGED[0]
    with time_machine.travel(at(2021, 8, 1, 9), tick=False):
        world.person(idn)
        port = {"area_code": BORDER_COUNTY, "effective_from": iso(2021, 1, 1), "effective_to": None}
        assert world.policy.post("/api/v1/border-port-counties/", port, format="json").status_code == 201
        world.feed("stays", stay(idn, "B1", BORDER_COUNTY, iso(2021, 7, 30, 8), iso(2021, 7, 31, 8)))
        assert world.status(idn)["state"] == "popup"
        _r, _l, as_of, _p = read_all(rail)
    due = PersonStatus.objects.get().next_change_at
    assert at(2021, 8, 14, 8) <= due < at(2021, 8, 14, 8, 0, 1), "L after leaving the border county"
    with time_machine.travel(due + dt.timedelta(hours=3), tick=False):
        assert PersonStatus.objects.get().state == "popup", "stored row not yet recomputed"
        restricted, lifted, _as_of, _p = read_all(rail, changed_since=as_of)
    assert restricted == []
    assert [(x["id_number"], dt.datetime.fromisoformat(x["at"])) for x in lifted] == [(idn, due)]
    assert [t.to_state for t in StatusTransition.objects.order_by("at", "id")] == ["popup", "green"]


def test_pages_cost_the_same_number_of_queries_whatever_their_size(rail):
    w = rail
    with time_machine.travel(at(2021, 8, 16, 10), tick=False):
        w.rail.get("/api/v1/restrictions/")  # nothing due after this
        counts = []
        for size in (1, 5):
            with CaptureQueriesContext(connection) as queries:
                r = w.rail.get("/api/v1/restrictions/", {"page_size": size})
            assert r.status_code == 200 and len(r.json()["restricted"]) == size
            counts.append(len(queries))
    assert counts[0] == counts[1]


def test_only_the_restrictions_scope_reads_it_and_bad_input_is_refused(rail):
    w = rail
    with time_machine.travel(at(2021, 8, 16, 10), tick=False):
        assert APIClient().get("/api/v1/restrictions/").status_code == 401
        assert w.feeds.get("/api/v1/restrictions/").status_code == 403
        assert w.gate.get("/api/v1/restrictions/").status_code == 403
        assert w.wa.get("/api/v1/restrictions/").status_code == 403
        assert w.cdc.get("/api/v1/restrictions/").status_code == 403
        r = w.rail.get("/api/v1/restrictions/", {"cursor": "forged"})
        assert r.status_code == 400 and "cursor" in r.json()
        assert w.rail.get("/api/v1/restrictions/", {"page_size": 10_001}).status_code == 400
        assert w.rail.get("/api/v1/restrictions/", {"changed_since": "yesterday"}).status_code == 400


def test_a_person_first_known_after_a_poll_is_in_the_next_poll_even_if_their_popup_began_earlier(rail):
    w = rail
    with time_machine.travel(at(2021, 8, 16, 10), tick=False):
        _r, _l, as_of, _p = read_all(w.rail)
    late = rid("32100319850101099")
    with time_machine.travel(at(2021, 8, 16, 11), tick=False):
        # Their stay and the designation both predate the last poll; the portal learns of them now.
        w.person(late)
        w.feed("stays", stay(late, "LATE", RISK_COUNTY, iso(2021, 8, 10, 8), iso(2021, 8, 11, 8)))
        restricted, _lifted, _as_of, _p = read_all(w.rail, changed_since=as_of)
    assert [r["id_number"] for r in restricted] == [late]
