"""The seven feeds (API.md "Feeds")."""

from django.conf import settings
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
    # A record with text that cannot be stored is rejected on its own (`feed_ingest`), the others kept.
    checks_text_per_record = True

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
            return Response(
                {"records": [_("The body is a JSON object with a list of records.")]},
                status=status.HTTP_400_BAD_REQUEST,
            )
        if len(body["records"]) > settings.FEED_MAX_RECORDS:
            return Response(
                {"records": [_("A batch holds at most %(limit)d records.") % {"limit": settings.FEED_MAX_RECORDS}]},
                status=status.HTTP_400_BAD_REQUEST,
            )
        result = feed_ingest(feed=feed, records=body["records"], actor=request.user)
        return Response(result.as_json())
