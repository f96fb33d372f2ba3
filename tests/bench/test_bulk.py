"""`apps.core.bulk`: rows written in bulk (COPY on PostgreSQL) are the rows and history rows that
`bulk_create_with_history` writes."""

import datetime as dt

from apps.accounts.services import partner_upsert
from apps.core.bulk import objs_create_with_history, rows_insert_with_history
from apps.evidence.models import Ingestion, Stay
from apps.people.models import Person

T = dt.datetime(2021, 8, 1, 9, tzinfo=dt.UTC)


def test_objs_are_created_with_their_history_and_the_requests_user(db, monkeypatch):
    partner, _token = partner_upsert(name="feeds", scopes=["feeds"])
    from simple_history.models import HistoricalRecords

    class Request:
        user = partner.user

    monkeypatch.setattr(HistoricalRecords.context, "request", Request(), raising=False)
    ingestion = Ingestion.objects.create(feed="stays", received_at=T)
    objs = [
        Stay(
            source="rail",
            external_id=f"x{i}",
            ingestion=ingestion,
            ingested_at=T,
            area_id="110105",
            precision="county",
            arrived_at=T,
        )
        for i in range(3)
    ]
    objs_create_with_history(objs, Stay)
    assert all(o.pk for o in objs)
    assert sorted(Stay.objects.values_list("external_id", flat=True)) == ["x0", "x1", "x2"]
    history = Stay.history.order_by("id")
    assert [h.id for h in history] == [o.pk for o in objs]
    assert {h.history_type for h in history} == {"+"}
    assert {h.history_user_id for h in history} == {partner.user.pk}
    assert {h.ingestion_id for h in history} == {ingestion.pk}


def test_rows_get_ids_callable_defaults_and_history(db):
    rows = [
        {
            "id_type": "passport",
            "id_hash": f"h{i}",
            "id_encrypted": "x",
            "display_id": "E*****1",
            "created_at": T,
            "updated_at": T,
        }
        for i in range(2)
    ]
    rows_insert_with_history(Person, rows, T, change_reason="test")
    people = list(Person.objects.order_by("id"))
    assert [p.pk for p in people] == [r["id"] for r in rows]
    assert len({p.ref for p in people}) == 2  # a callable default is called per row
    assert Person.history.filter(history_change_reason="test").count() == 2
