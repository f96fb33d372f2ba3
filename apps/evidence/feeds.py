"""The record schemas of the seven feeds (API.md "Feeds"): field validation only. What an accepted
record does is decided in services.py."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from apps.areas.models import Area
from apps.core.clock import local_date, now
from apps.core.fields import EventDateField, MomentField, column_bounds
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
