"""`manage.py generate_population` writes persons, phones, evidence, history and computed statuses
with the same derived fields the services store (issue 6). Never timed: the benchmarks measure
speed, these tests only check that what they run on is right."""

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from apps.core import crypto
from apps.core.masking import mask_id_number, mask_name, mask_phone
from apps.devtools.bench.report import BEGIN, END, table, verdicts, write
from apps.devtools.population import HISTORY_REASON, population_generate
from apps.evidence.models import HealthEvent, Ingestion, LabResult, Stay
from apps.evidence.services import content_hash
from apps.people.identity import validate_id
from apps.people.models import Person, Phone
from apps.people.services import person_id_hash, phone_hash
from apps.status.models import PersonStatus


def generate(*args) -> dict:
    out = io.StringIO()
    call_command("generate_population", *args, "--json", stdout=out, stderr=io.StringIO())
    return json.loads(out.getvalue().strip().splitlines()[-1])


def test_it_creates_persons_with_phones_evidence_and_statuses(areas):
    report = generate("--persons", "300", "--chunk", "120")
    assert report["persons"] == 300
    assert Person.objects.count() == 300
    assert PersonStatus.objects.count() == 300
    assert not PersonStatus.objects.filter(dirty_since__isnull=False).exists()
    assert PersonStatus.objects.exclude(state="green").exists()  # the seeds' high-risk county and border port
    rows = report["rows"]
    assert rows["phones"] == Phone.objects.count() >= 300
    assert rows["stays"] == Stay.objects.count() > 0
    assert rows["lab_results"] == LabResult.objects.count() > 0
    assert rows["health_events"] == HealthEvent.objects.count() > 0
    assert Stay.objects.filter(precision="county", person__isnull=False).exists()
    assert Stay.objects.filter(precision="city", source="telecom", person__isnull=True).exclude(phone_hash="").exists()
    ingestion = Ingestion.objects.get(feed="population")
    assert ingestion.record_count == sum(v for k, v in rows.items() if k not in ("persons", "phones", "telecom_stays"))


def test_every_row_has_the_derived_fields_the_services_store(areas):
    population_generate(persons=60, chunk=25)
    for person in Person.objects.all():
        number = crypto.decrypt(person.id_encrypted)
        assert validate_id(person.id_type, number) == number
        assert person.id_hash == person_id_hash(person.id_type, number)
        assert person.display_id == mask_id_number(number)
        assert person.display_name == mask_name(person.name)
        assert person.ref and number not in person.ref
    for phone in Phone.objects.all():
        number = crypto.decrypt(phone.number_encrypted)
        assert (phone.number_hash, phone.display_number) == (phone_hash(number), mask_phone(number))
    stay = Stay.objects.filter(person__isnull=False).select_related("person").first()
    record = {
        "source": stay.source,
        "external_id": stay.external_id,
        "area_code": stay.area_id,
        "precision": stay.precision,
        "arrived_at": stay.arrived_at,
        "departed_at": stay.departed_at,
        "refunded": stay.refunded,
        "id_type": stay.person.id_type,
        "id_number": crypto.decrypt(stay.person.id_encrypted),
    }
    assert stay.content_hash == content_hash(record)  # resending it through the feed is a duplicate
    assert Person.history.filter(history_change_reason=HISTORY_REASON).count() == 60
    assert Stay.history.count() == Stay.objects.count()


def test_running_it_again_appends_new_persons(areas):
    population_generate(persons=40, chunk=40)
    first = set(Person.objects.values_list("id_hash", flat=True))
    population_generate(persons=40, chunk=40)
    assert Person.objects.count() == 80
    assert first < set(Person.objects.values_list("id_hash", flat=True))
    assert Ingestion.objects.filter(feed="population").count() == 2
    assert PersonStatus.objects.count() == 80


def test_it_requires_the_areas(no_areas):
    with pytest.raises(CommandError, match="load_areas"):
        generate("--persons", "5")


def test_the_report_rewrites_only_its_table(tmp_path):
    results = verdicts(
        {
            "persons": 10,
            "sections": {
                "sweep": {
                    "persons": 10,
                    "one_percent": {"seconds": 0.1, "recomputed": 1},
                    "all": {"seconds": 4.0, "recomputed": 10},
                    "ratio": 0.025,
                    "ratio_of": "1% / 100%",
                    "target": "<= 0.05",
                }
            },
        }
    )
    assert results["sections"]["sweep"]["met"] is True
    report = tmp_path / "BENCHMARKS.md"
    report.write_text(f"# Benchmarks\n\nhand-written\n\n{BEGIN}\nold\n{END}\n\nmore by hand\n", encoding="utf-8")
    write(results, results_path=tmp_path / "bench" / "results.json", report_path=report)
    text = report.read_text(encoding="utf-8")
    assert "hand-written" in text and "more by hand" in text and "old" not in text
    assert table(results) in text
    assert json.loads((tmp_path / "bench" / "results.json").read_text())["sections"]["sweep"]["ratio"] == 0.025


def test_it_refuses_a_database_with_a_real_key(areas, settings):
    settings.PERSONAL_DATA_KEY = "a-real-production-key"
    with pytest.raises(CommandError, match="allow-real-key"):
        generate("--persons", "5")
    assert not Person.objects.exists()
