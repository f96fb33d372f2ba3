"""Staff actions of casework (API.md "Staff actions") and community registrations (API.md
"Person-facing actions"). Views only parse input and shape output; the services decide."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from apps.accounts import access
from apps.accounts.access import ACTION_ROLES
from apps.core.api import BaseAPIView, MomentField, error_responses
from apps.evidence.choices import OrderKind
from apps.people.choices import IdType
from apps.people.models import Person
from apps.status.api.serializers import StatusSerializer

from .. import selectors, services
from ..choices import RegistrationStatus
from ..models import CommunityRegistration


class ReleaseSerializer(serializers.Serializer):
    reason = serializers.CharField()
    itinerary_verified = serializers.BooleanField()
    nat_negative = serializers.BooleanField()
    commitment_signed = serializers.BooleanField()


class PopupReleaseView(BaseAPIView):
    """Release one active popup (SPEC §5): reason and the three-item checklist, all true."""

    allowed_roles = ACTION_ROLES["popup.release"]

    @extend_schema(request=ReleaseSerializer, responses={200: StatusSerializer, **error_responses(409)})
    def post(self, request, popup_id: str):
        data = ReleaseSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        outcome = services.popup_release(
            actor=request.user,
            popup_id=popup_id,
            reason=v["reason"],
            checklist={item: v[item] for item in services.CHECKLIST},
            origin="api",
        )
        (status_after,) = outcome.statuses.values()
        return Response(status_after)


class OrderSerializer(serializers.Serializer):
    person = serializers.CharField(help_text="the person's ref")
    kind = serializers.ChoiceField(choices=OrderKind.choices)
    starts_at = MomentField(required=False, allow_null=True, default=None)
    ends_at = MomentField(required=False, allow_null=True, default=None)
    reason = serializers.CharField()


def order_json(order, status_after: dict) -> dict:
    return {
        "id": str(order.pk),
        "person": order.person.ref,
        "kind": order.kind,
        "starts_at": order.starts_at.isoformat(),
        "ends_at": order.ends_at.isoformat() if order.ends_at else None,
        "ended_at": order.ended_at.isoformat() if order.ended_at else None,
        "reason": order.reason,
        "end_reason": order.end_reason or None,
        "status": status_after,
    }


ORDER_RESPONSE = inline_serializer(
    "ObservationOrder",
    {
        "id": serializers.CharField(),
        "person": serializers.CharField(),
        "kind": serializers.ChoiceField(choices=OrderKind.choices),
        "starts_at": serializers.DateTimeField(),
        "ends_at": serializers.DateTimeField(allow_null=True),
        "ended_at": serializers.DateTimeField(allow_null=True),
        "reason": serializers.CharField(),
        "end_reason": serializers.CharField(allow_null=True),
        "status": StatusSerializer(),
    },
)


class OrdersView(BaseAPIView):
    """Start an observation order: home (community workers, CDC) or centralised (CDC)."""

    allowed_roles = tuple(set(ACTION_ROLES["order.start.home"]) | set(ACTION_ROLES["order.start.centralized"]))

    @extend_schema(request=OrderSerializer, responses={201: ORDER_RESPONSE, **error_responses(404)})
    def post(self, request):
        data = OrderSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        # Role first (403), then jurisdiction (404): a refusal never tells whose the person is.
        access.require(request.user, f"order.start.{v['kind']}")
        person = Person.objects.visible_to(request.user).filter(ref=v["person"]).first()
        if person is None:
            raise NotFound(_("No such person."))
        order, status_after = services.order_start(
            actor=request.user,
            person=person,
            kind=v["kind"],
            starts_at=v["starts_at"],
            ends_at=v["ends_at"],
            reason=v["reason"],
        )
        return Response(order_json(order, status_after), status=status.HTTP_201_CREATED)


class OrderEndSerializer(serializers.Serializer):
    reason = serializers.CharField()


class OrderEndView(BaseAPIView):
    allowed_roles = ACTION_ROLES["order.end"]

    @extend_schema(request=OrderEndSerializer, responses={200: ORDER_RESPONSE, **error_responses(409)})
    def post(self, request, order_id: str):
        data = OrderEndSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        order, status_after = services.order_end(
            actor=request.user, order_id=order_id, reason=data.validated_data["reason"]
        )
        return Response(order_json(order, status_after))


class RegistrationInputSerializer(serializers.Serializer):
    id_type = serializers.ChoiceField(choices=IdType.choices)
    id_number = serializers.CharField()
    name = serializers.CharField(required=False, allow_blank=True, default="")
    community = serializers.CharField()
    arriving_at = MomentField()
    from_area_code = serializers.CharField(required=False, allow_blank=True, allow_null=True, default=None)


class RegistrationSerializer(serializers.ModelSerializer):
    id = serializers.CharField(read_only=True)
    person = serializers.CharField(source="person.ref")
    display_name = serializers.CharField(source="person.display_name")
    display_id = serializers.CharField(source="person.display_id")
    community = serializers.CharField(source="community.code")
    from_area_code = serializers.CharField(source="from_area_id", allow_null=True)

    class Meta:
        model = CommunityRegistration
        fields = [
            "id",
            "person",
            "display_name",
            "display_id",
            "community",
            "arriving_at",
            "from_area_code",
            "status",
            "decided_at",
            "decision_note",
            "created_at",
        ]


class CommunityRegistrationsView(BaseAPIView):
    """POST: a returnee registers with a community before arriving (status scope, on the person's
    behalf). GET: the registrations of the caller's community (community workers, CDC), oldest
    first, `?status=pending` by default."""

    required_scopes = {"POST": ("status",)}
    allowed_roles = {"GET": ACTION_ROLES["registration.list"]}

    @extend_schema(request=RegistrationInputSerializer, responses={201: RegistrationSerializer})
    def post(self, request):
        data = RegistrationInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        registration = services.registration_create(
            actor=request.user,
            id_type=v["id_type"],
            id_number=v["id_number"],
            name=v["name"],
            community_code=v["community"],
            arriving_at=v["arriving_at"],
            from_area_code=v["from_area_code"],
        )
        return Response(RegistrationSerializer(registration).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[OpenApiParameter("status", str, enum=RegistrationStatus.values)],
        responses={200: RegistrationSerializer(many=True)},
    )
    def get(self, request):
        wanted = request.query_params.get("status", RegistrationStatus.PENDING)
        qs = CommunityRegistration.objects.visible_to(request.user)
        qs = qs.filter(status=wanted).select_related("person", "community").order_by("arriving_at", "pk")
        return Response(RegistrationSerializer(qs[:500], many=True).data)


class DecisionSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=[RegistrationStatus.HOME_OBSERVATION, RegistrationStatus.NO_ISOLATION])
    note = serializers.CharField()
    observation_days = serializers.IntegerField(required=False, min_value=1, max_value=60)
    release_popups = serializers.BooleanField(required=False, default=False)
    itinerary_verified = serializers.BooleanField(required=False, default=False)
    nat_negative = serializers.BooleanField(required=False, default=False)
    commitment_signed = serializers.BooleanField(required=False, default=False)


class RegistrationDecideView(BaseAPIView):
    """The community decides home observation or no isolation (releasing due popups with the
    checklist when `release_popups` is true)."""

    allowed_roles = ACTION_ROLES["registration.decide"]

    @extend_schema(request=DecisionSerializer, responses={200: RegistrationSerializer, **error_responses(409)})
    def post(self, request, registration_id: str):
        data = DecisionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        registration = services.registration_decide(
            actor=request.user,
            registration_id=registration_id,
            decision=v["decision"],
            note=v["note"],
            observation_days=v.get("observation_days"),
            checklist={item: v[item] for item in services.CHECKLIST} if v["release_popups"] else None,
            origin="api",
        )
        return Response(RegistrationSerializer(registration).data)


class WorkQueueView(BaseAPIView):
    """The community worker's work queue: persons with popup ③, pending registrations and routed
    appeals, oldest first, with counts (also what the admin's queue page shows)."""

    allowed_roles = ACTION_ROLES["popup.release"]

    @extend_schema(responses={200: inline_serializer("WorkQueue", {"counts": serializers.DictField()})})
    def get(self, request):
        queue = selectors.work_queue(request.user)
        return Response({"counts": queue.counts, "items": [item.as_json() for item in queue.items]})
