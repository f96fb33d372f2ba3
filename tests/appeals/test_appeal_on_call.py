"""The hotline resolves 误伤 on the call (SPEC §6, API.md `POST /appeals/{id}/itinerary/` and
`/release/`): the operator records the caller's itinerary county by county (a declaration on the
caller's behalf), which covers the city-precision telecom stays it overlaps, and releases popup ③
when every piece of its evidence is such a covered stay; anything else is refused with 409 naming
it, for the community or CDC. The clock is frozen; the edges are to the microsecond or minute."""

import datetime as dt
import time

import pytest
import time_machine

from apps.appeals.models import Appeal, AppealEvent
from apps.audit.models import AccessLog, AuditEvent
from apps.evidence.models import Ingestion, ItineraryDeclaration, Stay
from apps.status.models import Release
from tests.api.helpers import LOW_COUNTY_SAME_CITY, RISK_CITY, RISK_COUNTY, at, iso, stay

from .conftest import RESIDENT, appeal_body

PHONE = "13800000001"
CHECKS = {"itinerary_verified": True, "nat_negative": True, "commitment_signed": True}
ENTRY = at(2021, 8, 11, 12)  # the caller came back to Beijing
OTHER_CITY_COUNTY = "320115"  # 南京市江宁区: not in 扬州市


@pytest.fixture
def caller(hotline):
    """A resident of CA whose telecom itinerary puts them in 扬州市 (city precision) on 8/10-8/11,
    where 邗江区 has been medium risk since 8/15: popup ③(b). The operator of 12345 has the call."""
    w = hotline
    with time_machine.travel(at(2021, 8, 16, 9), tick=False):
        w.rail = w.personas.client("rail")
        w.resident = w.person(
            RESIDENT, community="CA", phones=[{"number": PHONE, "channel": "carrier", "bound_at": iso(2021, 7, 1)}]
        )
        w.feed(
            "stays",
            stay(
                None,
                "T1",
                RISK_CITY,
                iso(2021, 8, 10, 8),
                iso(2021, 8, 11, 8),
                precision="city",
                source="telecom",
                phone=PHONE,
            ),
        )
        w.designate(RISK_COUNTY, "medium", iso(2021, 8, 15, 0))
        status = w.status(RESIDENT)
        assert status["state"] == "popup" and [r["rule"] for r in status["reasons"]] == ["popup3.risk_city_stay"]
        w.telecom = Stay.objects.get(source="telecom", external_id="T1")
    with time_machine.travel(at(2021, 8, 16, 10), tick=False):
        r = w.op.post("/api/v1/appeals/", appeal_body(), format="json")
        assert r.status_code == 201, r.content
        w.appeal = r.json()["id"]
        w.tracking = r.json()["tracking_number"]
    return w


def place(area, arrived, departed):
    return {
        "area_code": area,
        "arrived_at": arrived.isoformat(),
        "departed_at": departed.isoformat() if departed else None,
    }


def record(w, *places, who=None, entered=ENTRY, reason="来电人逐县核实：仅到过广陵区"):
    body = {"places": list(places), "reason": reason}
    if entered is not None:
        body["entered_beijing_at"] = entered.isoformat()
    return (who or w.op).post(f"/api/v1/appeals/{w.appeal}/itinerary/", body, format="json")


def release(w, who=None, **checks):
    body = {"reason": "已电话核实行程，来电人出示核酸阴性并签署承诺书", **CHECKS, **checks}
    return (who or w.op).post(f"/api/v1/appeals/{w.appeal}/release/", body, format="json")


def evidence_of(body):
    return {(e["kind"], e["id"]): e for e in body["popup3_evidence"]}


# --- coverage at the edges ----------------------------------------------------------------------


def test_it_releases_a_city_stay_the_itinerary_covers_and_the_person_turns_green(caller):
    w = caller
    with time_machine.travel(at(2021, 8, 16, 10, 5), tick=False):
        # Before the itinerary: the operator sees the stay is theirs to verify, not yet covered.
        (piece,) = w.op.get(f"/api/v1/appeals/{w.appeal}/").json()["popup3_evidence"]
        assert (piece["id"], piece["on_call"], piece["covered"]) == (str(w.telecom.pk), True, False)
        # The declared county departs exactly when the telecom stay begins: the times overlap.
        r = record(w, place(LOW_COUNTY_SAME_CITY, at(2021, 8, 9, 0), at(2021, 8, 10, 8)))
        assert r.status_code == 201, r.content
        body = r.json()
        # No NAT on record: the declaration does not verify by itself, so ③ stays until released…
        assert body["state"] == "popup"
        piece = evidence_of(body)[("stay", str(w.telecom.pk))]
        # …but the operator sees at once that the stay is theirs to release.
        assert piece["on_call"] is True and piece["covered"] is True and piece["covered_by"] == body["declaration"]
    with time_machine.travel(at(2021, 8, 16, 10, 10), tick=False):
        r = release(w)
        assert r.status_code == 200, r.content
        body = r.json()
        assert body["state"] == "green" and body["popups"] == []
        assert body["appeal"]["status"] == "resolved" and body["release"]
        assert w.status(RESIDENT)["state"] == "green"
    rel = Release.objects.get(pk=body["release"])
    assert rel.popup_number == 3 and rel.actor.username == "op_1" and rel.status_before["state"] == "popup"


def test_a_city_stay_the_itinerary_does_not_cover_is_refused_with_409_naming_it(caller):
    w = caller
    with time_machine.travel(at(2021, 8, 16, 10, 5), tick=False):
        # One microsecond short of the telecom stay: no overlap.
        edge = at(2021, 8, 10, 8) - dt.timedelta(microseconds=1)
        r = record(w, place(LOW_COUNTY_SAME_CITY, at(2021, 8, 9, 0), edge))
        assert r.status_code == 201, r.content
        piece = evidence_of(r.json())[("stay", str(w.telecom.pk))]
        assert piece["on_call"] is True and piece["covered"] is False
        # A county in another city covers nothing in 扬州市 either.
        r = record(w, place(OTHER_CITY_COUNTY, at(2021, 8, 10, 0), at(2021, 8, 12, 0)))
        assert evidence_of(r.json())[("stay", str(w.telecom.pk))]["covered"] is False
    with time_machine.travel(at(2021, 8, 16, 10, 10), tick=False):
        r = release(w)
        assert r.status_code == 409, r.content
        body = r.json()
        assert [(e["kind"], e["id"], e["covered"]) for e in body["evidence"]] == [("stay", str(w.telecom.pk), False)]
        assert f"#{w.telecom.pk}" in body["detail"]
        assert w.status(RESIDENT)["state"] == "popup"
    assert Release.objects.count() == 0
    assert Appeal.objects.get(pk=w.appeal).status == "routed"


def test_a_declared_county_that_is_medium_risk_is_refused_for_the_community(caller):
    w = caller
    with time_machine.travel(at(2021, 8, 16, 10, 5), tick=False):
        r = record(w, place(RISK_COUNTY, at(2021, 8, 10, 0), at(2021, 8, 11, 9)), reason="来电人称到过邗江区")
        assert r.status_code == 201, r.content
        body = r.json()
        declared = Stay.objects.get(source="declared", person__ref=w.resident)
        assert "popup3.risk_county_stay" in [x["rule"] for x in body["reasons"]]
        pieces = evidence_of(body)
        assert pieces[("stay", str(declared.pk))]["on_call"] is False
        # A declaration naming a risky county verifies nothing: the telecom stay stays uncovered.
        assert pieces[("stay", str(w.telecom.pk))]["covered"] is False
    with time_machine.travel(at(2021, 8, 16, 10, 10), tick=False):
        r = release(w)
    assert r.status_code == 409
    named = {(e["kind"], e["id"]): e for e in r.json()["evidence"]}
    assert named[("stay", str(declared.pk))]["precision"] == "county"
    assert "社区" in r.json()["detail"] or "community" in r.json()["detail"]
    assert Release.objects.count() == 0


def test_an_association_goes_to_the_community_whose_own_release_still_works(caller):
    w = caller
    with time_machine.travel(at(2021, 8, 16, 10, 1), tick=False):
        w.feed(
            "associations",
            {
                "external_id": "A1",
                "id_type": "resident_id",
                "id_number": RESIDENT,
                "kind": "epidemiological",
                "observed_at": iso(2021, 8, 12, 9),
                "detail": "同场所",
            },
        )
    with time_machine.travel(at(2021, 8, 16, 10, 5), tick=False):
        r = record(w, place(LOW_COUNTY_SAME_CITY, at(2021, 8, 10, 0), at(2021, 8, 11, 9)))
        pieces = {e["kind"]: e for e in r.json()["popup3_evidence"]}
        assert pieces["stay"]["covered"] is True
        assert pieces["association"]["on_call"] is False
    with time_machine.travel(at(2021, 8, 16, 10, 10), tick=False):
        r = release(w)
        assert r.status_code == 409
        assert [e["kind"] for e in r.json()["evidence"]] == ["association"]
        # The community the appeal is routed to releases it as before.
        popup = w.wa.get(f"/api/v1/persons/{w.resident}/popups/").json()[0]
        r = w.wa.post(f"/api/v1/popups/{popup['id']}/release/", {"reason": "社区核实", **CHECKS}, format="json")
        assert r.status_code == 200, r.content
        assert r.json()["state"] == "green"


# --- the 48-hour NAT rule (SPEC §4) when the declaration verifies by itself ----------------------


def nat(w, ext, sampled):
    w.feed(
        "lab-results",
        {
            "external_id": ext,
            "id_type": "resident_id",
            "id_number": RESIDENT,
            "sampled_at": sampled.isoformat(),
            "reported_at": (sampled + dt.timedelta(hours=6)).isoformat(),
            "result": "negative",
            "institution": "扬州市第一人民医院",
        },
    )


def test_a_nat_47h59_before_entry_lets_the_declaration_verify_by_itself(caller):
    w = caller
    with time_machine.travel(at(2021, 8, 16, 10, 1), tick=False):
        nat(w, "N1", ENTRY - dt.timedelta(hours=47, minutes=59))
    with time_machine.travel(at(2021, 8, 16, 10, 5), tick=False):
        r = record(w, place(LOW_COUNTY_SAME_CITY, at(2021, 8, 10, 0), at(2021, 8, 11, 9)))
        assert r.status_code == 201, r.content
        assert r.json()["state"] == "green" and r.json()["popup3_evidence"] == []
        # Nothing is left to release on the call.
        r = release(w)
        assert r.status_code == 409 and "evidence" not in r.json()
    assert Release.objects.count() == 0


def test_a_nat_48h01_before_entry_does_not_and_the_operator_releases_with_the_checklist(caller):
    w = caller
    with time_machine.travel(at(2021, 8, 16, 10, 1), tick=False):
        nat(w, "N1", ENTRY - dt.timedelta(hours=48, minutes=1))
    with time_machine.travel(at(2021, 8, 16, 10, 5), tick=False):
        r = record(w, place(LOW_COUNTY_SAME_CITY, at(2021, 8, 10, 0), at(2021, 8, 11, 9)))
        assert r.json()["state"] == "popup"
        assert evidence_of(r.json())[("stay", str(w.telecom.pk))]["covered"] is True
        # The checklist is the operator's word on the NAT: it must be complete.
        r = release(w, nat_negative=False)
        assert r.status_code == 400 and "nat_negative" in r.json()
        r = release(w)
        assert r.status_code == 200 and r.json()["state"] == "green"


# --- who may ----------------------------------------------------------------------------------------


def test_another_centres_operator_gets_404_and_creates_nothing(caller):
    w = caller
    with time_machine.travel(at(2021, 8, 16, 10, 5), tick=False):
        assert record(w, place(LOW_COUNTY_SAME_CITY, at(2021, 8, 10), at(2021, 8, 11)), who=w.op2).status_code == 404
        assert release(w, who=w.op2).status_code == 404
        assert (
            w.op2.post("/api/v1/appeals/999999/release/", {"reason": "x", **CHECKS}, format="json").status_code == 404
        )
    assert not ItineraryDeclaration.objects.exists()
    assert not Ingestion.objects.filter(feed="itinerary-on-call").exists()
    assert not AuditEvent.objects.filter(kind__startswith="appeal.", actor__username="op_2").exists()


def test_a_community_worker_and_the_cdc_are_refused_by_role_on_the_hotline_endpoints(caller):
    w = caller
    with time_machine.travel(at(2021, 8, 16, 10, 5), tick=False):
        for who in (w.wa, w.wb, w.cdc, w.hotel):
            assert record(w, place(LOW_COUNTY_SAME_CITY, at(2021, 8, 10), at(2021, 8, 11)), who=who).status_code == 403
            assert release(w, who=who).status_code == 403
    assert not ItineraryDeclaration.objects.exists() and Release.objects.count() == 0


def test_bad_input_is_400_naming_the_field(caller):
    w = caller
    url = f"/api/v1/appeals/{w.appeal}/itinerary/"
    good = place(LOW_COUNTY_SAME_CITY, at(2021, 8, 10), at(2021, 8, 11))
    with time_machine.travel(at(2021, 8, 16, 10, 5), tick=False):
        cases = [
            ({"places": [], "reason": "x"}, "places"),
            ({"places": [good]}, "reason"),
            ({"places": [good], "reason": "   "}, "reason"),
            ({"places": [{**good, "area_code": RISK_CITY}], "reason": "x"}, "places[0].area_code"),
            ({"places": [{**good, "area_code": "999999"}], "reason": "x"}, "places[0].area_code"),
            (
                {"places": [place(LOW_COUNTY_SAME_CITY, at(2021, 8, 11), at(2021, 8, 10))], "reason": "x"},
                "places[0].departed_at",
            ),
            ({"places": [place(LOW_COUNTY_SAME_CITY, at(2021, 8, 17), None)], "reason": "x"}, "places[0].arrived_at"),
            ({"places": [good], "reason": "x", "entered_beijing_at": iso(2021, 8, 17)}, "entered_beijing_at"),
            ({"places": [{**good, "arrived_at": "9999-01-01T00:00:00+08:00"}], "reason": "x"}, "places"),
            ({"places": "321002", "reason": "x"}, "places"),
        ]
        for body, field in cases:
            r = w.op.post(url, body, format="json")
            assert r.status_code == 400, (body, r.content)
            assert field in r.json(), (body, r.json())
        r = w.op.post(f"/api/v1/appeals/{w.appeal}/release/", {"reason": "x"}, format="json")
        assert r.status_code == 400 and set(r.json()) == {"itinerary_verified", "nat_negative", "commitment_signed"}
    assert not ItineraryDeclaration.objects.exists()


# --- the ticket restriction lifts in the same minute ------------------------------------------------


def poll(w, since=None):
    params = {"changed_since": since} if since else {}
    r = w.rail.get("/api/v1/restrictions/", params)
    assert r.status_code == 200, r.content
    return r.json()


def test_rail_polling_the_restrictions_feed_sees_the_caller_lifted_in_the_same_minute(caller):
    w = caller
    with time_machine.travel(at(2021, 8, 16, 10, 5), tick=False):
        first = poll(w)
        assert RESIDENT in [p["id_number"] for p in first["restricted"]]
        record(w, place(LOW_COUNTY_SAME_CITY, at(2021, 8, 10, 0), at(2021, 8, 11, 9)))
    released_at = at(2021, 8, 16, 10, 10, 0)
    with time_machine.travel(released_at, tick=False):
        started = time.perf_counter()
        assert release(w).status_code == 200
    # Rail polls again within the minute, from where it left off.
    with time_machine.travel(released_at + dt.timedelta(seconds=59), tick=False):
        page = poll(w, first["as_of"])
        seen = time.perf_counter() - started
    lifted = {p["id_number"]: p for p in page["lifted"]}
    assert RESIDENT in lifted and RESIDENT not in [p["id_number"] for p in page["restricted"]]
    assert dt.datetime.fromisoformat(lifted[RESIDENT]["at"]) == released_at
    assert seen < 60  # wall clock, release request to the feed showing it
    print(f"release → lifted in the restrictions feed: {seen * 1000:.0f} ms of wall clock")


# --- 返黄 ---------------------------------------------------------------------------------------------


def test_a_later_ticket_raises_the_popup_again_naming_the_release(caller):
    w = caller
    with time_machine.travel(at(2021, 8, 16, 10, 5), tick=False):
        record(w, place(LOW_COUNTY_SAME_CITY, at(2021, 8, 10, 0), at(2021, 8, 11, 9)))
    with time_machine.travel(at(2021, 8, 16, 10, 10), tick=False):
        body = release(w).json()
        first = poll(w)
    with time_machine.travel(at(2021, 8, 16, 14), tick=False):
        # A rail ticket to 邗江区 arrives late: it was not known at the release.
        w.feed("stays", stay(RESIDENT, "G7", RISK_COUNTY, iso(2021, 8, 12, 8), iso(2021, 8, 12, 20)))
        status = w.status(RESIDENT)
        assert status["state"] == "popup"
        (reason,) = status["reasons"]
        assert reason["rule"] == "popup3.risk_county_stay" and reason["after_release"] == body["release"]
        assert f"#{body['release']}" in reason["summary"]
        again = poll(w, first["as_of"])
        assert RESIDENT in [p["id_number"] for p in again["restricted"]]


# --- audit ----------------------------------------------------------------------------------------


def test_the_declaration_and_the_release_are_audited_with_reason_before_after_and_the_appeal(caller):
    w = caller
    with time_machine.travel(at(2021, 8, 16, 10, 5), tick=False):
        declaration = record(w, place(LOW_COUNTY_SAME_CITY, at(2021, 8, 10, 0), at(2021, 8, 11, 9))).json()[
            "declaration"
        ]
    with time_machine.travel(at(2021, 8, 16, 10, 10), tick=False):
        release_id = release(w).json()["release"]

    recorded = AuditEvent.objects.get(kind="appeal.itinerary_recorded")
    assert recorded.actor.username == "op_1" and recorded.reason == "来电人逐县核实：仅到过广陵区"
    assert recorded.detail["appeal"] == w.appeal and recorded.detail["tracking_number"] == w.tracking
    assert recorded.detail["declaration"] == declaration
    assert recorded.detail["status_before"]["state"] == "popup" and recorded.detail["status_after"]["state"] == "popup"
    assert recorded.detail["places"][0]["area_code"] == LOW_COUNTY_SAME_CITY

    released = AuditEvent.objects.get(kind="popup.released")
    assert released.detail["appeal"] == w.appeal and released.detail["on_call"] is True
    assert released.detail["status_before"]["state"] == "popup" and released.detail["status_after"]["state"] == "green"
    on_call = AuditEvent.objects.get(kind="appeal.released_on_call")
    assert on_call.detail["releases"] == [release_id] and on_call.detail["appeal"] == w.appeal
    assert on_call.detail["status_before"]["state"] == "popup" and on_call.detail["status_after"]["state"] == "green"
    assert on_call.detail["covered"] == [{"kind": "stay", "id": str(w.telecom.pk), "declaration": declaration}]

    # Provenance of the declaration: the operator and the appeal.
    d = ItineraryDeclaration.objects.get(pk=declaration)
    assert d.origin == "staff" and d.external_id.startswith(f"appeal-{w.appeal}-")
    assert d.ingestion.submitted_by.username == "op_1" and d.ingestion.feed == "itinerary-on-call"
    assert d.ingestion.payload["appeal"] == w.appeal and d.ingestion.payload["tracking_number"] == w.tracking

    # The appeal's history: opened, itinerary, released (resolved).
    events = list(AppealEvent.objects.filter(appeal_id=w.appeal).order_by("at", "pk"))
    assert [(e.from_status, e.to_status) for e in events] == [
        ("", "routed"),
        ("routed", "routed"),
        ("routed", "resolved"),
    ]
    assert LOW_COUNTY_SAME_CITY in events[1].reason and f"#{release_id}" in events[2].reason
    # The look-ups on the call name the appeal.
    assert AccessLog.objects.filter(actor__username="op_1", why__contains=w.tracking).count() >= 2

    # The auditor reads all of it for the person.
    r = w.auditor.get("/api/v1/audit/", {"person": w.resident})
    kinds = [e["kind"] for e in r.json()["results"]] if "results" in r.json() else [e["kind"] for e in r.json()]
    assert {"appeal.itinerary_recorded", "popup.released", "appeal.released_on_call"} <= set(kinds)


def test_a_closed_appeal_takes_no_more_itinerary_or_release(caller):
    w = caller
    with time_machine.travel(at(2021, 8, 16, 10, 5), tick=False):
        record(w, place(LOW_COUNTY_SAME_CITY, at(2021, 8, 10, 0), at(2021, 8, 11, 9)))
        assert release(w).status_code == 200
        assert record(w, place(LOW_COUNTY_SAME_CITY, at(2021, 8, 10), at(2021, 8, 11))).status_code == 409
        assert release(w).status_code == 409
    assert ItineraryDeclaration.objects.count() == 1 and Release.objects.count() == 1


# --- the appeal page in the admin -------------------------------------------------------------------


def admin_login(username):
    from django.contrib.auth import get_user_model
    from django.test import Client

    c = Client()
    c.force_login(get_user_model().objects.get(username=username))
    return c


def itinerary_post(area, arrived="2021-08-10T00:00", departed="2021-08-11T09:00", reason="电话逐县核实"):
    return {
        "itinerary-reason": reason,
        "itinerary-entered_beijing_at": "2021-08-11T12:00",
        "itinerary-places-TOTAL_FORMS": "3",
        "itinerary-places-INITIAL_FORMS": "0",
        "itinerary-places-MIN_NUM_FORMS": "1",
        "itinerary-places-MAX_NUM_FORMS": "60",
        "itinerary-places-0-area_code": area,
        "itinerary-places-0-arrived_at": arrived,
        "itinerary-places-0-departed_at": departed,
    }


def test_the_operator_records_and_releases_on_the_appeal_page_and_others_get_no_such_step(caller):
    from tests.nested_forms import nested_forms

    w = caller
    page = f"/admin/appeals/appeal/{w.appeal}/change/"
    step = f"/admin/appeals/appeal/{w.appeal}/step/"
    with time_machine.travel(at(2021, 8, 16, 10, 5), tick=False):
        op = admin_login("op_1")
        html = op.get(page).content.decode()
        assert nested_forms(html) == []
        assert f'id="evidence-stay-{w.telecom.pk}"' in html and 'data-mark="uncovered"' in html
        assert f'<option value="{LOW_COUNTY_SAME_CITY}">' in html  # 扬州市's counties offered
        # A county code that is not a county: the error sits on the row, the input kept.
        r = op.post(step + "itinerary/", itinerary_post(RISK_CITY))
        assert r.status_code == 200 and not ItineraryDeclaration.objects.exists()
        assert 'id="on-call-place-0"' in r.content.decode() and f'value="{RISK_CITY}"' in r.content.decode()
        assert "errorlist" in r.content.decode().split('id="on-call-place-0"')[1].split("</fieldset>")[0]
        # A departure before the arrival: a form error too, nothing recorded.
        r = op.post(step + "itinerary/", itinerary_post(LOW_COUNTY_SAME_CITY, "2021-08-11T00:00", "2021-08-10T00:00"))
        assert r.status_code == 200 and not ItineraryDeclaration.objects.exists()
        r = op.post(step + "itinerary/", itinerary_post(LOW_COUNTY_SAME_CITY))
        assert r.status_code == 302, r.content.decode()[:2000]
        html = op.get(page).content.decode()
        assert 'data-mark="covered"' in html and 'id="on-call-declarations"' in html
        # The community the appeal is routed to, and another centre: no such step.
        worker = admin_login("worker_a").get(page).content.decode()
        assert 'id="on-call"' not in worker and "/step/itinerary/" not in worker
        assert admin_login("op_2").post(step + "release_on_call/", {}).status_code == 404
        r = admin_login("worker_a").post(
            step + "release_on_call/", {"release_on_call-reason": "x", **{f"release_on_call-{k}": "on" for k in CHECKS}}
        )
        assert r.status_code == 403 and Release.objects.count() == 0
        r = op.post(
            step + "release_on_call/",
            {
                "release_on_call-reason": "电话核实，核酸阴性，已签承诺书",
                **{f"release_on_call-{k}": "on" for k in CHECKS},
            },
        )
        assert r.status_code == 302
        assert w.status(RESIDENT)["state"] == "green"
    assert Appeal.objects.get(pk=w.appeal).status == "resolved"


def test_a_refused_release_on_the_page_names_the_evidence_beside_the_button(caller):
    w = caller
    with time_machine.travel(at(2021, 8, 16, 10, 5), tick=False):
        op = admin_login("op_1")
        r = op.post(
            f"/admin/appeals/appeal/{w.appeal}/step/release_on_call/",
            {"release_on_call-reason": "电话核实", **{f"release_on_call-{k}": "on" for k in CHECKS}},
        )
    assert r.status_code == 409
    form = r.content.decode().split('id="step-release_on_call"')[1].split("</form>")[0]
    assert f"#{w.telecom.pk}" in form and "errorlist" in form
    assert Release.objects.count() == 0
