from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from apps.accounts.models import Organisation
from apps.core.api import BoundedDateField, MomentField
from apps.core.clock import local_date, now

from ..choices import IdType, PhoneChannel
from ..identity import EARLIEST_BIRTH_DATE, validate_id


class BirthDateField(BoundedDateField):
    """A birth date given with an ID type other than the resident ID (whose number holds it): from
    1900 to today in Asia/Shanghai. One in the future would make a negative age, which the proxy
    rule (老幼助查) would read as a child's."""

    earliest = staticmethod(lambda: EARLIEST_BIRTH_DATE)
    latest = staticmethod(lambda: local_date(now()))
    default_error_messages = {"out_of_range": _("A birth date lies from {earliest} to today ({latest}).")}


class PhoneInSerializer(serializers.Serializer):
    number = serializers.CharField(max_length=24)
    channel = serializers.ChoiceField(choices=PhoneChannel.choices)
    bound_at = MomentField(required=False)
    unbound_at = MomentField(required=False, allow_null=True, default=None)


class PersonInSerializer(serializers.Serializer):
    id_type = serializers.ChoiceField(choices=IdType.choices)
    id_number = serializers.CharField(max_length=40)
    name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    community = serializers.CharField(max_length=32, required=False, allow_blank=True, allow_null=True)
    birth_date = BirthDateField(required=False, allow_null=True)
    phones = PhoneInSerializer(many=True, required=False)
    reason = serializers.CharField(
        max_length=2000,
        required=False,
        allow_blank=True,
        help_text="Staff: why the record is changed (required for a staff change; audited).",
    )

    def validate(self, attrs):
        try:
            attrs["id_number"] = validate_id(attrs["id_type"], attrs["id_number"], today=local_date(now()))
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from exc
        code = attrs.get("community")
        if code:
            org = Organisation.objects.filter(code=code, kind="community").first()
            if org is None:
                raise serializers.ValidationError({"community": [_("Unknown community %(code)s.") % {"code": code}]})
            attrs["community"] = org
        else:
            attrs["community"] = None
        return attrs


class PersonOutSerializer(serializers.Serializer):
    ref = serializers.CharField()
    display_name = serializers.CharField()
    display_id = serializers.CharField()
