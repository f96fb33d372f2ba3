"""The cast of the test suite: organisations, staff of every role (SPEC §6–§7) — an insider, a
colleague and an outsider of each — and partner systems, made with the ORM through the accounts
services (`organisation_upsert`, `staff_upsert`, `partner_upsert`), so tokens, passwords and the
second factor work as in production. The management commands that wrap those services are
tested as commands (tests/accounts/test_commands.py); every other test starts here.

Each persona is made on first use, under the clock of `BUILT_AT` (before every story of the
suite), with the one password `PASSWORD`; its organisation and that organisation's parents come
first. A `Personas` is one test's cast (the test's transaction rolls it back):

    p = Personas()
    p.client("worker_a").get("/api/v1/persons/…")   # the API as worker_a, with a token of theirs
    p.user("op_1"), p.org("CA"), p.token("gateway")
    p.build("officer_1", "officer_2")               # make them now (their rows are looked at)

The areas the organisations sit in are the country's divisions, loaded once per test database
(tests/conftest.py). Who may see what is SPEC §7 and apps/accounts/access.py; the comments below
only say what each persona is for.
"""

import datetime as dt
from dataclasses import dataclass

import time_machine
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from apps.accounts.services import organisation_upsert, partner_upsert, staff_upsert
from apps.core.clock import LOCAL_TZ

CHAOYANG = "110105"  # 北京市朝阳区
HAIDIAN = "110108"  # 北京市海淀区
BUILT_AT = dt.datetime(2021, 7, 1, 9, tzinfo=LOCAL_TZ)
PASSWORD = "correct-horse-battery-9"


@dataclass(frozen=True)
class Org:
    kind: str
    name: str
    parent: str | None = None
    area: str | None = None  # a GB/T 2260 code; an organisation with a parent has the parent's


@dataclass(frozen=True)
class Staff:
    role: str
    org: str
    sees: str


@dataclass(frozen=True)
class Partner:
    scopes: tuple[str, ...]
    sees: str


ORGS: dict[str, Org] = {
    "D105": Org("district", "朝阳区", area=CHAOYANG),
    "D108": Org("district", "海淀区", area=HAIDIAN),
    "CA": Org("community", "水岸家园社区", parent="D105", area=CHAOYANG),
    "CB": Org("community", "另一社区", parent="D105", area=CHAOYANG),
    "H1": Org("hotel", "测试酒店", parent="D105", area=CHAOYANG),
    "H2": Org("hotel", "第二酒店", parent="D105", area=CHAOYANG),
    "H3": Org("hotel", "海淀酒店", parent="D108", area=HAIDIAN),
    "TB105": Org("tourism_bureau", "朝阳区文旅局", area=CHAOYANG),
    "TB108": Org("tourism_bureau", "海淀区文旅局", area=HAIDIAN),
    "HL12345": Org("hotline", "12345热线"),
    "HL12306": Org("hotline", "12306"),
    "CDC": Org("cdc", "市疾控"),  # the smallest CDC code: appeals without a community go here
    "CDC-B": Org("cdc", "区疾控"),
}

STAFF: dict[str, Staff] = {
    # community workers: the persons resident in their community, or with an open registration or
    # appeal there
    "worker_a": Staff("community_worker", "CA", "insider: the residents and work items of 水岸家园社区 (CA)"),
    "worker_c": Staff("community_worker", "CA", "colleague of worker_a: the same community, the same persons"),
    "worker_b": Staff("community_worker", "CB", "outsider: 另一社区 (CB) of the same district, none of CA's"),
    # hotel staff: their hotel's current guests, and its past guests for lookback_days
    "hotel_1": Staff("hotel_staff", "H1", "insider: the guests of 测试酒店 (H1)"),
    "hotel_1b": Staff("hotel_staff", "H1", "colleague of hotel_1: the same hotel, the same guests"),
    "hotel_2": Staff("hotel_staff", "H2", "outsider: 第二酒店 (H2) of the same district, none of H1's guests"),
    "hotel_3": Staff("hotel_staff", "H3", "outsider: 海淀酒店 (H3) of another district (海淀区)"),
    # culture-and-tourism officers: the hotels and guests of their district; they change nothing
    "officer_1": Staff("tourism_officer", "TB105", "insider: the hotels of 朝阳区 (H1, H2) and their guests"),
    "officer_1b": Staff("tourism_officer", "TB105", "colleague of officer_1: the same district"),
    "officer_2": Staff("tourism_officer", "TB108", "outsider: 海淀区's hotels (H3) only"),
    # hotline operators: the masked status and reasons of the person an appeal of their centre is about
    "op_1": Staff("hotline_operator", "HL12345", "insider: the callers of the 12345 centre's appeals"),
    "op_1b": Staff("hotline_operator", "HL12345", "colleague of op_1: the same centre's appeals"),
    "op_2": Staff("hotline_operator", "HL12306", "outsider: the 12306 centre's appeals only"),
    # CDC officers: everyone; they order observation and release any popup
    "cdc_1": Staff("cdc_officer", "CDC", "insider: every person"),
    "cdc_2": Staff("cdc_officer", "CDC", "colleague of cdc_1: every person"),
    "cdc_b": Staff("cdc_officer", "CDC-B", "another CDC: every person too (routing picks the CDC)"),
    # policy administrators: areas and policy (designations, local cases, border ports, parameters)
    "policy_1": Staff("policy_admin", "CDC", "insider: areas and policy, no person"),
    "policy_2": Staff("policy_admin", "CDC", "colleague of policy_1: the same"),
    "policy_b": Staff("policy_admin", "CDC-B", "of another organisation: the same (policy is city-wide)"),
    # auditors: every audit and access record, and nothing to change
    "auditor_1": Staff("auditor", "CDC", "insider: every audit event and access-log row"),
    "auditor_2": Staff("auditor", "CDC", "colleague of auditor_1: the same"),
    "auditor_b": Staff("auditor", "CDC-B", "of another organisation: the same (the audit is city-wide)"),
}

PARTNERS: dict[str, Partner] = {
    "feeds-partner": Partner(("feeds",), "sends persons and the evidence feeds; reads no status"),
    "gateway": Partner(("status",), "the channel gateway: anyone's status by ID number, registrations"),
    "rail": Partner(("restrictions",), "the railway: the ticket-restrictions feed only"),
    "all-scopes": Partner(("feeds", "restrictions", "status"), "a partner with every scope"),
}


class Personas:
    """One test's cast, each member made on first use (see the module's docstring)."""

    def __init__(self) -> None:
        self._orgs: dict = {}
        self._users: dict = {}
        self._tokens: dict[str, str] = {}
        self._clients: dict[str, APIClient] = {}

    def org(self, code: str):
        """The organisation `code` of ORGS, with its parents."""
        if code not in self._orgs:
            spec = ORGS[code]
            if spec.parent:
                self.org(spec.parent)
            with time_machine.travel(BUILT_AT, tick=False):
                self._orgs[code], _created = organisation_upsert(
                    code=code, kind=spec.kind, name=spec.name, area_code=spec.area, parent_code=spec.parent
                )
        return self._orgs[code]

    def user(self, name: str):
        """The User of a staff member (by username) or of a partner system (by its name)."""
        if name in self._users:
            return self._users[name]
        if name in STAFF:
            spec = STAFF[name]
            self.org(spec.org)
            with time_machine.travel(BUILT_AT, tick=False):
                user, token = staff_upsert(username=name, role=spec.role, org_code=spec.org, password=PASSWORD)
        else:
            with time_machine.travel(BUILT_AT, tick=False):
                partner, token = partner_upsert(name=name, scopes=list(PARTNERS[name].scopes))
            user = partner.user
        self._users[name], self._tokens[name] = user, token
        return user

    def token(self, name: str) -> str:
        """An API token of theirs, made by the service that makes them (the last one it issued)."""
        self.user(name)
        return self._tokens[name]

    def client(self, name: str) -> APIClient:
        """An API client that sends their token (the same client each time in one test)."""
        if name not in self._clients:
            self._clients[name] = token_client(self.token(name))
        return self._clients[name]

    def build(self, *names: str) -> None:
        """Make these personas now: staff usernames, partner names or organisation codes."""
        for name in names:
            if name in ORGS:
                self.org(name)
            else:
                self.user(name)

    def everyone(self) -> None:
        self.build(*ORGS, *STAFF, *PARTNERS)

    def superuser(self, username: str = "root"):
        """A superuser (no role, no organisation: createsuperuser's kind, not a persona)."""
        return get_user_model().objects.create_superuser(username, email=f"{username}@example.org", password=PASSWORD)


def token_client(token: str) -> APIClient:
    c = APIClient()
    c.credentials(HTTP_AUTHORIZATION="Token " + token)
    return c
