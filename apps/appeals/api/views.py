"""Hotline appeals (API.md "Staff actions"): open (hotline operators), follow, re-route, start,
resolve and reject. Views only parse input and shape output; the services decide."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response

from apps.accounts.access import ACTION_ROLES
from apps.audit.services import access_log_record
from apps.core.api import BaseAPIView, error_responses
from apps.core.clock import now
from apps.people.choices import IdType
from apps.status.api.serializers import StatusSerializer
from apps.status.selectors import status_payload
from apps.status.services import status_current

from .. import services
from ..choices import Category, Channel
from ..selectors import appeal_json

CHECKLIST = ("itinerary_verified", "nat_negative", "commitment_signed")
FOLLOWERS = ACTION_ROLES["appeal.follow"]


class AppealPersonSerializer(serializers.Serializer):
    id_type = serializers.ChoiceField(choices=IdType.choices)
    id_number = serializers.CharField()
    name = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="accepted and ignored: the stored name of a person comes from the feeds (SPEC §7)",
    )


class AppealOpenSerializer(serializers.Serializer):
    person = AppealPersonSerializer()
    channel = serializers.ChoiceField(choices=Channel.choices)
    category = serializers.ChoiceField(choices=Category.choices)
    description = serializers.CharField()
    caller_phone = serializers.CharField(required=False, allow_blank=True, default="")


class RouteSerializer(serializers.Serializer):
    routed_to = serializers.CharField(help_text="the code of a community or a CDC")
    reason = serializers.CharField()


class NoteSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="")


class RejectSerializer(serializers.Serializer):
    reason = serializers.CharField()


class ResolveSerializer(serializers.Serializer):
    resolution = serializers.CharField()
    release_popups = serializers.BooleanField(required=False, default=False)
    itinerary_verified = serializers.BooleanField(required=False, default=False)
    nat_negative = serializers.BooleanField(required=False, default=False)
    commitment_signed = serializers.BooleanField(required=False, default=False)


APPEAL_FIELDS = {
    "id": serializers.CharField(),
    "tracking_number": serializers.CharField(),
    "person": serializers.CharField(),
    "display_name": serializers.CharField(),
    "display_id": serializers.CharField(),
    "channel": serializers.CharField(),
    "category": serializers.CharField(),
    "description": serializers.CharField(),
    "caller_phone": serializers.CharField(allow_null=True),
    "status": serializers.CharField(),
    "routed_to": serializers.CharField(allow_null=True),
    "routed_to_name": serializers.CharField(allow_null=True),
    "routing_basis": serializers.CharField(allow_null=True),
    "due_at": serializers.DateTimeField(),
    "overdue": serializers.BooleanField(),
    "opened_at": serializers.DateTimeField(),
    "resolved_at": serializers.DateTimeField(allow_null=True),
    "resolution": serializers.CharField(allow_null=True),
}
APPEAL_RESPONSE = inline_serializer("Appeal", APPEAL_FIELDS)
APPEAL_DETAIL = inline_serializer(
    "AppealDetail",
    {
        **APPEAL_FIELDS,
        "events": serializers.ListField(child=serializers.DictField()),
        "person_status": StatusSerializer(),
    },
)
RESOLVED_RESPONSE = inline_serializer(
    "AppealResolved", {**APPEAL_FIELDS, "person_status": StatusSerializer(allow_null=True)}
)


class AppealsView(BaseAPIView):
    """Open an appeal for a caller; it is routed at once (SPEC §6)."""

    allowed_roles = ACTION_ROLES["appeal.open"]

    @extend_schema(request=AppealOpenSerializer, responses={201: APPEAL_RESPONSE, **error_responses(404, 409)})
    def post(self, request):
        data = AppealOpenSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        appeal = services.appeal_open(
            actor=request.user,
            id_type=v["person"]["id_type"],
            id_number=v["person"]["id_number"],
            channel=v["channel"],
            category=v["category"],
            description=v["description"],
            caller_phone=v["caller_phone"],
            origin="api",
        )
        return Response(appeal_json(appeal, now()), status=status.HTTP_201_CREATED)


class AppealDetailView(BaseAPIView):
    """One appeal with its events and the person's masked status and reasons (what the hotline
    tells the caller). The look-up is logged."""

    allowed_roles = FOLLOWERS

    @extend_schema(responses={200: APPEAL_DETAIL})
    def get(self, request, appeal_id: str):
        appeal = services.appeal_visible(request.user, appeal_id)
        person = appeal.person
        access_log_record(
            actor=request.user, person=person, why=_("appeal %(n)s") % {"n": appeal.tracking_number}, via="api"
        )
        body = appeal_json(appeal, now(), events=True)
        body["person_status"] = status_payload(person, status_current(person_id=person.pk))
        return Response(body)


class AppealRouteView(BaseAPIView):
    allowed_roles = ACTION_ROLES["appeal.route"]

    @extend_schema(request=RouteSerializer, responses={200: APPEAL_RESPONSE, **error_responses(409)})
    def post(self, request, appeal_id: str):
        data = RouteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        appeal = services.appeal_route(
            actor=request.user,
            appeal_id=appeal_id,
            to=data.validated_data["routed_to"],
            reason=data.validated_data["reason"],
            origin="api",
        )
        return Response(appeal_json(appeal, now()))


class AppealStartView(BaseAPIView):
    allowed_roles = ACTION_ROLES["appeal.resolve"]

    @extend_schema(request=NoteSerializer, responses={200: APPEAL_RESPONSE, **error_responses(409)})
    def post(self, request, appeal_id: str):
        data = NoteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        appeal = services.appeal_start(
            actor=request.user, appeal_id=appeal_id, note=data.validated_data["note"], origin="api"
        )
        return Response(appeal_json(appeal, now()))


class AppealResolveView(BaseAPIView):
    """Resolve (the organisation it is routed to). With `release_popups` the person's active
    popups are released; the checklist items must then all be true (SPEC §5)."""

    allowed_roles = ACTION_ROLES["appeal.resolve"]

    @extend_schema(request=ResolveSerializer, responses={200: RESOLVED_RESPONSE, **error_responses(409)})
    def post(self, request, appeal_id: str):
        data = ResolveSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        appeal, status_after = services.appeal_resolve(
            actor=request.user,
            appeal_id=appeal_id,
            resolution=v["resolution"],
            release_popups=v["release_popups"],
            checklist={item: v[item] for item in CHECKLIST},
            origin="api",
        )
        return Response({**appeal_json(appeal, now()), "person_status": status_after})


class AppealRejectView(BaseAPIView):
    allowed_roles = tuple({*ACTION_ROLES["appeal.resolve"], *ACTION_ROLES["appeal.route"]})

    @extend_schema(request=RejectSerializer, responses={200: APPEAL_RESPONSE, **error_responses(409)})
    def post(self, request, appeal_id: str):
        data = RejectSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        appeal = services.appeal_reject(
            actor=request.user, appeal_id=appeal_id, reason=data.validated_data["reason"], origin="api"
        )
        return Response(appeal_json(appeal, now()))
