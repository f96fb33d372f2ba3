"""The record schemas of the seven feeds (API.md "Feeds"): field validation only. What an accepted
record does is decided in services.py."""

import datetime as dt

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import (
    MaxLengthValidator,
    MaxValueValidator,
    MinLengthValidator,
    MinValueValidator,
    ProhibitNullCharactersValidator,
)
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers
from rest_framework.fields import SkipField, empty
from rest_framework.validators import ProhibitSurrogateCharactersValidator

from apps.areas.models import Area
from apps.core.clock import local_date, now
from apps.core.fields import EARLIEST_MOMENT, LATEST_MOMENT, EventDateField, MomentField, column_bounds
from apps.core.text import is_storable
from apps.people.choices import IdType
from apps.people.identity import validate_id
from apps.people.services import phone_normalise
from apps.policy.models import LocalCaseReport

from .choices import AssociationKind, HealthEventKind, LabResultValue, OrderKind, Precision, StaySource


class PersonFieldsMixin(serializers.Serializer):
    id_type = serializers.ChoiceField(choices=IdType.choices)
    id_number = serializers.CharField(max_length=40)

    def validate(self, attrs):
        attrs = super().validate(attrs)
        if "id_number" in attrs:
            try:
                attrs["id_number"] = validate_id(attrs["id_type"], attrs["id_number"], today=local_date(now()))
            except DjangoValidationError as exc:
                raise serializers.ValidationError(exc.message_dict) from exc
        return attrs


def area_lookup(serializer, code: str) -> Area | None:
    """Areas of a batch are fetched once by the service and passed in the context."""
    areas = serializer.context.get("areas")
    if areas is not None:
        return areas.get(code)
    return Area.objects.filter(code=code).first()


def area_field_validate(serializer, code: str) -> Area:
    area = area_lookup(serializer, code)
    if area is None:
        raise serializers.ValidationError(_("Unknown area code %(code)s.") % {"code": code})
    return area


class RecordBase(serializers.Serializer):
    external_id = serializers.CharField(max_length=128)


class StayRecord(RecordBase):
    source = serializers.ChoiceField(choices=StaySource.choices)
    id_type = serializers.ChoiceField(choices=IdType.choices, required=False)
    id_number = serializers.CharField(max_length=40, required=False)
    phone = serializers.CharField(max_length=24, required=False)
    area_code = serializers.CharField(max_length=6)
    precision = serializers.ChoiceField(choices=Precision.choices)
    arrived_at = MomentField()
    departed_at = MomentField(required=False, allow_null=True, default=None)
    refunded = serializers.BooleanField(required=False, default=False)

    def validate_area_code(self, value):
        area_field_validate(self, value)
        return value

    def validate(self, attrs):
        errors = {}
        has_person = bool(attrs.get("id_type") and attrs.get("id_number"))
        if attrs["source"] == StaySource.TELECOM and not attrs.get("phone") and not has_person:
            errors["phone"] = [_("A telecom stay names its phone number.")]
        elif attrs["source"] != StaySource.TELECOM and not has_person:
            errors["id_number"] = [_("A stay names its person with id_type and id_number.")]
        if has_person:
            try:
                attrs["id_number"] = validate_id(attrs["id_type"], attrs["id_number"], today=local_date(now()))
            except DjangoValidationError as exc:
                errors.update(exc.message_dict)
        if attrs.get("phone"):
            try:
                phone_normalise(attrs["phone"])
            except DjangoValidationError as exc:
                errors["phone"] = exc.message_dict.get("number", exc.messages)
        if attrs.get("departed_at") and attrs["departed_at"] < attrs["arrived_at"]:
            errors["departed_at"] = [_("Departure is before arrival.")]
        area = area_lookup(self, attrs["area_code"])
        if area is not None:
            if attrs["precision"] == Precision.COUNTY and not (area.level == "county" or area.acts_as_county):
                errors["area_code"] = [_("A county-precision stay needs a county code.")]
            if attrs["precision"] == Precision.CITY and area.level == "province":
                errors["area_code"] = [_("A city-precision stay needs a city code.")]
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class LabResultRecord(PersonFieldsMixin, RecordBase):
    sampled_at = MomentField()
    reported_at = MomentField(required=False, allow_null=True, default=None)
    result = serializers.ChoiceField(choices=LabResultValue.choices)
    institution = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")

    def validate(self, attrs):
        attrs = super().validate(attrs)
        if attrs.get("reported_at") and attrs["reported_at"] < attrs["sampled_at"]:
            raise serializers.ValidationError({"reported_at": [_("Reported before it was sampled.")]})
        return attrs


class HealthEventRecord(PersonFieldsMixin, RecordBase):
    kind = serializers.ChoiceField(choices=HealthEventKind.choices)
    occurred_at = MomentField()
    detail = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class InboundArrivalRecord(PersonFieldsMixin, RecordBase):
    entered_at = MomentField()
    port = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    quarantine_completed_at = MomentField(required=False, allow_null=True, default=None)

    def validate(self, attrs):
        attrs = super().validate(attrs)
        done = attrs.get("quarantine_completed_at")
        if done and done < attrs["entered_at"]:
            raise serializers.ValidationError({"quarantine_completed_at": [_("Completed before entry.")]})
        return attrs


class ObservationOrderRecord(PersonFieldsMixin, RecordBase):
    kind = serializers.ChoiceField(choices=OrderKind.choices)
    starts_at = MomentField()
    ends_at = MomentField(required=False, allow_null=True, default=None)
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")

    def validate(self, attrs):
        attrs = super().validate(attrs)
        if attrs.get("ends_at") and attrs["ends_at"] <= attrs["starts_at"]:
            raise serializers.ValidationError({"ends_at": [_("An order ends after it starts.")]})
        return attrs


class AssociationRecord(PersonFieldsMixin, RecordBase):
    kind = serializers.ChoiceField(choices=AssociationKind.choices)
    observed_at = MomentField()
    detail = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class LocalCaseRecord(RecordBase):
    area_code = serializers.CharField(max_length=6)
    reported_on = EventDateField()
    count = serializers.IntegerField(
        **{**column_bounds(LocalCaseReport, "count"), "min_value": 1}, required=False, default=1
    )

    def validate_area_code(self, value):
        area = area_field_validate(self, value)
        if not (area.level == "county" or area.acts_as_county):
            raise serializers.ValidationError(_("Local cases are reported for a county."))
        return value


# --- validating a batch ---------------------------------------------------------------------------
#
# DRF's machinery around each field (empty values, sources, validators, the error dict) cost four
# times the checks themselves: 21% of a stay batch. `BatchValidator` runs the same schema without
# it for the records it can vouch for: each field's value is taken by a plain check that returns
# exactly what `field.run_validation` would, then the schema's own `validate_<field>` and
# `validate` methods run on the plain dict. Whatever those checks cannot vouch for (a value of
# another type, a missing required field, any error) is handed to the serializer itself, which
# accepts it or words the errors: the schemas above stay the one definition of a valid record and
# of its error messages (tests/evidence/test_batch_validation.py proves both paths equal).


class _Undecided(Exception):
    """The plain checks cannot vouch for a value: the serializer decides."""


_SKIP = object()  # an optional field without a default, absent: not in the validated dict
_CHAR_VALIDATORS = (MaxLengthValidator, MinLengthValidator, ProhibitNullCharactersValidator)


def _empty_check(field):
    """What DRF's `validate_empty_values` does with an absent or null value, or _Undecided."""

    def absent():
        if field.required:
            raise _Undecided
        try:
            return field.get_default()
        except SkipField:
            return _SKIP

    return absent


def _char_check(field, absent):
    """`CharField.run_validation`: the text trimmed; blank, too long or too short is undecided."""
    trim, allow_blank = field.trim_whitespace, field.allow_blank
    longest = field.max_length if field.max_length is not None else float("inf")
    shortest = field.min_length or 0

    def check(value):
        if value is empty:
            return absent()
        if type(value) is not str:  # numbers are coerced, None and the rest refused: the serializer says
            raise _Undecided
        text = value.strip() if trim else value
        if not text:
            if allow_blank:
                return ""
            raise _Undecided
        if not shortest <= len(text) <= longest or not is_storable(text):
            raise _Undecided
        return text

    return check


def _choice_check(field, absent):
    values, allow_blank = field.choice_strings_to_values, field.allow_blank

    def check(value):
        if value is empty:
            return absent()
        if type(value) is str:
            if value == "" and allow_blank:
                return ""
            if value in values:
                return values[value]
        raise _Undecided

    return check


def _boolean_check(field, absent):
    def check(value):
        if value is empty:
            return absent()
        if value is True or value is False:
            return value
        raise _Undecided  # "true", 1, None...: the serializer says

    return check


def _integer_check(field, absent):
    low = field.min_value if field.min_value is not None else float("-inf")
    high = field.max_value if field.max_value is not None else float("inf")

    def check(value):
        if value is empty:
            return absent()
        if type(value) is int and low <= value <= high:
            return value
        raise _Undecided

    return check


def _text_check(field, absent, read):
    """A field given as text: absent → `absent()`, a null the field allows → None, anything but a
    string (or a null it does not allow) the serializer's to judge; a string → `read(value)`."""
    allow_null = field.allow_null

    def check(value):
        if value is empty:
            return absent()
        if value is None:
            if allow_null:
                return None
            raise _Undecided
        if type(value) is not str:
            raise _Undecided
        return read(value)

    return check


def _parsed_check(field, absent):
    """Moments and dates: the field's own `to_internal_value` (the parsing and the range), without
    the machinery around it; a null is the serializer's to judge unless the field allows it."""
    parse = field.to_internal_value

    def read(value):
        try:
            return parse(value)
        except (serializers.ValidationError, DjangoValidationError) as exc:
            raise _Undecided from exc

    return _text_check(field, absent, read)


def _moment_check(field, absent):
    """`MomentField`: an ISO 8601 time with an offset, read as Django's `parse_datetime` reads it
    first (`datetime.fromisoformat`), in the current time zone as DRF's `enforce_timezone` puts
    it, inside the field's range; anything else (no offset, another spelling) the serializer's."""
    tz = field.default_timezone()
    if getattr(field, "timezone", tz) != tz or tz is None or getattr(field, "input_formats", None) is not None:
        return _parsed_check(field, absent)

    def read(value):
        try:
            moment = dt.datetime.fromisoformat(value)
        except ValueError as exc:
            raise _Undecided from exc
        if moment.tzinfo is None:
            raise _Undecided
        try:
            moment = moment.astimezone(tz)
        except OverflowError as exc:
            raise _Undecided from exc
        if not EARLIEST_MOMENT <= moment < LATEST_MOMENT:
            raise _Undecided
        return moment

    return _text_check(field, absent, read)


def _generic_check(field):
    """Any other field: its whole `run_validation`, errors left to the serializer."""

    def check(value):
        try:
            return field.run_validation(value)
        except SkipField:
            return _SKIP
        except (serializers.ValidationError, DjangoValidationError) as exc:
            raise _Undecided from exc

    return check


def _field_check(field):
    absent = _empty_check(field)
    validators = field.validators
    if type(field) is serializers.CharField and all(
        isinstance(v, (*_CHAR_VALIDATORS, ProhibitSurrogateCharactersValidator)) for v in validators
    ):
        return _char_check(field, absent)
    if type(field) is serializers.ChoiceField and not validators:
        return _choice_check(field, absent)
    if type(field) is serializers.BooleanField and not validators and not field.allow_null:
        return _boolean_check(field, absent)
    if type(field) is serializers.IntegerField and all(
        isinstance(v, (MinValueValidator, MaxValueValidator)) for v in validators
    ):
        return _integer_check(field, absent)
    if type(field) is MomentField and not validators:
        return _moment_check(field, absent)
    if isinstance(field, (serializers.DateTimeField, serializers.DateField)) and not validators:
        return _parsed_check(field, absent)
    return _generic_check(field)


class BatchValidator:
    """One feed's record schema, applied to each record of a batch (see above). Calling it returns
    the validated record as a dict, or raises the serializer's `ValidationError` with its detail."""

    def __init__(self, schema: type[serializers.Serializer], context: dict):
        self.serializer = schema(context=context)
        self.steps = []
        for name, field in self.serializer.fields.items():
            if field.read_only:
                continue
            if field.source_attrs != [name]:  # a nested source: only the serializer knows it
                self.steps = None
                break
            self.steps.append((name, _field_check(field), getattr(self.serializer, f"validate_{name}", None)))
        if self.serializer.validators:  # schema-wide validators: not run by the plain path
            self.steps = None

    def __call__(self, record: dict) -> dict:
        if self.steps is not None:
            try:
                return self._plain(record)
            except (_Undecided, serializers.ValidationError, DjangoValidationError):
                pass  # the serializer decides, and words the errors
        return dict(self.serializer.run_validation(record))

    def _plain(self, record: dict) -> dict:
        attrs = {}
        for name, check, method in self.steps:
            value = check(record.get(name, empty))
            if value is _SKIP:
                continue
            attrs[name] = method(value) if method is not None else value
        return self.serializer.validate(attrs)
