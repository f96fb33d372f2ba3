"""Hotline appeals (API.md "Staff actions"): open (hotline operators), follow, re-route, start,
resolve and reject; on the call, the hotline records the caller's itinerary and releases a
city-precision-only popup ③ (SPEC §6). Views only parse input and shape output; the services decide."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response

from apps.accounts.access import ACTION_ROLES
from apps.audit.services import access_log_record
from apps.casework.services import CHECKLIST
from apps.core.api import ERROR_DESCRIPTIONS, BaseAPIView, MomentField, error_responses
from apps.core.clock import now
from apps.people.choices import IdType
from apps.status.api.serializers import StatusSerializer
from apps.status.api.views import DeclaredPlaceSerializer
from apps.status.selectors import status_payload
from apps.status.services import status_current

from .. import services
from ..choices import Category, Channel
from ..selectors import appeal_json, popup3_call_evidence

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
        "popup3_evidence": serializers.ListField(
            child=serializers.DictField(),
            help_text="the caller's popup ③ evidence as the hotline sees it on the call (CallEvidence)",
        ),
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
        row = status_current(person_id=person.pk)
        body["person_status"] = status_payload(person, row)
        body["popup3_evidence"] = [e.as_json() for e in popup3_call_evidence(appeal, row)]
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


# --- the hotline on the call (SPEC §6) -----------------------------------------------------------


class ItineraryOnCallSerializer(serializers.Serializer):
    entered_beijing_at = MomentField(
        required=False, allow_null=True, default=None, help_text="when the caller entered Beijing (SPEC §4)"
    )
    places = DeclaredPlaceSerializer(many=True, allow_empty=False, max_length=services.MAX_PLACES)
    reason = serializers.CharField(help_text="how the itinerary was verified on the call")


class ReleaseOnCallSerializer(serializers.Serializer):
    reason = serializers.CharField()
    itinerary_verified = serializers.BooleanField()
    nat_negative = serializers.BooleanField()
    commitment_signed = serializers.BooleanField()


CALL_EVIDENCE = inline_serializer(
    "CallEvidence",
    {
        "kind": serializers.CharField(help_text="stay, association, …"),
        "id": serializers.CharField(),
        "rule": serializers.CharField(),
        "summary": serializers.CharField(),
        "on_call": serializers.BooleanField(help_text="a city-precision stay: the hotline verifies it on the call"),
        "covered": serializers.BooleanField(help_text="the itinerary recorded on this appeal covers it"),
        "covered_by": serializers.CharField(allow_null=True, help_text="the covering declaration"),
        "why": serializers.CharField(help_text="why it can or cannot be released on the call"),
        "area_code": serializers.CharField(allow_null=True),
        "precision": serializers.CharField(allow_null=True),
        "arrived_at": serializers.DateTimeField(allow_null=True),
        "departed_at": serializers.DateTimeField(allow_null=True),
        "after_release": serializers.CharField(allow_null=True),
    },
)
ITINERARY_RESPONSE = inline_serializer(
    "ItineraryOnCallResult",
    {
        **StatusSerializer._declared_fields,
        "appeal": serializers.CharField(),
        "declaration": serializers.CharField(),
        "popup3_evidence": CALL_EVIDENCE.__class__(many=True),
    },
)
RELEASE_RESPONSE = inline_serializer(
    "ReleaseOnCallResult",
    {
        **StatusSerializer._declared_fields,
        "release": serializers.CharField(help_text="the release of popup ③"),
        "appeal": APPEAL_RESPONSE.__class__(),
    },
)
REFUSED_ON_CALL = OpenApiResponse(
    inline_serializer(
        "ReleaseOnCallRefused",
        {"detail": serializers.CharField(), "evidence": CALL_EVIDENCE.__class__(many=True, required=False)},
    ),
    description=ERROR_DESCRIPTIONS[409]
    + " On the call: popup ③ is not active, the appeal is closed, or `evidence` names each piece that is not a"
    " city-precision stay covered by the recorded itinerary and must go to the community or CDC.",
)


def _logged_look_up(request, appeal) -> None:
    """The answer shows the person's status: a look-up, logged with the appeal (SPEC §7)."""
    access_log_record(
        actor=request.user, person=appeal.person, why=_("appeal %(n)s") % {"n": appeal.tracking_number}, via="api"
    )


class AppealItineraryView(BaseAPIView):
    """Record the caller's itinerary verified on the call, county by county, as a declaration on
    their behalf (SPEC §4, §6); answers with the new status and the caller's popup ③ evidence as
    the hotline sees it (each piece: verifiable on the call and covered, or for the community/CDC)."""

    allowed_roles = ACTION_ROLES["appeal.itinerary"]

    @extend_schema(request=ItineraryOnCallSerializer, responses={201: ITINERARY_RESPONSE, **error_responses(404, 409)})
    def post(self, request, appeal_id: str):
        data = ItineraryOnCallSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        appeal, status_after, declaration = services.appeal_itinerary_record(
            actor=request.user,
            appeal_id=appeal_id,
            places=[dict(p) for p in v["places"]],
            entered_beijing_at=v["entered_beijing_at"],
            reason=v["reason"],
            origin="api",
        )
        _logged_look_up(request, appeal)
        body = {
            **status_after,
            "appeal": str(appeal.pk),
            "declaration": str(declaration.pk),
            "popup3_evidence": [e.as_json() for e in popup3_call_evidence(appeal)],
        }
        return Response(body, status=status.HTTP_201_CREATED)


class AppealReleaseOnCallView(BaseAPIView):
    """Release popup ③ on the call (SPEC §6) with the reason and the checklist, all true, when all
    its evidence is city-precision stays covered by the itinerary recorded on this appeal;
    otherwise 409 naming each piece that must go to the community or CDC. Resolves the appeal."""

    allowed_roles = ACTION_ROLES["appeal.release_on_call"]

    @extend_schema(
        request=ReleaseOnCallSerializer,
        responses={200: RELEASE_RESPONSE, **error_responses(404, 409), 409: REFUSED_ON_CALL},
    )
    def post(self, request, appeal_id: str):
        data = ReleaseOnCallSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        try:
            appeal, status_after, releases = services.appeal_release_on_call(
                actor=request.user,
                appeal_id=appeal_id,
                reason=v["reason"],
                checklist={item: v[item] for item in CHECKLIST},
                origin="api",
            )
        except services.OnCallRefused as refused:
            body = {"detail": refused.message, "evidence": [e.as_json() for e in refused.evidence]}
            return Response(body, status=status.HTTP_409_CONFLICT)
        _logged_look_up(request, appeal)
        body = {**status_after, "release": str(releases[0].pk), "appeal": appeal_json(appeal, now())}
        return Response(body)
