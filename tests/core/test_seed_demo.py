"""`manage.py seed_demo`: logins that work, a partner token, persons and evidence created once."""

import io
import re

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from apps.accounts.choices import Role
from apps.accounts.models import ApiToken, Organisation, User
from apps.accounts.services import token_digest
from apps.devtools.demo import DEMO_PASSWORD, demo_seed
from apps.evidence.models import HealthEvent, InboundArrival, Ingestion, LabResult, ObservationOrder, Stay
from apps.people.identity import validate_id
from apps.people.models import Person, Phone
from apps.people.services import person_id_number


def seed(*args) -> list[str]:
    out = io.StringIO()
    call_command("seed_demo", "--persons", "50", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue().splitlines()


def logins(lines: list[str]) -> dict[str, list[str]]:
    """The rows of the printed logins table, by username."""
    start = next(i for i, line in enumerate(lines) if line.split()[:2] == ["username", "role"])
    rows = {}
    for line in lines[start + 1 :]:
        if not line.strip():
            break
        cells = re.split(r"\s{2,}", line.strip())
        rows[cells[0]] = cells
    return rows


@pytest.fixture
def seeded(areas):
    return seed()


def test_it_prints_one_login_per_role_and_the_admin(seeded):
    rows = logins(seeded)
    roles = {cells[1] for cells in rows.values()}
    assert roles == {r for r in Role.values if r != Role.PARTNER} | {"superuser"}
    assert rows["admin"][1] == "superuser"
    assert all(DEMO_PASSWORD in cells for cells in rows.values())


def test_the_printed_admin_password_logs_in(seeded, client, portal_login):
    _username, role, _organisation, password, _token = logins(seeded)["admin"]
    assert (role, password) == ("superuser", DEMO_PASSWORD)
    assert portal_login("admin", password)
    assert User.objects.get(username="admin").is_superuser
    assert client.get("/admin/").status_code == 200


def test_every_printed_staff_login_works(seeded, client, portal_login):
    for username, cells in logins(seeded).items():
        client.logout()
        assert portal_login(username, DEMO_PASSWORD), username
        if username != "admin":
            token = cells[-1]
            assert ApiToken.objects.filter(digest=token_digest(token), revoked_at__isnull=True, user__username=username)


def test_it_prints_the_partners_working_token_last(seeded):
    token = seeded[-1].strip()
    assert "demo-gateway" in seeded[-2]
    row = ApiToken.objects.select_related("user__partner").get(digest=token_digest(token), revoked_at__isnull=True)
    assert sorted(row.user.partner.scopes) == ["feeds", "restrictions", "status"]


def test_it_builds_the_two_districts(seeded):
    for district in ("110105", "110108"):
        org = Organisation.objects.get(code=f"D-{district}")
        assert org.area_id == district
        streets = org.children.filter(kind="street")
        assert streets.count() == 2
        for street in streets:
            assert 2 <= street.children.filter(kind="community").count() <= 3
        assert org.children.filter(kind="hotel").count() == 2
        assert org.children.filter(kind="tourism_bureau").count() == 1
    assert Organisation.objects.filter(kind="hotline").count() == 3
    assert Organisation.objects.filter(kind="cdc").count() == 1


def test_it_creates_persons_with_valid_ids_phones_and_evidence(seeded):
    persons = Person.objects.all()
    assert persons.count() == 50
    assert not persons.filter(community__isnull=True).exists()
    assert not persons.exclude(community__kind="community").exists()
    for person in persons:
        number = person_id_number(person)
        assert validate_id(person.id_type, number) == number
        assert number not in (person.display_id, person.name, person.ref)
        assert person.birth_date is not None
        assert 1 <= person.phones.values("number_hash").distinct().count() <= 2
    ingestion = Ingestion.objects.get(feed="demo")
    evidence = [Stay, LabResult, HealthEvent, InboundArrival, ObservationOrder]
    assert sum(m.objects.filter(ingestion=ingestion).count() for m in evidence) == ingestion.record_count > 0
    assert not Stay.objects.filter(source="telecom", person__isnull=False).exists()
    assert not Stay.objects.filter(source="telecom").exclude(precision="city").exists()
    assert not Stay.objects.filter(source__in=["rail", "air"]).exclude(precision="county").exists()
    assert InboundArrival.objects.count() >= 2 and ObservationOrder.objects.count() >= 2


def test_running_it_again_does_not_duplicate(seeded):
    counts = (Person.objects.count(), Phone.objects.count(), Stay.objects.count(), Organisation.objects.count())
    old_token = seeded[-1].strip()
    again = seed()
    assert (Person.objects.count(), Phone.objects.count(), Stay.objects.count(), Organisation.objects.count()) == counts
    assert Ingestion.objects.filter(feed="demo").count() == 1
    assert User.objects.filter(username="admin").count() == 1
    assert "admin" in logins(again)
    new_token = again[-1].strip()
    assert ApiToken.objects.filter(digest=token_digest(new_token), revoked_at__isnull=True).exists()
    assert not ApiToken.objects.filter(digest=token_digest(old_token), revoked_at__isnull=True).exists()


def test_the_same_seed_gives_the_same_people(areas):
    first = demo_seed(persons=20, seed=3)
    hashes = set(Person.objects.values_list("id_hash", flat=True))
    Ingestion.objects.filter(feed="demo").update(feed="demo-old")  # let it create again
    second = demo_seed(persons=20, seed=3)
    assert first["created"]["persons"] == 20
    assert second["created"]["persons"] == 0  # the same IDs: nobody new
    assert set(Person.objects.values_list("id_hash", flat=True)) == hashes


def test_it_requires_the_areas(no_areas):
    with pytest.raises(CommandError, match="load_areas"):
        seed()
