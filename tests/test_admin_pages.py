"""The admin: every page answers, personal data stays masked, and users see only the persons
the access layer lets them see (SPEC §7)."""

import datetime as dt

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.test import RequestFactory
from django.urls import reverse
from simple_history.admin import SimpleHistoryAdmin

from apps.accounts.models import ApiToken, Organisation, PartnerSystem
from apps.accounts.services import api_token_issue
from apps.appeals.models import Appeal, AppealEvent
from apps.areas.models import Area
from apps.audit.models import AccessLog, AuditEvent
from apps.audit.services import access_log_record, audit_event_record
from apps.casework.models import CommunityRegistration, ItineraryVerification
from apps.core.clock import now
from apps.evidence.models import (
    Association,
    DeclaredPlace,
    HealthEvent,
    InboundArrival,
    Ingestion,
    ItineraryDeclaration,
    LabResult,
    ObservationOrder,
    Stay,
)
from apps.hotels.models import HotelStay
from apps.people.admin import PersonAdmin
from apps.people.models import Person
from apps.people.services import PhoneInput, person_upsert
from apps.policy.models import BorderPortCounty, LocalCaseReport, PolicyVersion, RiskDesignation
from apps.status.models import Popup, Release, StatusTransition
from apps.status.services import status_refresh

PROJECT_APPS = (
    "accounts",
    "areas",
    "policy",
    "people",
    "evidence",
    "status",
    "casework",
    "hotels",
    "appeals",
    "reviews",
    "audit",
)
APPEND_ONLY = (AuditEvent, AccessLog, Release, StatusTransition, AppealEvent)
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK = "10X98765432"


def resident_id(first17: str) -> str:
    """A valid resident ID: the ISO 7064 MOD 11-2 check character after the first 17 digits."""
    return first17 + CHECK[sum(int(c) * w for c, w in zip(first17, WEIGHTS, strict=True)) % 11]


WANG_ID = resident_id("11010519900101123")
LI_ID = resident_id("11010819851231004")
PHONE = "13812345678"


def changelist(model) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def change_url(obj) -> str:
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])


def secrets_of(person) -> list[str]:
    """What must never appear on a page: the clear ID and name, the hash, the ciphertext."""
    return [person.id_hash, person.id_encrypted, person.name]


@pytest.fixture
def communities(areas):
    district = Organisation.objects.create(code="D105", kind="district", name="朝阳区", area_id="110105")
    a = Organisation.objects.create(code="CA", kind="community", name="水岸家园社区", area_id="110105", parent=district)
    b = Organisation.objects.create(code="CB", kind="community", name="另一社区", area_id="110105", parent=district)
    return a, b


@pytest.fixture
def superuser(django_user_model):
    return django_user_model.objects.create_superuser("root", "root@example.org", "pw")


@pytest.fixture
def wang(communities):
    person, _created = person_upsert(
        id_type="resident_id",
        id_number=WANG_ID,
        name="王小明",
        community=communities[0],
        phones=[PhoneInput(number=PHONE, channel="wechat", bound_at=now() - dt.timedelta(days=30))],
    )
    return person


@pytest.fixture
def li(communities):
    person, _created = person_upsert(id_type="resident_id", id_number=LI_ID, name="李大红", community=communities[1])
    return person


@pytest.fixture
def worker(django_user_model, communities):
    """A community worker of community A who may view persons and lab results."""
    user = django_user_model.objects.create_user(
        "worker_a", password="pw", role="community_worker", organisation=communities[0], is_staff=True
    )
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_person", "view_labresult", "view_personstatus"])
    )
    return user


@pytest.fixture
def rows(superuser, wang, li, communities):
    """At least one row of every model of the portal, so every list and change page renders (but
    stays: see test_it_lists_stays)."""
    t = now()
    community, _other = communities
    hotel = Organisation.objects.create(code="H1", kind="hotel", name="测试酒店", area_id="110105")
    ingestion = Ingestion.objects.create(
        feed="stays", received_at=t, payload={"records": [{"id_number": WANG_ID}]}, record_count=1, accepted=1
    )
    feed = {"ingestion": ingestion, "ingested_at": t}
    nat = LabResult.objects.create(
        source="lab", external_id="L1", person=wang, sampled_at=t, result="negative", institution="某医院", **feed
    )
    LabResult.objects.create(source="lab", external_id="L2", person=li, sampled_at=t, result="negative", **feed)
    HealthEvent.objects.create(
        source="pharmacy", external_id="E1", person=wang, kind="drug_purchase", occurred_at=t, **feed
    )
    InboundArrival.objects.create(source="border", external_id="A1", person=wang, entered_at=t, port="首都机场", **feed)
    ObservationOrder.objects.create(source="cdc", external_id="O1", person=wang, kind="home", starts_at=t, **feed)
    Association.objects.create(
        source="cdc", external_id="X1", person=wang, kind="epidemiological", observed_at=t, **feed
    )
    declaration = ItineraryDeclaration.objects.create(
        source="declared", external_id="D1", person=wang, submitted_at=t, **feed
    )
    DeclaredPlace.objects.create(declaration=declaration, area_id="110108", arrived_at=t - dt.timedelta(days=3))
    status_refresh(person_id=wang.pk)
    status_refresh(person_id=li.pk)
    StatusTransition.objects.create(person=wang, from_state="green", to_state="yellow", at=t)
    release = Release.objects.create(
        person=wang,
        popup_number=3,
        actor=superuser,
        reason="核验无误",
        itinerary_verified=True,
        nat_negative=True,
        commitment_signed=True,
        evidence_watermark=ingestion.pk,
        status_before={"state": "popup"},
        created_at=t,
    )
    Popup.objects.create(
        person=wang, number=3, since=t - dt.timedelta(days=1), ended_at=t, ended_by="release", release=release
    )
    CommunityRegistration.objects.create(person=wang, community=community, arriving_at=t, from_area_id="110108")
    ItineraryVerification.objects.create(
        person=wang, verified_by=superuser, verified_at=t, declaration=declaration, note="电话核验"
    )
    HotelStay.objects.create(hotel=hotel, person=wang, checked_in_at=t, nat=nat, registered_by=superuser)
    appeal = Appeal.objects.create(
        tracking_number="12345-0001",
        person=wang,
        channel="12345",
        category="wrongly_flagged",
        description="误伤",
        caller_phone_encrypted="secret-ciphertext",
        caller_phone_display="138****5678",
        due_at=t + dt.timedelta(days=1),
        opened_by=superuser,
        routed_to=community,
    )
    AppealEvent.objects.create(appeal=appeal, to_status="routed", routed_to=community, actor=superuser, at=t)
    RiskDesignation.objects.create(area_id="110108", level="medium", effective_from=t)
    LocalCaseReport.objects.create(external_id="LC1", area_id="110108", reported_on=t.date(), ingested_at=t)
    BorderPortCounty.objects.create(area_id="110108", effective_from=t)
    PolicyVersion.objects.create(effective_from=t)
    audit_event_record(kind="popup.released", actor=superuser, person=wang, reason="核验无误")
    access_log_record(actor=superuser, person=wang, why="appeal 12345-0001", via="admin")
    api_token_issue(user=superuser)
    PartnerSystem.objects.create(name="rail", scopes=["feeds"], user=superuser)


@pytest.fixture
def stay(wang):
    return Stay.objects.create(
        source="rail",
        external_id="S1",
        person=wang,
        area_id="110105",
        precision="county",
        arrived_at=now(),
        ingested_at=now(),
        phone_hash="a" * 64,
    )


def test_it_lists_stays(client, superuser, stay):
    client.force_login(superuser)
    assert client.get(changelist(Stay)).status_code == 200
    page = client.get(change_url(stay)).content.decode()
    assert "a" * 64 not in page


def test_it_registers_every_model_of_the_portal():
    registered = admin.site._registry
    for label in PROJECT_APPS:
        for model in apps.get_app_config(label).get_models():
            if model.__name__.startswith("Historical"):
                continue
            assert model in registered, f"{model._meta.label} has no admin"
            if hasattr(model, "history"):
                assert isinstance(registered[model], SimpleHistoryAdmin), f"{model._meta.label} shows no history"


def test_it_answers_every_changelist_add_and_change_page(client, superuser, rows, wang):
    client.force_login(superuser)
    request = RequestFactory().get("/admin/")
    request.user = superuser
    for model, model_admin in admin.site._registry.items():
        response = client.get(changelist(model))
        assert response.status_code == 200, f"{model._meta.label} changelist: {response.status_code}"
        if model_admin.has_add_permission(request):
            response = client.get(reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_add"))
            assert response.status_code == 200, f"{model._meta.label} add: {response.status_code}"
        obj = model_admin.get_queryset(request).first()
        if obj is not None:
            response = client.get(change_url(obj))
            assert response.status_code == 200, f"{model._meta.label} change: {response.status_code}"
            page = response.content.decode()
            for secret in (*secrets_of(wang), WANG_ID, "secret-ciphertext", PHONE):
                assert secret not in page, f"{model._meta.label} change page shows {secret!r}"


def test_it_shows_the_person_masked_in_the_list(client, superuser, wang):
    client.force_login(superuser)
    response = client.get(changelist(Person))
    page = response.content.decode()
    assert response.status_code == 200
    assert "王**" in page
    assert wang.display_id in page
    for secret in (*secrets_of(wang), WANG_ID):
        assert secret not in page


def test_it_shows_the_person_page_masked_and_logs_the_look_up(client, superuser, wang):
    client.force_login(superuser)
    response = client.get(change_url(wang) + "?why=appeal 12345-0001")
    page = response.content.decode()
    assert response.status_code == 200
    assert "王**" in page
    for secret in (*secrets_of(wang), WANG_ID, PHONE):
        assert secret not in page
    log = AccessLog.objects.get(person=wang)
    assert (log.actor, log.via, log.why) == (superuser, "admin", "appeal 12345-0001")
    links = response.context["person_records"]
    assert len(links) >= 10
    for _label, url in links:
        listed = client.get(url)
        assert listed.status_code == 200, url
        assert {getattr(r, "person_id", None) for r in listed.context["cl"].result_list} <= {wang.pk}


def test_it_finds_the_person_by_the_full_id_number(client, superuser, wang, li):
    client.force_login(superuser)
    for term in (WANG_ID, WANG_ID.lower(), f" {WANG_ID[:6]} {WANG_ID[6:]} "):
        response = client.get(changelist(Person), {"q": term})
        assert list(response.context["cl"].result_list) == [wang], term


def test_it_finds_the_person_by_name_and_reference(client, superuser, wang, li):
    client.force_login(superuser)
    assert list(client.get(changelist(Person), {"q": "王小"}).context["cl"].result_list) == [wang]
    assert list(client.get(changelist(Person), {"q": li.ref}).context["cl"].result_list) == [li]
    assert list(client.get(changelist(Person), {"q": resident_id("11010519900101999")}).context["cl"].result_list) == []


def test_it_finds_a_persons_records_by_the_id_number(client, superuser, rows, wang):
    client.force_login(superuser)
    response = client.get(changelist(LabResult), {"q": WANG_ID})
    assert {r.person_id for r in response.context["cl"].result_list} == {wang.pk}


def test_it_never_shows_the_clear_name_or_hashes_in_history(client, superuser, wang):
    person_upsert(id_type="resident_id", id_number=WANG_ID, name="王小明明")
    client.force_login(superuser)
    response = client.get(reverse("admin:people_person_history", args=[wang.pk]))
    page = response.content.decode()
    assert response.status_code == 200
    assert "王***" in page  # the masked name's change is shown
    for secret in ("王小明", wang.id_hash, wang.id_encrypted, WANG_ID):
        assert secret not in page


def test_it_never_reverts_from_history(client, superuser, wang):
    client.force_login(superuser)
    version = wang.history.first()
    url = reverse("admin:people_person_simple_history", args=[wang.pk, version.history_id])
    assert client.get(url).status_code == 200
    assert client.post(url, {"community": ""}).status_code == 403


def test_it_keeps_the_audit_append_only(client, superuser, rows):
    client.force_login(superuser)
    request = RequestFactory().get("/admin/")
    request.user = superuser
    for model in APPEND_ONLY:
        model_admin = admin.site._registry[model]
        obj = model.objects.first()
        assert not model_admin.has_add_permission(request)
        assert not model_admin.has_change_permission(request, obj)
        assert not model_admin.has_delete_permission(request, obj)
        add_url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_add")
        assert client.post(add_url, {}).status_code == 403
        delete_url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_delete", args=[obj.pk])
        assert client.post(delete_url, {"post": "yes"}).status_code == 403
        assert model.objects.filter(pk=obj.pk).exists()


def test_it_lets_no_one_add_or_delete_a_person(superuser, wang):
    request = RequestFactory().get("/admin/")
    request.user = superuser
    person_admin = admin.site._registry[Person]
    assert not person_admin.has_add_permission(request)
    assert not person_admin.has_delete_permission(request, wang)


def test_it_shows_a_community_worker_only_the_residents_of_their_community(client, worker, rows, wang, li):
    client.force_login(worker)
    response = client.get(changelist(Person))
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [wang]
    page = response.content.decode()
    assert "王**" in page and "李**" not in page
    assert client.get(change_url(li)).status_code == 404  # outside the jurisdiction: not found, as in the API
    assert client.get(reverse("admin:people_person_history", args=[li.pk])).status_code == 404
    assert client.get(changelist(Person), {"q": LI_ID}).context["cl"].result_list.count() == 0
    labs = client.get(changelist(LabResult)).context["cl"].result_list
    assert {r.person_id for r in labs} == {wang.pk}


def test_it_gives_staff_without_permissions_no_page_and_no_error(client, django_user_model, communities, wang):
    # Screens come from the role (apps.accounts.access.ROLE_MODEL_PERMISSIONS): a community worker
    # opens persons but not the audit; a policy administrator opens neither.
    worker = django_user_model.objects.create_user(
        "worker_b", password="pw", role="community_worker", organisation=communities[1], is_staff=True
    )
    client.force_login(worker)
    assert client.get(reverse("admin:index")).status_code == 200
    assert client.get(changelist(Person)).status_code == 200
    assert client.get(changelist(AuditEvent)).status_code == 403
    policy = django_user_model.objects.create_user(
        "policy_b", password="pw", role="policy_admin", organisation=communities[1], is_staff=True
    )
    client.force_login(policy)
    assert client.get(reverse("admin:index")).status_code == 200
    assert client.get(changelist(Person)).status_code == 403
    assert client.get(changelist(AuditEvent)).status_code == 403


def test_it_publishes_a_designation_through_its_service(client, superuser, areas):
    client.force_login(superuser)
    response = client.post(
        reverse("admin:policy_riskdesignation_add"),
        {
            "area": "110108",
            "level": "high",
            "effective_from_0": "2022-05-01",
            "effective_from_1": "00:00:00",
            "note": "通报",
        },
    )
    assert response.status_code == 302, response.content
    designation = RiskDesignation.objects.get()
    assert (designation.area_id, designation.level, designation.published_by) == ("110108", "high", superuser)
    assert designation.ingestion is not None
    assert AuditEvent.objects.filter(kind="designation.published", actor=superuser).exists()


def test_it_refuses_a_designation_of_a_province(client, superuser, areas):
    client.force_login(superuser)
    response = client.post(
        reverse("admin:policy_riskdesignation_add"),
        {"area": "110000", "level": "high", "effective_from_0": "2022-05-01", "effective_from_1": "00:00:00"},
    )
    assert response.status_code == 200
    assert "area" in response.context["adminform"].form.errors
    assert not RiskDesignation.objects.exists()


def test_it_revokes_tokens_and_never_shows_their_digest(client, superuser, rows):
    client.force_login(superuser)
    token = ApiToken.objects.get(user=superuser)
    page = client.get(changelist(ApiToken)).content.decode() + client.get(change_url(token)).content.decode()
    assert token.digest not in page
    response = client.post(changelist(ApiToken), {"action": "revoke", "_selected_action": [token.pk]})
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert AuditEvent.objects.filter(kind="api_token.revoked").exists()


def test_it_changes_the_community_only_through_its_action_with_a_reason(client, superuser, wang, communities):
    client.force_login(superuser)
    other = communities[1]
    # The person page itself writes nothing (persons come from the feeds and the services).
    client.post(change_url(wang), {"community": other.pk, "phones-TOTAL_FORMS": 0, "phones-INITIAL_FORMS": 0})
    wang.refresh_from_db()
    assert wang.community == communities[0]
    url = reverse("casework_admin:community", args=[wang.ref])
    response = client.post(url, {"community": other.pk, "reason": ""})
    assert response.status_code == 400
    wang.refresh_from_db()
    assert wang.community == communities[0]
    response = client.post(url, {"community": other.pk, "reason": "搬家"})
    assert response.status_code == 302
    wang.refresh_from_db()
    assert wang.community == other
    event = AuditEvent.objects.get(kind="person.changed")
    assert (event.person, event.reason, event.origin) == (wang, "搬家", "admin")
    assert (event.detail["before"]["community"], event.detail["after"]["community"]) == ("CA", "CB")


def test_it_filters_lists_only_by_their_declared_filters(client, superuser, wang, li):
    client.force_login(superuser)
    assert client.get(changelist(Person), {"id_type__exact": "resident_id"}).status_code == 200
    client.raise_request_exception = False
    for probe in ({"name": "王小明"}, {"name__startswith": "王"}, {"birth_date__year": "1990"}, {"id_hash": "x"}):
        # Django's refusal of an undeclared lookup (DisallowedModelAdminLookup): 400, never a list.
        assert client.get(changelist(Person), probe).status_code == 400, probe


def test_it_keeps_a_search_out_of_the_address(client, superuser, wang, li):
    client.force_login(superuser)
    response = client.post(changelist(Person), {"q": WANG_ID})
    assert response.status_code == 302
    location = response["Location"]
    assert WANG_ID not in location and "s=" in location
    page = client.get(location)
    assert list(page.context["cl"].result_list) == [wang]
    body = page.content.decode()
    # Links out of the list (pages, filters) carry the token, never the number.
    assert f"q={WANG_ID}" not in body and 'method="post"' in body


def test_it_searches_names_only_for_roles_that_see_them(client, django_user_model, communities, wang):
    clerk = django_user_model.objects.create_user("clerk", password="pw", role="hotel_staff", is_staff=True)
    clerk.user_permissions.add(*Permission.objects.filter(codename="view_person"))
    client.force_login(clerk)
    assert PersonAdmin(Person, admin.site).get_search_fields(type("R", (), {"user": clerk})()) == ("ref__exact",)


def test_it_offers_persons_masked_in_autocomplete(client, superuser, wang, li):
    client.force_login(superuser)
    url = reverse("admin:autocomplete")
    params = {"app_label": "evidence", "model_name": "labresult", "field_name": "person"}
    results = client.get(url, {**params, "term": WANG_ID}).json()["results"]
    assert results == [{"id": str(wang.pk), "text": str(wang)}]
    assert "王**" in results[0]["text"] and WANG_ID not in results[0]["text"]
    assert [r["id"] for r in client.get(url, {**params, "term": "李"}).json()["results"]] == [str(li.pk)]


def test_it_offers_only_counties_for_a_designation(client, superuser, areas):
    client.force_login(superuser)
    url = reverse("admin:autocomplete")
    params = {"app_label": "policy", "model_name": "riskdesignation", "field_name": "area", "term": "北京"}
    found = {r["id"] for r in client.get(url, params).json()["results"]}
    # Beijing's 16 districts (county level); not the province 110000 or its city 110100, which match too.
    assert found == set(Area.objects.filter(parent_id="110100").values_list("code", flat=True))
    assert {"110105", "110108"} <= found and not found & {"110000", "110100"}


def test_it_publishes_a_policy_version_through_its_service(client, superuser, areas):
    client.force_login(superuser)
    add = reverse("admin:policy_policyversion_add")
    assert client.get(add).context["adminform"].form.initial["lookback_days"] == 14
    data = {
        "effective_from_0": "2022-05-01",
        "effective_from_1": "00:00:00",
        "note": "调整",
        "lookback_days": 7,
        "local_case_clear_days": 14,
        "telecom_min_stay_hours": 4,
        "inbound_quarantine_days": 21,
        "popup4_grace_hours": 72,
        "entry_nat_window_hours": 48,
        "hotel_nat_validity_days": 7,
        "phone_unbind_days": 14,
        "review_burst_per_hour": 30,
        "working_hours_start": 8,
        "working_hours_end": 20,
        "reraised_within_hours": 72,
    }
    assert client.post(add, data).status_code == 302
    version = PolicyVersion.objects.get()
    assert (version.lookback_days, version.created_by) == (7, superuser)
    assert AuditEvent.objects.filter(kind="policy.published").exists()
