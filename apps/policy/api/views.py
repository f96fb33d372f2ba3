"""Policy administration (API.md "Policy"): designations, border-port counties, parameters."""

from django.db import models
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response

from apps.accounts.access import ACTION_ROLES
from apps.accounts.choices import Role
from apps.core.api import BaseAPIView, MomentField
from apps.core.clock import now

from ..choices import RiskLevel
from ..models import BorderPortCounty, PolicyVersion, RiskDesignation
from ..selectors import POLICY_PARAMETERS, policy_at
from ..services import border_port_publish, policy_publish, risk_designation_publish

READERS = (Role.POLICY_ADMIN, Role.CDC_OFFICER, Role.COMMUNITY_WORKER, Role.HOTLINE_OPERATOR, Role.AUDITOR)


class PolicyModelSerializer(serializers.ModelSerializer):
    """Model serializers of this module: their times are `MomentField`s."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.DateTimeField: MomentField,
    }


class RiskDesignationSerializer(PolicyModelSerializer):
    area_code = serializers.CharField(source="area_id", max_length=6)
    level = serializers.ChoiceField(choices=RiskLevel.choices)

    class Meta:
        model = RiskDesignation
        fields = ["id", "area_code", "level", "effective_from", "published_at", "note"]
        read_only_fields = ["id", "published_at"]


class BorderPortSerializer(PolicyModelSerializer):
    area_code = serializers.CharField(source="area_id", max_length=6)

    class Meta:
        model = BorderPortCounty
        fields = ["id", "area_code", "effective_from", "effective_to", "published_at"]
        read_only_fields = ["id", "published_at"]


class RiskDesignationView(BaseAPIView):
    allowed_roles = {"GET": READERS, "POST": ACTION_ROLES["policy.publish"]}

    @extend_schema(
        parameters=[OpenApiParameter("area_code", str, description="only the designations of this county")],
        responses={200: RiskDesignationSerializer(many=True)},
    )
    def get(self, request):
        qs = RiskDesignation.objects.order_by("-effective_from", "-id")
        if request.query_params.get("area_code"):
            qs = qs.filter(area_id=request.query_params["area_code"])
        return Response(RiskDesignationSerializer(qs[:500], many=True).data)

    @extend_schema(request=RiskDesignationSerializer, responses={201: RiskDesignationSerializer})
    def post(self, request):
        data = RiskDesignationSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        designation = risk_designation_publish(
            actor=request.user,
            area_code=v["area_id"],
            level=v["level"],
            effective_from=v["effective_from"],
            note=v.get("note", ""),
        )
        return Response(RiskDesignationSerializer(designation).data, status=status.HTTP_201_CREATED)


class BorderPortView(BaseAPIView):
    allowed_roles = {"GET": READERS, "POST": ACTION_ROLES["policy.publish"]}

    @extend_schema(responses={200: BorderPortSerializer(many=True)})
    def get(self, request):
        return Response(BorderPortSerializer(BorderPortCounty.objects.order_by("area_id")[:1000], many=True).data)

    @extend_schema(request=BorderPortSerializer, responses={201: BorderPortSerializer})
    def post(self, request):
        data = BorderPortSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        port = border_port_publish(
            actor=request.user,
            area_code=v["area_id"],
            effective_from=v["effective_from"],
            effective_to=v.get("effective_to"),
        )
        return Response(BorderPortSerializer(port).data, status=status.HTTP_201_CREATED)


# A window of more than a year is a typo, and a big enough one overflows every date computed with it.
MAX_DAYS = 366
MAX_HOURS = MAX_DAYS * 24


def _days(minimum: int = 0):
    return serializers.IntegerField(min_value=minimum, max_value=MAX_DAYS, required=False)


def _hours():
    return serializers.IntegerField(min_value=0, max_value=MAX_HOURS, required=False)


class PolicySerializer(serializers.Serializer):
    effective_from = MomentField(required=False)
    note = serializers.CharField(required=False, allow_blank=True, max_length=500)
    lookback_days = _days(minimum=1)
    local_case_clear_days = _days(minimum=1)
    telecom_min_stay_hours = _hours()
    inbound_quarantine_days = _days()
    popup4_grace_hours = _hours()
    entry_nat_window_hours = _hours()
    hotel_nat_validity_days = _days()
    phone_unbind_days = _days()
    review_burst_per_hour = serializers.IntegerField(min_value=0, max_value=100_000, required=False)
    working_hours_start = serializers.IntegerField(min_value=0, max_value=24, required=False)
    working_hours_end = serializers.IntegerField(min_value=0, max_value=24, required=False)
    reraised_within_hours = _hours()


def _policy_values() -> dict:
    return {name: serializers.IntegerField() for name in POLICY_PARAMETERS}


POLICY_RESPONSE = inline_serializer(
    "PolicyInForce",
    {
        "in_force_at": serializers.DateTimeField(),
        "effective_from": serializers.DateTimeField(allow_null=True, help_text="null: the defaults are in force"),
        "version": serializers.IntegerField(allow_null=True),
        **_policy_values(),
        "upcoming": inline_serializer(
            "PolicyUpcoming",
            {"version": serializers.IntegerField(), "effective_from": serializers.DateTimeField(), **_policy_values()},
            many=True,
        ),
    },
)


def policy_json(t) -> dict:
    policy = policy_at(t)
    upcoming = PolicyVersion.objects.filter(effective_from__gt=t).order_by("effective_from")
    return {
        "in_force_at": t.isoformat(),
        "effective_from": policy.effective_from.isoformat() if policy.effective_from else None,
        "version": policy.version_id,
        **{name: getattr(policy, name) for name in POLICY_PARAMETERS},
        "upcoming": [
            {
                "version": v.pk,
                "effective_from": v.effective_from.isoformat(),
                **{n: getattr(v, n) for n in POLICY_PARAMETERS},
            }
            for v in upcoming[:20]
        ],
    }


class PolicyView(BaseAPIView):
    allowed_roles = {"GET": READERS, "PUT": ACTION_ROLES["policy.publish"]}

    @extend_schema(responses={200: POLICY_RESPONSE})
    def get(self, request):
        return Response(policy_json(now()))

    @extend_schema(request=PolicySerializer, responses={200: POLICY_RESPONSE})
    def put(self, request):
        data = PolicySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = dict(data.validated_data)
        effective_from = v.pop("effective_from", None) or now()
        note = v.pop("note", "")
        policy_publish(actor=request.user, effective_from=effective_from, note=note, **v)
        return Response(policy_json(max(now(), effective_from)))
