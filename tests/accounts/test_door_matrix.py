"""The door matrix (issue "One door", SPEC §7 as the oracle): every staff role and organisation
against every admin URL and every API route found in the URLconf.

The world holds an outsider: a person with popup ③, stays, a test, an order, a popup episode and
a release, but no community, registration, appeal or hotel stay, so SPEC §7 lets only the CDC
(and the status scope) see them. Every other role requests every page of the admin — each
changelist, each change and history page of each of the outsider's records, every custom page
with the outsider's reference or record ids in its path — and every API route with the outsider's
ids in its path. A leak is any answer that shows the outsider: a 2xx page or body holding their
reference, masked ID or masked name. No answer may be a 5xx. The matrix must show 0 leaks."""

import re

import pytest
import time_machine
from django.contrib import admin
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from apps.accounts.models import User
from apps.evidence.models import LabResult, ObservationOrder, Stay
from apps.people.models import Person
from apps.reviews.models import ReleaseReview
from apps.status.models import Popup, Release
from tests.api.helpers import RISK_COUNTY, at, client, iso, rid, stay

OUTSIDER = rid("32100319850101002")
RESIDENT = rid("11010519900101123")
CHECKED = {"itinerary_verified": True, "nat_negative": True, "commitment_signed": True}
# Who may see the outsider (SPEC §7): the CDC sees everyone; auditors read every audit record,
# whoever it is about (the audit of manual changes and look-ups, and releases).
SEES_OUTSIDER = {"cdc_1"}
AUDIT_RECORDS = {
    "audit.auditevent",
    "audit.accesslog",
    "status.release",
    "status.releaseattachment",
    "reviews.releasereview",
    "reviews.reviewdecision",
}
# API routes of audit records (a release's review: SPEC §5), which auditors read whoever it is about.
AUDIT_ROUTES = ("/review/",)
STAFF = ["worker_a", "worker_b", "hotel_1", "officer_1", "op_1", "policy_1", "auditor_1", "cdc_1"]


@pytest.fixture
def w(world):
    with time_machine.travel(at(2021, 7, 28, 9), tick=False):
        world.personas.build("officer_1", "op_1", "auditor_1")
        world.resident = world.person(RESIDENT, community="CA")
        world.outsider = world.person(OUTSIDER, name="欧阳明")
        for idn, ext in ((RESIDENT, "G1"), (OUTSIDER, "G2")):
            world.feed("stays", stay(idn, ext, RISK_COUNTY, iso(2021, 7, 20, 8), iso(2021, 7, 22, 8)))
        world.feed(
            "lab-results",
            {
                "external_id": "L1",
                "id_type": "resident_id",
                "id_number": OUTSIDER,
                "sampled_at": iso(2021, 7, 23, 8),
                "reported_at": iso(2021, 7, 23, 20),
                "result": "negative",
                "institution": "某检测机构",
            },
        )
        world.designate(RISK_COUNTY, "medium", iso(2021, 7, 28, 0))
        # The outsider's own work items, with organisations none of the probed staff belong to:
        # a stay at a hotel of another district, an appeal of another hotline centre (routed to
        # the CDC, as the outsider has no community).
        world.hotel_3 = world.personas.client("hotel_3")  # H3, in 海淀区
        world.op_2 = world.personas.client("op_2")  # the 12306 centre
        world.status(OUTSIDER)
        world.status(RESIDENT)
    with time_machine.travel(at(2021, 7, 28, 10), tick=False):
        popup = Popup.objects.get(person__ref=world.outsider, number=3, ended_at__isnull=True)
        r = world.cdc.post(f"/api/v1/popups/{popup.pk}/release/", {"reason": "核实", **CHECKED}, format="json")
        assert r.status_code == 200, r.content
        r = world.cdc.post(
            "/api/v1/orders/", {"person": world.outsider, "kind": "home", "reason": "居家"}, format="json"
        )
        assert r.status_code == 201, r.content
        guest = {
            "person": {"id_type": "resident_id", "id_number": OUTSIDER},
            "checked_in_at": iso(2021, 7, 28, 9),
            "nat": {"sampled_at": iso(2021, 7, 27, 9), "result": "negative", "at_hotel": False},
        }
        r = world.hotel_3.post("/api/v1/hotel-stays/", guest, format="json")
        assert r.status_code == 201, r.content
        world.hotel_stay = r.json()["id"]
        appeal = {
            "person": {"id_type": "resident_id", "id_number": OUTSIDER},
            "channel": "12306",
            "category": "wrongly_flagged",
            "description": "没去过",
        }
        r = world.op_2.post("/api/v1/appeals/", appeal, format="json")
        assert r.status_code == 201, r.content
        world.appeal = r.json()["id"]
    return world


def outsider_marks(person: Person) -> list[str]:
    return [person.ref, person.display_id, person.display_name]


def outsider_objects(person: Person) -> dict[str, list]:
    """The outsider's records by model label: the objects whose pages must not open."""
    return {
        "people.person": [person],
        "evidence.stay": list(Stay.objects.filter(person=person)),
        "evidence.labresult": list(LabResult.objects.filter(person=person)),
        "evidence.observationorder": list(ObservationOrder.objects.filter(person=person)),
        "status.popup": list(Popup.objects.filter(person=person)),
        "status.release": list(Release.objects.filter(person=person)),
        "reviews.releasereview": list(ReleaseReview.objects.filter(release__person=person)),
        "status.personstatus": [person.status],
        "hotels.hotelstay": list(person.hotel_stays.all()),
        "hotels.currentguest": list(person.hotel_stays.all()),
        "appeals.appeal": list(person.appeals.all()),
    }


def walk(patterns, prefix=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            yield from walk(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern)


PARAM = re.compile(r"<(?:(\w+):)?(\w+)>")


def fill(route: str, values: dict) -> str | None:
    """A route with its parameters filled from `values` (None when one has no value)."""
    route = route.lstrip("^").rstrip("$")
    if "(?P" in route:
        return None

    def one(match):
        value = values.get(match.group(2))
        if value is None:
            raise KeyError(match.group(2))
        return str(value)

    try:
        return "/" + PARAM.sub(one, route)
    except KeyError:
        return None


def custom_routes() -> list[str]:
    """Every route with parameters outside the ModelAdmins' own (change, history, delete)."""
    return sorted({r for r in walk(get_resolver().url_patterns) if "<" in r and "(?P" not in r})


def assert_no_leak(name, url, response, marks, leaks, errors):
    if response.status_code >= 500:
        errors.append((name, url, response.status_code))
    if 200 <= response.status_code < 300:
        body = response.content.decode("utf-8", "replace")
        found = [m for m in marks if m and m in body]
        if found:
            leaks.append((name, url, found))


def test_no_role_but_the_cdc_sees_the_outsider_on_any_admin_page(w):
    outsider = Person.objects.get(ref=w.outsider)
    marks = outsider_marks(outsider)
    objects = outsider_objects(outsider)
    leaks, errors, opened = [], [], 0
    with time_machine.travel(at(2021, 7, 28, 11), tick=False):
        for username in STAFF:
            c = Client()
            c.force_login(User.objects.get(username=username))
            for model in admin.site._registry:
                opts = model._meta
                base = f"/admin/{opts.app_label}/{opts.model_name}/"
                urls = [base]
                for obj in objects.get(opts.label_lower, []):
                    urls += [f"{base}{obj.pk}/change/", f"{base}{obj.pk}/history/"]
                for url in urls:
                    response = c.get(url)
                    opened += 1
                    if username in SEES_OUTSIDER or (username == "auditor_1" and opts.label_lower in AUDIT_RECORDS):
                        if response.status_code >= 500:
                            errors.append((username, url, response.status_code))
                        continue
                    assert_no_leak(username, url, response, marks, leaks, errors)
            values = {
                "ref": outsider.ref,
                "person_ref": outsider.ref,
                "popup_id": objects["status.popup"][0].pk,
                "order_id": objects["evidence.observationorder"][0].pk,
                "release_id": objects["status.release"][0].pk,
                "pk": outsider.pk,
                "person_id": outsider.pk,
                "appeal_id": w.appeal,
                "hotel_stay_id": w.hotel_stay,
            }
            for route in custom_routes():
                if not route.startswith("admin/"):
                    continue
                url = fill(route, values)
                if url is None:
                    continue
                response = c.get(url)
                opened += 1
                if username not in SEES_OUTSIDER:
                    assert_no_leak(username, url, response, marks, leaks, errors)
                elif response.status_code >= 500:
                    errors.append((username, url, response.status_code))
    assert opened > 300
    assert errors == []
    assert leaks == []


def test_no_role_but_the_cdc_reaches_the_outsider_through_any_api_route(w):
    outsider = Person.objects.get(ref=w.outsider)
    marks = outsider_marks(outsider)
    objects = outsider_objects(outsider)
    values = {
        "ref": outsider.ref,
        "popup_id": objects["status.popup"][0].pk,
        "order_id": objects["evidence.observationorder"][0].pk,
        "release_id": objects["status.release"][0].pk,
        "id": objects["status.release"][0].pk,
        "appeal_id": w.appeal,
        "hotel_stay_id": w.hotel_stay,
    }
    routes = [r for r in custom_routes() if r.startswith("api/")]
    assert routes, "the URLconf has API routes with parameters"
    leaks, errors, tried = [], [], 0
    tokens = {
        name: w.personas.token(name)
        for name in ("worker_a", "worker_b", "hotel_1", "officer_1", "op_1", "policy_1", "auditor_1")
    }
    with time_machine.travel(at(2021, 7, 28, 11), tick=False):
        for name, token in tokens.items():
            c = client(token)
            for route in routes:
                url = fill(route, values)
                if url is None:
                    continue
                for method in ("get", "post"):
                    body = {"reason": "探测", **CHECKED} if method == "post" else None
                    response = getattr(c, method)(url, body, format="json") if body else c.get(url)
                    tried += 1
                    if response.status_code >= 500:
                        errors.append((name, method, url, response.status_code))
                    if 200 <= response.status_code < 300:
                        if name == "auditor_1" and method == "get" and any(r in url for r in AUDIT_ROUTES):
                            continue
                        leaks.append((name, method, url, response.status_code))
                        assert_no_leak(name, url, response, marks, leaks, errors)
            # The status look-up by ID number and the persons write: staff who may not see the
            # outsider learn nothing (404) or are refused by role (403).
            by_id = c.get("/api/v1/status/", {"id_type": "resident_id", "id_number": OUTSIDER})
            assert by_id.status_code in (403, 404), (name, by_id.status_code)
            write = c.post(
                "/api/v1/persons/",
                {"id_type": "resident_id", "id_number": OUTSIDER, "community": "CA", "reason": "接管"},
                format="json",
            )
            assert write.status_code in (403, 404), (name, write.status_code)
    assert tried > 20
    assert errors == []
    assert leaks == []
    assert Person.objects.get(ref=w.outsider).community_id is None
