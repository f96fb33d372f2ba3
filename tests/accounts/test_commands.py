"""create_org, create_staff and create_partner (API.md "Accounts from the command line")."""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from apps.accounts.models import ApiToken, Organisation, PartnerSystem, User
from apps.accounts.services import token_digest


def run(*args) -> list[str]:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return [line.strip() for line in out.getvalue().splitlines() if line.strip()]


def last_line(*args) -> str:
    return run(*args)[-1]


def live(token: str) -> bool:
    return ApiToken.objects.filter(digest=token_digest(token), revoked_at__isnull=True).exists()


@pytest.fixture
def district(areas):
    last_line("create_org", "D105", "--kind", "district", "--name", "朝阳区", "--area", "110105")
    return Organisation.objects.get(code="D105")


# create_org


def test_it_creates_an_organisation_and_prints_its_code(areas):
    assert last_line("create_org", "D105", "--kind", "district", "--name", "朝阳区", "--area", "110105") == "D105"
    org = Organisation.objects.get(code="D105")
    assert (org.kind, org.name, org.area_id, org.parent_id) == ("district", "朝阳区", "110105", None)


def test_it_gives_a_child_its_parent_and_the_parents_area(district):
    assert last_line("create_org", "C1", "--kind", "community", "--name", "水岸家园社区", "--parent", "D105") == "C1"
    org = Organisation.objects.get(code="C1")
    assert org.parent == district
    assert org.area_id == "110105"


def test_it_updates_an_organisation_run_again(district):
    assert last_line("create_org", "D105", "--kind", "district", "--name", "北京市朝阳区") == "D105"
    assert Organisation.objects.filter(code="D105").count() == 1
    assert Organisation.objects.get(code="D105").name == "北京市朝阳区"


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (("--kind", "castle", "--name", "x"), "kind"),
        (("--kind", "district", "--name", "x", "--area", "999999"), "area"),
        (("--kind", "community", "--name", "x", "--parent", "NOPE"), "parent"),
    ],
)
def test_it_rejects_bad_input_naming_the_field(areas, args, field):
    with pytest.raises(CommandError) as exc:
        run("create_org", "X1", *args)
    assert str(exc.value).startswith(f"{field}:")
    assert not Organisation.objects.filter(code="X1").exists()


# create_staff


def test_it_creates_staff_and_prints_a_working_token(district):
    token = last_line(
        "create_staff", "worker_a", "--role", "community_worker", "--org", "D105", "--password", "s3cret!"
    )
    user = User.objects.get(username="worker_a")
    assert (user.role, user.organisation, user.is_staff) == ("community_worker", district, True)
    assert user.check_password("s3cret!")
    assert live(token)
    assert ApiToken.objects.get(digest=token_digest(token)).user == user
    assert token not in {t.digest for t in ApiToken.objects.all()}  # only its digest is stored


def test_it_changes_the_role_run_again_and_rotates_the_token(district):
    first = last_line("create_staff", "u1", "--role", "community_worker", "--org", "D105", "--password", "pw-1")
    last_line("create_org", "CDC", "--kind", "cdc", "--name", "市疾控")
    second = last_line("create_staff", "u1", "--role", "cdc_officer", "--org", "CDC")
    user = User.objects.get(username="u1")
    assert User.objects.filter(username="u1").count() == 1
    assert (user.role, user.organisation.code) == ("cdc_officer", "CDC")
    assert user.check_password("pw-1")  # no --password: the password is left alone
    assert live(second)
    assert not live(first)
    assert ApiToken.objects.get(digest=token_digest(first)).revoked_at is not None


def test_staff_without_a_password_cannot_log_in(district, portal_login):
    last_line("create_staff", "u2", "--role", "auditor", "--org", "D105")
    assert not portal_login("u2", "")
    assert not portal_login("u2", "anything")


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (("--role", "emperor", "--org", "D105"), "role"),
        (("--role", "partner", "--org", "D105"), "role"),
        (("--role", "auditor", "--org", "NOPE"), "org"),
    ],
)
def test_it_rejects_a_bad_role_or_org_naming_it(district, args, field):
    with pytest.raises(CommandError) as exc:
        run("create_staff", "u3", *args)
    assert str(exc.value).startswith(f"{field}:")
    assert not User.objects.filter(username="u3").exists()


# create_partner


def test_it_creates_a_partner_and_prints_a_working_token(db):
    token = last_line("create_partner", "gateway", "--scopes", "status, feeds")
    partner = PartnerSystem.objects.get(name="gateway")
    assert partner.scopes == ["feeds", "status"]
    assert partner.user.role == "partner"
    assert live(token)
    assert ApiToken.objects.get(digest=token_digest(token)).user == partner.user


def test_it_changes_the_scopes_run_again_and_rotates_the_token(db):
    first = last_line("create_partner", "gateway", "--scopes", "status")
    second = last_line("create_partner", "gateway", "--scopes", "feeds,restrictions")
    assert PartnerSystem.objects.filter(name="gateway").count() == 1
    assert PartnerSystem.objects.get(name="gateway").scopes == ["feeds", "restrictions"]
    assert live(second)
    assert not live(first)


@pytest.mark.parametrize("scopes", ["status,teleport", "", " , "])
def test_it_rejects_unknown_or_missing_scopes_naming_them(db, scopes):
    with pytest.raises(CommandError) as exc:
        run("create_partner", "gateway", "--scopes", scopes)
    assert str(exc.value).startswith("scopes:")
    assert not PartnerSystem.objects.filter(name="gateway").exists()


def test_the_scopes_error_names_the_unknown_scope(db):
    with pytest.raises(CommandError, match="teleport"):
        run("create_partner", "gateway", "--scopes", "status,teleport")
