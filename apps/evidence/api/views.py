"""The seven feeds (API.md "Feeds") and itinerary declarations."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from apps.core.api import BaseAPIView

from ..services import FEEDS, feed_ingest

FeedResult = inline_serializer(
    "FeedResult",
    {
        "accepted": serializers.IntegerField(),
        "updated": serializers.IntegerField(),
        "duplicates": serializers.IntegerField(),
        "rejected": serializers.ListField(child=serializers.DictField()),
    },
)
FeedBody = inline_serializer("FeedBatch", {"records": serializers.ListField(child=serializers.DictField())})


class FeedView(BaseAPIView):
    required_scopes = ("feeds",)

    @extend_schema(
        request=FeedBody,
        responses={200: FeedResult},
        parameters=[OpenApiParameter("feed", str, OpenApiParameter.PATH, enum=sorted(FEEDS))],
    )
    def post(self, request, feed: str):
        if feed not in FEEDS:
            raise NotFound(_("No such feed."))
        body = request.data
        if not isinstance(body, dict) or not isinstance(body.get("records"), list):
            return Response({"records": [_("The body is a JSON object with a list of records.")]}, status=status.HTTP_400_BAD_REQUEST)
        result = feed_ingest(feed=feed, records=body["records"], actor=request.user)
        return Response(result.as_json())


class DeclaredPlaceSerializer(serializers.Serializer):
    area_code = serializers.CharField(max_length=6)
    arrived_at = serializers.DateTimeField()
    departed_at = serializers.DateTimeField(required=False, allow_null=True, default=None)


class DeclarationSerializer(serializers.Serializer):
    id_type = serializers.CharField()
    id_number = serializers.CharField()
    entered_beijing_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    places = DeclaredPlaceSerializer(many=True)


class ItineraryDeclarationView(BaseAPIView):
    """A person declares their itinerary (行程核验) through a channel; answers with the new status."""

    required_scopes = ("status",)

    @extend_schema(request=DeclarationSerializer)
    def post(self, request):
        from apps.status.selectors import status_payload
        from apps.status.services import status_refresh

        from ..services import itinerary_declare

        data = DeclarationSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        declaration = itinerary_declare(
            actor=request.user,
            id_type=v["id_type"],
            id_number=v["id_number"],
            entered_beijing_at=v["entered_beijing_at"],
            places=[dict(p) for p in v["places"]],
        )
        row = status_refresh(person_id=declaration.person_id)
        return Response(status_payload(declaration.person, row), status=status.HTTP_201_CREATED)
