"""The person page, the one place staff look at a person (SPEC §1, §5, §7): the status with its
reasons in plain Chinese, the masked identity, the evidence timeline of every kind (one query per
kind), the actions the role allows, and an access-log entry with the why of every look-up."""

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.translation import gettext as _

from apps.audit.models import AccessLog
from apps.casework import services
from apps.evidence.choices import Precision, StaySource
from apps.evidence.models import ObservationOrder
from apps.people.models import Person
from tests.api.helpers import RISK_CITY, RISK_COUNTY, at, iso, stay
from tests.casework_admin.conftest import CHECKED, LI, REASON, WANG, admin_client, appeal

PHONE = "13812345678"


def page_of(person) -> str:
    return reverse("admin:people_person_change", args=[person.pk])


def person_record(world, idn, n: int, *, prefix="X"):
    """`n` records of every kind a feed brings, for one person, all in the look-back window."""
    for i in range(n):
        day = 14 + i % 10
        world.feed("stays", stay(idn, f"{prefix}S{i}", "110105", iso(2021, 7, day, 8), iso(2021, 7, day, 20)))
        world.feed(
            "stays",
            stay(
                None,
                f"{prefix}T{i}",
                RISK_CITY,
                iso(2021, 7, day, 8),
                iso(2021, 7, day, 9),
                precision="city",
                source="telecom",
                phone=PHONE,
            ),
        )
        person = {"id_type": "resident_id", "id_number": idn}
        world.feed(
            "lab-results",
            {**person, "external_id": f"{prefix}L{i}", "sampled_at": iso(2021, 7, day, 11), "result": "negative"},
        )
        world.feed(
            "health-events",
            {
                **person,
                "external_id": f"{prefix}E{i}",
                "kind": "drug_purchase",
                "occurred_at": iso(2021, 7, day, 12),
                "detail": "antipyretic",
            },
        )
        world.feed(
            "inbound-arrivals",
            {**person, "external_id": f"{prefix}A{i}", "entered_at": iso(2021, 6, 1 + i), "port": "首都机场"},
        )
        world.feed(
            "associations",
            {
                **person,
                "external_id": f"{prefix}C{i}",
                "kind": "venue_scan",
                "observed_at": iso(2021, 7, day, 13),
                "detail": "扫码",
            },
        )
        declaration = {
            **person,
            "entered_beijing_at": iso(2021, 7, 25, 10),
            "places": [{"area_code": "321002", "arrived_at": iso(2021, 7, 23, 7), "departed_at": iso(2021, 7, 23, 9)}],
        }
        assert world.gate.post("/api/v1/itinerary-declarations/", declaration, format="json").status_code == 201


@pytest.fixture
def recorded(case):
    """王 with a record of every kind: stays (also telecom, through a bound phone), a lab result, a
    health event, an inbound arrival, an association, a declaration, a home order, a verification
    and a registration with CA."""
    with time_machine.travel(at(2021, 7, 28, 9, 10), tick=False):
        phones = [{"number": PHONE, "channel": "wechat", "bound_at": iso(2021, 1, 1), "unbound_at": None}]
        case.person(WANG, community="CA", phones=phones)
        person_record(case, WANG, 1)
        actor = case_user("worker_a")
        services.itinerary_verify(actor=actor, person=case.wang, note="电话核实", remote=True)
        services.order_start(actor=actor, person=case.wang, kind="home", reason="居家观察", origin="admin")
        body = {"id_type": "resident_id", "id_number": WANG, "community": "CA", "arriving_at": iso(2021, 7, 28, 18)}
        assert case.gate.post("/api/v1/community-registrations/", body, format="json").status_code == 201
    return case


def case_user(username):
    from apps.accounts.models import User

    return User.objects.get(username=username)


def test_it_shows_the_status_and_its_reasons_in_plain_chinese(case, clock):
    r = admin_client("worker_a").get(page_of(case.wang), {"why": "work queue: popup ③ #1"})
    assert r.status_code == 200
    page = r.content.decode()
    assert 'data-state="popup"' in page and "弹窗" in page
    assert "弹窗③：涉及中高风险地区或风险关联" in page  # the popup's title
    assert "请联系居住地社区" in page  # its guidance
    assert "该地现为中风险地区" in page  # the reason, in plain Chinese
    assert "社区或疾控核实行程后人工解除" in page  # what clears it
    stay_id = case.wang.stays.get().pk
    assert f'href="#ev-stay-{stay_id}"' in page and f'id="ev-stay-{stay_id}"' in page  # evidence → timeline
    # Masked identity only.
    assert case.wang.display_name in page and case.wang.display_id in page
    assert WANG not in page and case.wang.name not in page


def test_every_look_up_is_logged_with_its_why(case, clock):
    c = admin_client("worker_a")
    c.get(page_of(case.wang), {"why": "work queue: popup ③ #7"})
    c.get(page_of(case.wang))
    logs = list(AccessLog.objects.filter(person=case.wang).order_by("pk").values_list("why", "via", "actor__username"))
    assert logs == [
        ("work queue: popup ③ #7", "admin", "worker_a"),
        ("admin: person page", "admin", "worker_a"),
    ]


def test_the_timeline_shows_every_kind_of_record_newest_first(recorded, clock):
    r = admin_client("worker_a").get(page_of(recorded.wang), {"why": "test"})
    timeline = r.context["case"]["timeline"]
    kinds = {e.kind for e in timeline.entries}
    assert kinds == {
        "stay",
        "lab_result",
        "health_event",
        "inbound_arrival",
        "observation_order",
        "association",
        "declaration",
        "registration",
        "verification",
    }
    moments = [e.at for e in timeline.entries]
    assert moments == sorted(moments, reverse=True)
    telecom = next(e for e in timeline.entries if e.kind == "stay" and e.precision == Precision.CITY.label)
    assert telecom.source == StaySource.TELECOM.label
    assert telecom.detail == _("through a phone number bound to the person")
    rail = next(e for e in timeline.entries if e.kind == "stay" and e.source == StaySource.RAIL.label)
    assert rail.precision == Precision.COUNTY.label and RISK_COUNTY in rail.title
    page = r.content.decode()
    assert 'id="timeline"' in page and "首都机场" in page and "扫码" in page


def test_a_release_and_the_popup_it_raises_again_are_on_the_page(case, clock):
    c = admin_client("worker_a")
    assert c.post("/admin/casework/queue/", {"person": [case.wang.pk], "reason": REASON, **CHECKED}).status_code == 302
    with time_machine.travel(at(2021, 7, 28, 11), tick=False):
        # A late ticket into the same county, learnt after the release: 返弹.
        case.feed("stays", stay(WANG, "LATE", RISK_COUNTY, iso(2021, 7, 24, 8), iso(2021, 7, 25, 8)))
        r = c.get(page_of(case.wang))
    release = case.wang.releases.get()
    page = r.content.decode()
    assert f'id="ev-release-{release.pk}"' in page
    reason = r.context["case"]["popups"][0]["reasons"][0]
    assert reason["after_release"] == str(release.pk)
    assert "after-release" in page and f"#{release.pk}" in page


def test_the_page_costs_the_same_number_of_queries_for_a_long_record(case, django_assert_max_num_queries):
    c = admin_client("cdc_1")
    with time_machine.travel(at(2021, 7, 28, 9, 10), tick=False):
        case.person(LI, community="CA", phones=[{"number": PHONE, "channel": "wechat", "bound_at": iso(2021, 1, 1)}])
        person_record(case, LI, 1, prefix="one")
        case.status(LI)
    with time_machine.travel(at(2021, 7, 28, 10), tick=False), CaptureQueriesContext(connection) as few:
        assert c.get(page_of(case.li)).status_code == 200
    budget = len(few)  # read now: the next request clears the connection's query log
    with time_machine.travel(at(2021, 7, 28, 9, 20), tick=False):
        person_record(case, LI, 8, prefix="many")
        case.status(LI)
    with time_machine.travel(at(2021, 7, 28, 10), tick=False), django_assert_max_num_queries(budget) as many:
        r = c.get(page_of(case.li))
    assert len(r.context["case"]["timeline"].entries) > 60
    assert len(many) <= budget <= 30


@pytest.mark.parametrize(("username", "code"), [("worker_b", 404), ("hotel_1", 404), ("auditor_1", 403)])
def test_it_is_refused_outside_the_jurisdiction_and_to_roles_without_person_pages(case, clock, username, code):
    assert admin_client(username).get(page_of(case.wang)).status_code == code
    assert not AccessLog.objects.filter(person=case.wang).exists()


@pytest.mark.parametrize(
    ("username", "expected"),
    [
        ("worker_a", {"release", "orders/new", "verify", "community", "identity"}),
        ("cdc_1", {"release", "orders/new", "orders/new?kind", "verify", "community", "identity"}),
        ("op_1", set()),
    ],
)
def test_it_offers_only_the_actions_the_role_may_take(case, clock, username, expected):
    appeal(case.wang, "CA", at(2021, 7, 29, 9), "A-1")  # lets the hotline see 王
    r = admin_client(username).get(page_of(case.wang))
    assert r.status_code == 200
    urls = [url for _label, url, _style in r.context["case"]["actions"]]
    shown = set()
    for url in urls:
        tail = url.split(f"/persons/{case.wang.ref}/")[1]
        shown.add("orders/new?kind" if "kind=centralized" in tail else tail.split("?")[0].rstrip("/"))
    assert shown == expected
    # Only the roles that work the case see the evidence; the hotline sees status and reasons.
    sees_evidence = username != "op_1"
    assert (r.context["case"]["timeline"] is not None) is sees_evidence
    assert ('id="timeline"' in r.content.decode()) is sees_evidence


def test_orders_and_registrations_in_progress_offer_their_actions(recorded, clock):
    r = admin_client("worker_a").get(page_of(recorded.wang))
    (order,) = r.context["case"]["orders"]
    assert order["order"].kind == "home" and order["end_url"].startswith(
        reverse("casework_admin:order_end", args=[order["order"].pk])
    )
    (registration,) = r.context["case"]["registrations"]
    assert registration["decide_url"].startswith(
        reverse("casework_admin:registration_decide", args=[registration["registration"].pk])
    )
    # The CDC's centralised order is offered to no community worker.
    services.order_start(
        actor=case_user("cdc_1"), person=recorded.wang, kind="centralized", reason="密接", origin="api"
    )
    r = admin_client("worker_a").get(page_of(recorded.wang))
    ends = {o["order"].kind: o["end_url"] for o in r.context["case"]["orders"]}
    assert ends["centralized"] == "" and ends["home"]
    assert ObservationOrder.objects.filter(person=recorded.wang).count() == 2
    assert Person.objects.get(pk=recorded.wang.pk).status.state == "red"


def test_the_timeline_shows_a_number_s_stays_only_while_it_belonged_to_the_person(case, clock):
    """A phone number changes hands: its earlier holder's movements (before the binding) and a
    later holder's (past `phone_unbind_days` after unbinding) are never on this person's page;
    those inside the period, and up to the edge of the grace, are."""
    from apps.casework.selectors import person_timeline

    with time_machine.travel(at(2021, 7, 28, 9), tick=False):
        phones = [{"number": PHONE, "channel": "wechat", "bound_at": iso(2021, 7, 10), "unbound_at": iso(2021, 7, 12)}]
        case.person(WANG, community="CA", phones=phones)

        def telecom(ext, arrived, departed):
            s = stay(None, ext, RISK_CITY, arrived, departed, precision="city", source="telecom", phone=PHONE)
            case.feed("stays", s)

        telecom("before", iso(2021, 7, 1, 8), iso(2021, 7, 9, 23, 59))  # left a minute before the binding
        telecom("bound", iso(2021, 7, 10, 8), iso(2021, 7, 10, 20))
        telecom("grace", iso(2021, 7, 25, 23, 59), iso(2021, 7, 26, 8))  # arrived a minute inside 14 days
        telecom("after", iso(2021, 7, 26, 0), iso(2021, 7, 26, 8))  # 14 days after unbinding: not ours
    from apps.evidence.models import Stay

    ids = [e.id for e in person_timeline(Person.objects.get(pk=case.wang.pk)).entries if e.kind == "stay"]
    shown = set(Stay.objects.filter(pk__in=ids).values_list("external_id", flat=True))
    assert {"bound", "grace"} <= shown
    assert not {"before", "after"} & shown
