"""The feeds of API.md: batches, per-record errors, idempotency by (source, external_id)."""

import time_machine

from apps.evidence.models import Ingestion, Stay
from tests.api.helpers import CHAOYANG, RISK_COUNTY, at, iso, popups, rid, stay

IDN = rid("11010519900101123")


def test_it_keeps_valid_records_and_reports_bad_ones_by_index(world):
    with time_machine.travel(at(2021, 8, 3, 9), tick=False):
        body = world.feed(
            "stays",
            stay(IDN, "a", CHAOYANG, iso(2021, 8, 1, 8), iso(2021, 8, 1, 18)),
            stay(IDN, "b", "999999", iso(2021, 8, 1, 8), None),
            stay(IDN, "c", "321000", iso(2021, 8, 1, 8), None, precision="county"),
            stay(IDN[:-1] + "0" if IDN[-1] != "0" else IDN[:-1] + "1", "d", CHAOYANG, iso(2021, 8, 1, 8), None),
            stay(None, "e", "321000", iso(2021, 8, 1, 8), None, precision="city", source="telecom"),
        )
    assert body["accepted"] == 1
    rejected = {r["index"]: r["errors"] for r in body["rejected"]}
    assert set(rejected) == {1, 2, 3, 4}
    assert "area_code" in rejected[1] and "area_code" in rejected[2]
    assert "id_number" in rejected[3] and "phone" in rejected[4]
    ingestion = Ingestion.objects.get()
    assert len(ingestion.payload["records"]) == 5, "the batch is kept as received"


def test_it_counts_a_changed_resend_as_an_update_and_keeps_the_earlier_version(world):
    with time_machine.travel(at(2021, 8, 3, 9), tick=False):
        first = stay(IDN, "G1-0801", RISK_COUNTY, iso(2021, 8, 1, 8), iso(2021, 8, 2, 8))
        assert world.feed("stays", first)["accepted"] == 1
        assert world.feed("stays", first)["duplicates"] == 1
        refunded = dict(first, refunded=True)
        assert world.feed("stays", refunded) == {"accepted": 0, "updated": 1, "duplicates": 0, "rejected": []}
    row = Stay.objects.get(source="rail", external_id="G1-0801")
    assert row.refunded is True
    assert [h.refunded for h in row.history.order_by("history_id")] == [False, True]


def test_a_refunded_ticket_stops_raising_the_popup(world):
    with time_machine.travel(at(2021, 8, 3, 9), tick=False):
        world.person(IDN)
        world.designate(RISK_COUNTY, "high", iso(2021, 8, 2))
        record = stay(IDN, "G1-0801", RISK_COUNTY, iso(2021, 8, 1, 8), iso(2021, 8, 2, 8))
        world.feed("stays", record)
        assert popups(world.status(IDN)) == [3]
        world.feed("stays", dict(record, refunded=True))
        assert world.status(IDN)["state"] == "green"


def test_it_answers_400_for_a_body_without_records(world):
    for body in ({"record": []}, [], {"records": {}}):
        assert world.feeds.post("/api/v1/feeds/stays/", body, format="json").status_code == 400
    assert world.feeds.post("/api/v1/feeds/nope/", {"records": []}, format="json").status_code == 404


def test_a_partner_without_the_feeds_scope_is_refused(world):
    assert world.gate.post("/api/v1/feeds/stays/", {"records": []}, format="json").status_code == 403
    assert world.wa.post("/api/v1/feeds/stays/", {"records": []}, format="json").status_code == 403


def test_the_batch_kept_as_received_holds_no_clear_id_number(world):
    with time_machine.travel(at(2021, 8, 3, 9), tick=False):
        world.feed("stays", stay(IDN, "a", CHAOYANG, iso(2021, 8, 1, 8), iso(2021, 8, 1, 18)))
    ingestion = Ingestion.objects.get()
    assert IDN not in ingestion.payload_encrypted
    assert ingestion.payload["records"][0]["id_number"] == IDN
