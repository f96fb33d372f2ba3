"""The suite's cast (tests/personas.py) and its reference data: every persona is what the services
make of it, with a token that works, and each role has an insider, a colleague and an outsider;
the country's divisions are there in every test, also after a transactional test flushed the
database, and nothing a test made outlives it."""

import csv
from collections import defaultdict

import pytest

from apps.accounts.choices import OrgKind, Role
from apps.accounts.models import ApiToken, Organisation, User
from apps.accounts.services import token_digest
from apps.areas.models import Area
from apps.areas.services import DIVISIONS_CSV
from tests.personas import BUILT_AT, ORGS, PARTNERS, PASSWORD, STAFF

# The kind of organisation each role works in (SPEC §6).
ORG_KIND = {
    Role.COMMUNITY_WORKER: OrgKind.COMMUNITY,
    Role.HOTEL_STAFF: OrgKind.HOTEL,
    Role.TOURISM_OFFICER: OrgKind.TOURISM_BUREAU,
    Role.HOTLINE_OPERATOR: OrgKind.HOTLINE,
    Role.CDC_OFFICER: OrgKind.CDC,
    Role.POLICY_ADMIN: OrgKind.CDC,
    Role.AUDITOR: OrgKind.CDC,
}


def divisions_in_file() -> int:
    with DIVISIONS_CSV.open(encoding="utf-8", newline="") as f:
        return sum(1 for _row in csv.DictReader(f))


def test_every_staff_persona_is_a_staff_user_of_its_role_and_organisation_with_a_working_token(personas):
    personas.everyone()
    for name, spec in STAFF.items():
        user = User.objects.select_related("organisation").get(username=name)
        assert (user.role, user.organisation.code, user.is_staff, user.is_superuser) == (
            spec.role,
            spec.org,
            True,
            False,
        )
        assert user.organisation.kind == ORG_KIND[spec.role], name
        assert user.check_password(PASSWORD) and user.date_joined == BUILT_AT
        token = ApiToken.objects.get(digest=token_digest(personas.token(name)))
        assert token.user == user and token.revoked_at is None
        assert personas.client(name).get("/api/v1/ping/").status_code == 200, name
    assert personas.client("worker_a") is personas.client("worker_a")


def test_every_partner_persona_has_its_scopes_and_a_working_token(personas):
    for name, spec in PARTNERS.items():
        user = personas.user(name)
        assert (user.role, user.is_staff, sorted(user.partner.scopes)) == (Role.PARTNER, False, sorted(spec.scopes))
        assert personas.client(name).get("/api/v1/ping/").status_code == 200, name


def test_organisations_sit_in_their_parents_area():
    for code, spec in ORGS.items():
        if spec.parent:
            assert ORGS[spec.parent].area == spec.area, code


def test_each_role_has_an_insider_a_colleague_and_an_outsider():
    orgs_by_role = defaultdict(list)
    for spec in STAFF.values():
        orgs_by_role[spec.role].append(spec.org)
    assert set(orgs_by_role) == set(Role.values) - {Role.PARTNER}
    for role, orgs in orgs_by_role.items():
        insider = orgs[0]
        assert orgs.count(insider) >= 2, f"{role}: no colleague of the insider"
        assert any(org != insider for org in orgs), f"{role}: no outsider"


def test_a_persona_is_made_only_when_asked_for(personas):
    personas.client("hotel_3")
    assert set(Organisation.objects.values_list("code", flat=True)) == {"H3", "D108"}
    assert list(User.objects.values_list("username", flat=True)) == ["hotel_3"]


def test_the_country_is_loaded_in_a_test_that_rolls_back(db):
    assert Area.objects.count() == divisions_in_file()


# pytest-django runs the transactional tests after the others, in the order of the file: the flush
# at the end of the first empties every table, and the divisions are loaded again for the second.


@pytest.mark.django_db(transaction=True)
def test_a_transactional_test_sees_the_country_and_commits_a_persona(personas):
    assert Area.objects.count() == divisions_in_file()
    personas.build("worker_a")
    assert User.objects.filter(username="worker_a").exists()


@pytest.mark.django_db(transaction=True)
def test_after_a_transactional_test_the_country_is_back_and_its_rows_are_gone():
    assert Area.objects.count() == divisions_in_file()
    assert not User.objects.exists() and not Organisation.objects.exists() and not ApiToken.objects.exists()
