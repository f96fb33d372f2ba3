"""Identity documents (SPEC §9) and what `person_upsert` keeps of them: a resident ID is checked
(MOD 11-2 check digit, a possible birth date) and no column ever holds an ID number in clear."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from apps.people.choices import IdType
from apps.people.identity import resident_id_birth_date, resident_id_check_char, validate_id
from apps.people.models import Person
from apps.people.services import PhoneInput, person_id_hash, person_upsert

TODAY = dt.date(2021, 8, 1)
GOOD = "110105199001011232"
GOOD_X = "11010519491231002X"  # the example of GB 11643, check character X


def id_error(id_type: str, number: str) -> list[str]:
    """The field error, in English (the source text; the interface shows the Chinese)."""
    with pytest.raises(ValidationError) as exc, translation.override("en"):
        validate_id(id_type, number, today=TODAY)
    assert "id_number" in exc.value.message_dict
    return exc.value.message_dict["id_number"]


# resident IDs


@pytest.mark.parametrize("number", [GOOD, GOOD_X])
def test_it_accepts_a_resident_id_with_the_right_check_character(number):
    assert validate_id(IdType.RESIDENT_ID, number, today=TODAY) == number


def test_it_normalises_a_lower_case_x_and_spaces():
    assert validate_id(IdType.RESIDENT_ID, " 110105 19491231002x ", today=TODAY) == GOOD_X


def test_the_check_character_follows_iso_7064_mod_11_2():
    assert resident_id_check_char(GOOD[:17]) == "2"
    assert resident_id_check_char(GOOD_X[:17]) == "X"


@pytest.mark.parametrize("number", ["110105199001011233", "110105199001011230", "110105194912310021"])
def test_it_rejects_a_wrong_check_character(number):
    assert "check digit" in id_error(IdType.RESIDENT_ID, number)[0]


def test_it_rejects_an_x_where_a_digit_belongs():
    first17 = "11010519900101123"
    assert resident_id_check_char(first17) != "X"
    id_error(IdType.RESIDENT_ID, first17 + "X")


@pytest.mark.parametrize(
    "birth",
    [
        "19900230",  # 30 February
        "19901301",  # month 13
        "19900100",  # day 0
        "20210802",  # after today
        "18800101",  # too long ago
    ],
)
def test_it_rejects_an_impossible_birth_date_even_with_a_good_check_digit(birth):
    first17 = f"110105{birth}123"
    messages = id_error(IdType.RESIDENT_ID, first17 + resident_id_check_char(first17))
    assert "birth date" in messages[0]


def test_a_birth_date_of_today_is_possible():
    first17 = f"110105{TODAY:%Y%m%d}123"
    number = first17 + resident_id_check_char(first17)
    assert validate_id(IdType.RESIDENT_ID, number, today=TODAY) == number


@pytest.mark.parametrize(
    "number",
    [
        "11010519900101123",  # 17 characters
        "1101051990010112321",  # 19 characters
        "11010519900101123A",  # a letter other than X
        "X10105199001011232",  # X in front
        "11010519900101-232",
        "",
    ],
)
def test_it_rejects_a_wrong_length_or_characters(number):
    id_error(IdType.RESIDENT_ID, number)


def test_it_reads_the_birth_date_from_a_resident_id():
    assert resident_id_birth_date(GOOD) == dt.date(1990, 1, 1)
    assert resident_id_birth_date(GOOD_X) == dt.date(1949, 12, 31)


def test_it_rejects_an_unknown_id_type():
    with pytest.raises(ValidationError) as exc:
        validate_id("library_card", "12345678", today=TODAY)
    assert "id_type" in exc.value.message_dict


# other ID types


@pytest.mark.parametrize(
    ("id_type", "number", "normalised"),
    [
        (IdType.HK_MACAO_PERMIT, "H12345678", "H12345678"),
        (IdType.HK_MACAO_PERMIT, "m1234567890", "M1234567890"),
        (IdType.TAIWAN_PERMIT, "12345678", "12345678"),
        (IdType.TAIWAN_PERMIT, "1234567890", "1234567890"),
        (IdType.PASSPORT, "E12345678", "E12345678"),
        (IdType.PASSPORT, "p 1234 567", "P1234567"),
        (IdType.FOREIGN_PERMANENT_RESIDENCE, "USA110080101001", "USA110080101001"),
        (IdType.FOREIGN_PERMANENT_RESIDENCE, "911840800101000123", "911840800101000123"),
    ],
)
def test_it_accepts_other_id_types(id_type, number, normalised):
    assert validate_id(id_type, number, today=TODAY) == normalised


@pytest.mark.parametrize(
    ("id_type", "number"),
    [
        (IdType.HK_MACAO_PERMIT, "X12345678"),
        (IdType.HK_MACAO_PERMIT, "H1234567"),
        (IdType.TAIWAN_PERMIT, "1234567"),
        (IdType.TAIWAN_PERMIT, "T12345678"),
        (IdType.PASSPORT, "E12"),
        (IdType.PASSPORT, "E1234-5678"),
        (IdType.FOREIGN_PERMANENT_RESIDENCE, "US1100801010012"),
        (IdType.FOREIGN_PERMANENT_RESIDENCE, "811840800101000123"),
    ],
)
def test_it_rejects_malformed_numbers_of_other_id_types(id_type, number):
    id_error(id_type, number)


# person_upsert


def clear_values(person: Person) -> list[str]:
    """Every column of the person's row, as the database holds it."""
    return [str(v) for v in Person.objects.filter(pk=person.pk).values().get().values() if v is not None]


@pytest.mark.django_db
def test_it_stores_no_id_number_in_clear():
    person, created = person_upsert(id_type=IdType.RESIDENT_ID, id_number=GOOD, name="王小明")
    assert created
    for value in clear_values(person):
        assert GOOD not in value
        assert GOOD[-8:] not in value  # not even a part of it
    assert person.display_id == "11**************32"
    assert person.display_name == "王**"
    assert GOOD not in person.ref


@pytest.mark.django_db
def test_it_stores_no_id_number_in_clear_in_history_either():
    person, _created = person_upsert(id_type=IdType.PASSPORT, id_number="E12345678", name="John Smith")
    person_upsert(id_type=IdType.PASSPORT, id_number="E12345678", name="John Smythe")
    for row in person.history.values():
        assert all("E12345678" not in str(v) for v in row.values())


@pytest.mark.django_db
def test_the_id_hash_is_stable_and_depends_on_the_type():
    assert person_id_hash(IdType.RESIDENT_ID, GOOD) == person_id_hash(IdType.RESIDENT_ID, GOOD)
    assert person_id_hash(IdType.TAIWAN_PERMIT, "12345678") != person_id_hash(IdType.PASSPORT, "12345678")
    person, _created = person_upsert(id_type=IdType.RESIDENT_ID, id_number=GOOD)
    assert Person.objects.get(pk=person.pk).id_hash == person_id_hash(IdType.RESIDENT_ID, GOOD)


@pytest.mark.django_db
def test_the_same_id_twice_is_one_person():
    first, created_first = person_upsert(id_type=IdType.RESIDENT_ID, id_number=GOOD_X.lower(), name="王小明")
    second, created_second = person_upsert(id_type=IdType.RESIDENT_ID, id_number=GOOD_X, name="王晓明")
    assert (created_first, created_second) == (True, False)
    assert first.pk == second.pk
    assert Person.objects.count() == 1
    assert Person.objects.get().display_name == "王**"
    assert Person.objects.get().name == "王晓明"


@pytest.mark.django_db
def test_it_takes_the_birth_date_from_a_resident_id_over_the_one_given():
    person, _created = person_upsert(id_type=IdType.RESIDENT_ID, id_number=GOOD, birth_date=dt.date(2000, 5, 5))
    assert Person.objects.get(pk=person.pk).birth_date == dt.date(1990, 1, 1)


@pytest.mark.django_db
def test_it_keeps_the_birth_date_given_with_other_id_types():
    person, _created = person_upsert(id_type=IdType.PASSPORT, id_number="E12345678", birth_date=dt.date(1950, 3, 4))
    assert Person.objects.get(pk=person.pk).birth_date == dt.date(1950, 3, 4)


@pytest.mark.django_db
def test_it_refuses_a_bad_resident_id_and_stores_nothing():
    with pytest.raises(ValidationError) as exc:
        person_upsert(id_type=IdType.RESIDENT_ID, id_number="110105199002301232")
    assert "id_number" in exc.value.message_dict
    assert not Person.objects.exists()


@pytest.mark.django_db
def test_it_stores_no_phone_number_in_clear():
    bound = dt.datetime(2021, 7, 1, tzinfo=dt.UTC)
    person, _created = person_upsert(
        id_type=IdType.RESIDENT_ID, id_number=GOOD, phones=[PhoneInput("+86 138 0000 1234", "wechat", bound)]
    )
    phone = person.phones.get()
    assert phone.display_number == "138****1234"
    assert all("13800001234" not in str(v) for v in type(phone).objects.filter(pk=phone.pk).values().get().values())


def test_the_field_error_is_chinese_by_default():
    with pytest.raises(ValidationError) as exc:
        validate_id(IdType.RESIDENT_ID, "110105199001011233", today=TODAY)
    assert "校验" in exc.value.message_dict["id_number"][0]
