"""The feeds' batch validation (apps.evidence.feeds.BatchValidator) answers exactly what each feed's
serializer answers: the same validated record for a valid one, the same errors (messages, field
names and codes) for a bad one. The serializer is the reference: hypothesis throws records of
every shape at both, good and bad values of every field, fields left out and extra ones."""

import datetime as dt
import json

import pytest
import time_machine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework import serializers

from apps.areas.models import Area
from apps.evidence import feeds
from apps.evidence.services import FEEDS
from tests.api.helpers import CHAOYANG, RISK_CITY, RISK_COUNTY, iso, rid

T = dt.datetime(2021, 8, 2, 10, tzinfo=dt.UTC)
GOOD_IDS = [rid("11010519900101123"), rid("32100319851231001"), rid("11010520210801002")]
BAD_IDS = [
    "11010519900101123" + ("0" if GOOD_IDS[0][-1] != "0" else "1"),  # wrong check digit
    rid("11010520300101123"),  # born in the future
    "1101051990010112",  # too short
    " " + GOOD_IDS[0].lower() + " ",
    "110105199013011234",
    "",
    "   ",
]
AREAS = [CHAOYANG, RISK_COUNTY, RISK_CITY, "110000", "999999", "", "11010", "1101050", 110105]
MOMENTS = [
    iso(2021, 7, 28, 8),
    iso(2021, 7, 30, 18),
    "2021-07-29T08:00:00Z",
    "2021-07-29T08:00:00.123456+05:30",
    "2021-07-29 08:00:00+08:00",
    "2021-07-29T08:00:00",  # no offset: the serializer's to judge
    "2021-07-29",
    "1999-12-31T23:59:59+08:00",
    "2100-01-01T00:00:00+08:00",
    "2099-12-31T23:59:59+08:00",
    "2021-02-30T08:00:00+08:00",
    "yesterday",
    "",
    0,
    1627430400,
    None,
    [],
]
DATES = ["2021-07-28", "2021-7-28", "1999-12-31", "2000-01-01", "2099-12-31", "2100-01-01", "2021-07-28T08:00", "", 5]
TEXTS = ["G123-1", "  padded  ", "", "   ", "x" * 128, "x" * 129, "x" * 600, "中文", 12, 1.5, True, None, {}, ["a"]]
PHONES = ["13800138000", "+86 138 0013 8000", "8613800138000", "1234", "abc", "", 13800138000]
BOOLEANS = [True, False, "true", "false", "True", 1, 0, "1", "yes", "maybe", None, ""]
INTEGERS = [1, 0, -1, 3, 2**31, 2**31 - 1, "3", "3.0", 3.0, 2.5, True, None, "", "x" * 1001]
UNSET = object()


def _values_for(name: str, field) -> list:
    if name == "id_number":
        return GOOD_IDS + BAD_IDS + [None, 12]
    if name == "area_code":
        return AREAS
    if name == "phone":
        return PHONES
    if isinstance(field, serializers.ChoiceField):
        choices = list(field.choices)
        return choices + [c.upper() for c in choices] + ["", "unknown", None, 1]
    if isinstance(field, serializers.BooleanField):
        return BOOLEANS
    if isinstance(field, serializers.IntegerField):
        return INTEGERS
    if isinstance(field, serializers.DateTimeField):
        return MOMENTS
    if isinstance(field, serializers.DateField):
        return DATES
    return TEXTS


def records(schema) -> st.SearchStrategy:
    """Records for `schema`: each declared field left out or given one of its good or bad values
    (mostly good ones, so many records pass and their values are compared too), sometimes an
    unknown key."""
    fields = schema().fields
    parts = {}
    for name, field in fields.items():
        values = _values_for(name, field)
        good = [v for v in values[:3]]
        parts[name] = st.one_of(st.sampled_from(good), st.sampled_from(values), st.just(UNSET))
    extra = st.dictionaries(st.sampled_from(["note", "kind2", "x"]), st.sampled_from(TEXTS), max_size=1)

    def build(values, more):
        return {**more, **{k: v for k, v in values.items() if v is not UNSET}}

    return st.builds(build, st.fixed_dictionaries(parts), extra)


def outcome(validate, record) -> tuple:
    """What a validator says of a record, comparable: the values with their types, or the errors
    as the API renders them (message and field names) with their codes."""
    try:
        data = validate(record)
    except serializers.ValidationError as exc:
        return ("rejected", json.dumps(exc.detail, sort_keys=True, default=str), _codes(exc.detail))
    return ("valid", {k: (v, type(v).__name__, getattr(v, "tzinfo", None)) for k, v in dict(data).items()})


def _codes(detail):
    if isinstance(detail, dict):
        return {k: _codes(v) for k, v in detail.items()}
    if isinstance(detail, list):
        return [_codes(v) for v in detail]
    return getattr(detail, "code", None)


@pytest.fixture
def context(areas):
    return {"areas": {a.code: a for a in Area.objects.filter(code__in=[a for a in AREAS if isinstance(a, str)])}}


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(T, tick=False):
        yield


@pytest.mark.parametrize("feed", sorted(FEEDS))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_the_batch_validator_answers_what_the_serializer_answers(feed, context, data):
    schema = FEEDS[feed].schema
    record = data.draw(records(schema))
    expected = outcome(lambda r: schema(context=context).run_validation(r), record)
    assert outcome(feeds.BatchValidator(schema, context), record) == expected


def test_the_batch_validator_answers_what_the_serializer_answers_for_one_of_every_value(context):
    """Not left to chance: every listed value of every field, in an otherwise valid record."""
    checked = 0
    for feed, spec in FEEDS.items():
        validate = feeds.BatchValidator(spec.schema, context)
        base = _valid_record(feed)
        assert outcome(validate, base)[0] == "valid", (feed, outcome(validate, base))
        for name, field in spec.schema().fields.items():
            for value in [*_values_for(name, field), UNSET]:
                record = {k: v for k, v in {**base, name: value}.items() if v is not UNSET}
                reference = spec.schema(context=context)
                assert outcome(validate, record) == outcome(reference.run_validation, record), (feed, name, value)
                checked += 1
    assert checked > 500


def _valid_record(feed: str) -> dict:
    person = {"id_type": "resident_id", "id_number": GOOD_IDS[0]}
    moment, later = iso(2021, 7, 28, 8), iso(2021, 7, 30, 18)
    return {
        "stays": {
            "source": "rail",
            "external_id": "G1",
            **person,
            "area_code": RISK_COUNTY,
            "precision": "county",
            "arrived_at": moment,
            "departed_at": later,
            "refunded": False,
        },
        "lab-results": {
            "external_id": "L1",
            **person,
            "sampled_at": moment,
            "reported_at": later,
            "result": "negative",
        },
        "health-events": {"external_id": "H1", **person, "kind": "clinic_visit", "occurred_at": moment},
        "inbound-arrivals": {"external_id": "I1", **person, "entered_at": moment, "port": "PVG"},
        "observation-orders": {"external_id": "O1", **person, "kind": "home", "starts_at": moment, "ends_at": later},
        "associations": {"external_id": "A1", **person, "kind": "epidemiological", "observed_at": moment},
        "local-cases": {"external_id": "C1", "area_code": RISK_COUNTY, "reported_on": "2021-07-28", "count": 2},
    }[feed]


@pytest.mark.parametrize("feed", sorted(FEEDS))
def test_a_valid_record_never_reaches_the_serializer(feed, context, monkeypatch):
    """The point of the plain path: the records a partner sends right are validated without DRF's
    per-field machinery (a telecom stay by phone and a city included)."""
    validate = feeds.BatchValidator(FEEDS[feed].schema, context)
    monkeypatch.setattr(validate.serializer, "run_validation", _never)
    record = _valid_record(feed)
    assert validate(record)["external_id"] == record["external_id"]
    if feed == "stays":
        telecom = {**record, "source": "telecom", "phone": PHONES[0], "area_code": RISK_CITY, "precision": "city"}
        del telecom["id_type"], telecom["id_number"]
        assert validate({**telecom, "departed_at": None})["departed_at"] is None


def _never(*args, **kwargs):
    raise AssertionError("the serializer ran for a valid record")
