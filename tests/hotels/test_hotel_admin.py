"""The hotel screens of the admin: a guest list imported all or nothing with a report of the bad
rows, the check-in form, current guests with their colour (hotel staff see only their hotel), and
the district overview for culture-and-tourism officers (one aggregate query)."""

import datetime as dt
import io

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import Workbook

from apps.hotels.models import HotelStay
from apps.hotels.selectors import hotels_overview
from tests.api.helpers import RISK_COUNTY, at, iso, rid, stay

A, B, C = rid("32100319900101123"), rid("11010519800202002"), rid("44030019700303003")
BAD = A[:-1] + ("0" if A[-1] != "0" else "1")
NOW = at(2021, 8, 16, 15)


def login(username) -> Client:
    c = Client()
    c.force_login(get_user_model().objects.get(username=username))
    return c


def csv_file(rows, name="guests.csv"):
    text = "证件类型,证件号码,姓名,入住时间,核酸采样时间,核酸结果,酒店检测\n" + "\n".join(",".join(r) for r in rows)
    return SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")


GOOD_ROWS = [
    ["resident_id", A, "李四", "2021-08-16 14:00", "2021-08-15 09:00", "阴性", "否"],
    ["", B, "王五", "2021-08-16 14:30", "", "", ""],
    ["resident_id", C, "赵六", "2021-08-16 14:40", "2021-08-16 14:45", "negative", "yes"],
]


def test_a_guest_list_with_a_bad_row_imports_nothing_and_reports_the_row(hotels):
    with time_machine.travel(NOW, tick=False):
        c = login("hotel_1")
        rows = [GOOD_ROWS[0], ["resident_id", BAD, "坏行", "2021-08-16 14:00", "", "", ""], GOOD_ROWS[2]]
        rows.append(["resident_id", B, "时间错", "16/08/2021", "", "", ""])
        r = c.post(reverse("admin:hotels_hotelstay_import"), {"file": csv_file(rows)})
    assert r.status_code == 200
    report = dict(r.context["report"])
    assert sorted(report) == [3, 5], "spreadsheet rows: the header is row 1"
    assert report[3][0][0] == "id_number" and report[5][0][0] == "checked_in_at"
    page = r.content.decode()
    assert "Nothing was imported" in page or "没有导入" in page or 'id="import-errors"' in page
    assert not HotelStay.objects.exists()


def test_a_good_guest_list_checks_everyone_in(hotels):
    with time_machine.travel(NOW, tick=False):
        c = login("hotel_1")
        r = c.post(reverse("admin:hotels_hotelstay_import"), {"file": csv_file(GOOD_ROWS)})
    assert r.status_code == 302, r.context["report"] if r.context else r
    stays = {hs.person.display_name: hs for hs in HotelStay.objects.select_related("person")}
    assert set(stays) == {"李*", "王*", "赵*"}
    assert stays["李*"].verified and stays["赵*"].verified and not stays["王*"].verified
    assert stays["赵*"].nat is not None and stays["赵*"].nat.source == "hotel"
    assert {hs.hotel.code for hs in stays.values()} == {"H1"}


def test_an_excel_guest_list_is_read_too(hotels):
    book = Workbook()
    sheet = book.active
    sheet.append(["id_type", "id_number", "name", "checked_in_at", "nat_sampled_at", "nat_result", "nat_at_hotel"])
    sheet.append(
        ["resident_id", A, "李四", dt.datetime(2021, 8, 16, 14, 0), dt.datetime(2021, 8, 15, 9), "negative", "no"]
    )
    sheet.append(["resident_id", B, "王五", dt.datetime(2021, 8, 16, 14, 30), None, None, None])
    data = io.BytesIO()
    book.save(data)
    upload = SimpleUploadedFile("guests.xlsx", data.getvalue())
    with time_machine.travel(NOW, tick=False):
        r = login("hotel_1").post(reverse("admin:hotels_hotelstay_import"), {"file": upload})
    assert r.status_code == 302
    assert HotelStay.objects.get(person__display_name="李*").checked_in_at == at(2021, 8, 16, 14)


def test_an_unreadable_file_is_refused(hotels):
    with time_machine.travel(NOW, tick=False):
        c = login("hotel_1")
        r = c.post(reverse("admin:hotels_hotelstay_import"), {"file": SimpleUploadedFile("x.pdf", b"%PDF")})
        assert r.status_code == 200 and r.context["form"].errors["file"]
        r = c.post(reverse("admin:hotels_hotelstay_import"), {"file": SimpleUploadedFile("x.xlsx", b"not a zip")})
        assert r.status_code == 200 and r.context["form"].errors["file"]
    assert not HotelStay.objects.exists()


def test_the_check_in_form_checks_a_guest_in_and_shows_errors(hotels):
    with time_machine.travel(NOW, tick=False):
        c = login("hotel_1")
        url = reverse("admin:hotels_hotelstay_check_in")
        assert c.get(url).status_code == 200
        r = c.post(url, {"id_type": "resident_id", "id_number": BAD, "name": "李四"})
        assert r.status_code == 200 and "id_number" in r.context["form"].errors
        body = {
            "id_type": "resident_id",
            "id_number": A,
            "name": "李四",
            "nat_sampled_at": "2021-08-15 09:00:00",
            "nat_result": "negative",
        }
        r = c.post(url, body)
        assert r.status_code == 302
        r = c.post(url, body)
        assert r.status_code == 409 and r.context["form"].non_field_errors(), "already checked in"
        assert f'value="{A}"' in r.content.decode(), "the typed ID number is kept"
    assert HotelStay.objects.get().verified


def test_current_guests_show_their_colour_and_only_the_clerks_hotel(hotels):
    w = hotels
    with time_machine.travel(NOW, tick=False):
        w.designate(RISK_COUNTY, "medium", iso(2021, 8, 10))
        w.person(A)
        w.feed("stays", stay(A, "G1", RISK_COUNTY, iso(2021, 8, 11, 8), iso(2021, 8, 12, 8)))
        for client, idn in ((w.hotel, A), (w.hotel, B), (w.hotel2, C)):
            r = client.post(
                "/api/v1/hotel-stays/", {"person": {"id_type": "resident_id", "id_number": idn}}, format="json"
            )
            assert r.status_code == 201
        r = login("hotel_1").get(reverse("admin:hotels_currentguest_changelist"))
        assert r.status_code == 200
        assert len(r.context["cl"].result_list) == 2
        assert {hs.hotel.code for hs in r.context["cl"].result_list} == {"H1"}
        page = r.content.decode()
        assert "弹窗" in page and "未见异常" in page
        assert A not in page and B not in page
        # The API answers the same, with colours.
        api = w.hotel.get("/api/v1/hotel-stays/").json()["results"]
        assert sorted(g["colour"] for g in api) == ["green", "none"]
        assert len(w.hotel2.get("/api/v1/hotel-stays/").json()["results"]) == 1


def test_the_officer_sees_their_districts_hotels_counted_by_state_in_one_query(hotels):
    w = hotels
    with time_machine.travel(NOW, tick=False):
        w.designate(RISK_COUNTY, "medium", iso(2021, 8, 10))
        w.person(A)
        w.feed("stays", stay(A, "G1", RISK_COUNTY, iso(2021, 8, 11, 8), iso(2021, 8, 12, 8)))
        for client, idn in ((w.hotel, A), (w.hotel, B), (w.hotel2, C), (w.hotel3, rid("11010819851231004"))):
            assert (
                client.post(
                    "/api/v1/hotel-stays/", {"person": {"id_type": "resident_id", "id_number": idn}}, format="json"
                ).status_code
                == 201
            )
        officer = get_user_model().objects.get(username="officer_1")
        with CaptureQueriesContext(connection) as queries:
            hotels_list = {h.code: (h.guests, h.green, h.popup, h.yellow, h.red) for h in hotels_overview(officer)}
        assert len(queries) == 1
        assert hotels_list == {"H1": (2, 1, 1, 0, 0), "H2": (1, 1, 0, 0, 0)}
        r = login("officer_1").get(reverse("admin:hotels_hoteloverview_changelist"))
        assert r.status_code == 200
        assert {h.code for h in r.context["cl"].result_list} == {"H1", "H2"}
        assert (
            login("officer_2").get(reverse("admin:hotels_hoteloverview_changelist")).context["cl"].result_list.count()
            == 1
        )
        # Officers change nothing: no check-in, no check-out.
        assert login("officer_1").get(reverse("admin:hotels_hotelstay_check_in")).status_code == 403
        assert login("hotel_1").get(reverse("admin:hotels_hoteloverview_changelist")).status_code == 403
        guests = login("officer_1").get(reverse("admin:hotels_currentguest_changelist"))
        assert {hs.hotel.code for hs in guests.context["cl"].result_list} == {"H1", "H2"}
        assert guests.context["action_form"] is None, "no check-out action for officers"


@pytest.mark.parametrize("username", ["officer_1", "hotel_1"])
def test_the_api_guest_list_is_limited_to_the_callers_hotels(hotels, username):
    w = hotels
    with time_machine.travel(NOW, tick=False):
        assert (
            w.hotel3.post(
                "/api/v1/hotel-stays/", {"person": {"id_type": "resident_id", "id_number": A}}, format="json"
            ).status_code
            == 201
        )
        c = w.officer if username == "officer_1" else w.hotel
        assert c.get("/api/v1/hotel-stays/").json()["results"] == []
        assert w.officer2.get("/api/v1/hotel-stays/").json()["results"][0]["hotel"] == "H3"


def test_the_check_in_and_import_forms_are_rate_limited_per_id_number(hotels, settings):
    settings.LOOKUP_LIMITS = {"default": "60/10m", "hotel_checkin": "2/10m", "guest_import": "3/10m"}
    with time_machine.travel(NOW, tick=False):
        c = login("hotel_1")
        url = reverse("admin:hotels_hotelstay_check_in")
        for idn in (A, B):
            assert c.post(url, {"id_type": "resident_id", "id_number": idn, "name": "李四"}).status_code == 302
        r = c.post(url, {"id_type": "resident_id", "id_number": C, "name": "赵六"})
        assert r.status_code == 429
        assert r.context["form"].non_field_errors()
        assert HotelStay.objects.count() == 2
        # A guest list counts one look-up a row: four rows are over a budget of three.
        rows = [
            ["resident_id", rid(f"11010519900101{n + 500:03d}"), "某", "2021-08-16 14:00", "", "", ""] for n in range(4)
        ]
        r = c.post(reverse("admin:hotels_hotelstay_import"), {"file": csv_file(rows)})
        assert r.status_code == 429 and r.context["form"].non_field_errors()
        assert HotelStay.objects.count() == 2
