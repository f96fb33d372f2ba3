"""Hotel guest registration (API.md "Staff actions"): check-in, check-out and the current guests
with their colour. Views only parse input and shape output; the services decide."""

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response

from apps.accounts.access import ACTION_ROLES
from apps.accounts.choices import Role
from apps.core.api import BaseAPIView, MomentField, error_responses
from apps.core.clock import local_iso
from apps.evidence.choices import LabResultValue
from apps.people.choices import IdType
from apps.status.api.serializers import StatusSerializer
from apps.status.presentation import STATE_COLOUR, STATE_LABEL

from .. import selectors, services


class GuestPersonSerializer(serializers.Serializer):
    id_type = serializers.ChoiceField(choices=IdType.choices)
    id_number = serializers.CharField()
    name = serializers.CharField(required=False, allow_blank=True, default="")


class NatSerializer(serializers.Serializer):
    sampled_at = MomentField()
    result = serializers.ChoiceField(choices=LabResultValue.choices)
    at_hotel = serializers.BooleanField(required=False, default=False)


class CheckInSerializer(serializers.Serializer):
    person = GuestPersonSerializer()
    checked_in_at = MomentField(required=False, allow_null=True, default=None)
    nat = NatSerializer(required=False, allow_null=True, default=None)


class CheckOutSerializer(serializers.Serializer):
    checked_out_at = MomentField(required=False, allow_null=True, default=None)


def hotel_stay_json(hotel_stay) -> dict:
    return {
        "id": str(hotel_stay.pk),
        "hotel": hotel_stay.hotel.code,
        "person": hotel_stay.person.ref,
        "display_name": hotel_stay.person.display_name,
        "display_id": hotel_stay.person.display_id,
        "checked_in_at": local_iso(hotel_stay.checked_in_at),
        "checked_out_at": local_iso(hotel_stay.checked_out_at) if hotel_stay.checked_out_at else None,
        "verified": hotel_stay.verified,
        "nat": (
            {
                "sampled_at": local_iso(hotel_stay.nat_sampled_at),
                "result": hotel_stay.nat_result,
                "at_hotel": hotel_stay.nat_at_hotel,
            }
            if hotel_stay.nat_sampled_at
            else None
        ),
    }


HOTEL_STAY_FIELDS = {
    "id": serializers.CharField(),
    "hotel": serializers.CharField(),
    "person": serializers.CharField(),
    "display_name": serializers.CharField(),
    "display_id": serializers.CharField(),
    "checked_in_at": serializers.DateTimeField(),
    "checked_out_at": serializers.DateTimeField(allow_null=True),
    "verified": serializers.BooleanField(),
    "nat": NatSerializer(allow_null=True),
}
HOTEL_STAY_RESPONSE = inline_serializer(
    "HotelStay", {**HOTEL_STAY_FIELDS, "message": serializers.CharField(), "status": StatusSerializer()}
)
GUEST_RESPONSE = inline_serializer(
    "CurrentGuest",
    {
        **HOTEL_STAY_FIELDS,
        "state": serializers.CharField(allow_null=True),
        "colour": serializers.CharField(allow_null=True),
        "label": serializers.CharField(allow_null=True),
    },
    many=True,
)
GUESTS_PAGE = inline_serializer(
    "CurrentGuestsPage",
    {
        "next": serializers.URLField(allow_null=True, help_text="the URL of the next page, or null"),
        "previous": serializers.URLField(allow_null=True, help_text="the URL of the previous page, or null"),
        "results": GUEST_RESPONSE,
    },
)


class GuestPagination(CursorPagination):
    page_size = 200
    page_size_query_param = "page_size"
    max_page_size = 1000
    ordering = ("checked_in_at", "pk")


class HotelStaysView(BaseAPIView):
    """POST: check a guest in (hotel staff). GET: the current guests of the caller's hotel (or,
    for a culture-and-tourism officer, of their district's hotels) with their colour."""

    allowed_roles = {
        "POST": ACTION_ROLES["hotel.check_in"],
        "GET": (Role.HOTEL_STAFF, Role.TOURISM_OFFICER, Role.CDC_OFFICER),
    }

    @extend_schema(request=CheckInSerializer, responses={201: HOTEL_STAY_RESPONSE, **error_responses(409)})
    def post(self, request):
        data = CheckInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        nat = services.NatInput(**v["nat"]) if v["nat"] else None
        outcome = services.hotel_check_in(
            actor=request.user,
            guest=services.GuestInput(**v["person"], checked_in_at=v["checked_in_at"], nat=nat),
            origin="api",
        )
        body = {**hotel_stay_json(outcome.hotel_stay), "message": outcome.message, "status": outcome.status}
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[
            OpenApiParameter("cursor", str, description="from `next` or `previous` of the page before"),
            OpenApiParameter(
                "page_size",
                {"type": "integer", "minimum": 1, "maximum": GuestPagination.max_page_size},
                description=f"guests per page, at most {GuestPagination.max_page_size}",
            ),
        ],
        responses={200: GUESTS_PAGE, **error_responses(404)},
    )
    def get(self, request):
        paginator = GuestPagination()
        page = paginator.paginate_queryset(selectors.current_guests(request.user), request, view=self)
        services.guests_status_refresh([hs.person_id for hs in page])
        stored = {row.person_id: row.state for row in selectors.guest_statuses([hs.person_id for hs in page])}
        items = []
        for hotel_stay in page:
            state = stored.get(hotel_stay.person_id)
            items.append(
                {
                    **hotel_stay_json(hotel_stay),
                    "state": state,
                    "colour": STATE_COLOUR[state] if state else None,
                    "label": STATE_LABEL[state] if state else None,
                }
            )
        return paginator.get_paginated_response(items)


class HotelStayCheckOutView(BaseAPIView):
    allowed_roles = ACTION_ROLES["hotel.check_out"]

    @extend_schema(request=CheckOutSerializer, responses={200: HOTEL_STAY_RESPONSE, **error_responses(409)})
    def post(self, request, hotel_stay_id: str):
        data = CheckOutSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        hotel_stay, status_after = services.hotel_check_out(
            actor=request.user,
            hotel_stay_id=hotel_stay_id,
            checked_out_at=data.validated_data["checked_out_at"],
            origin="api",
        )
        message = services.check_out_message()
        return Response({**hotel_stay_json(hotel_stay), "message": message, "status": status_after})
