"""The restrictions feed for rail and air ticket sales (API.md "Restrictions", `restrictions`
scope): `GET /api/v1/restrictions/?changed_since=...&page_size=...`, then follow `next` until it is
null, and ask again later with `changed_since` set to the `as_of` of the first page."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response

from apps.core.api import BaseAPIView

from ..restrictions import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, restrictions_page


class RestrictionsQuerySerializer(serializers.Serializer):
    changed_since = serializers.DateTimeField(required=False, allow_null=True, default=None)
    cursor = serializers.CharField(required=False, allow_blank=True, default="")
    page_size = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_PAGE_SIZE, default=DEFAULT_PAGE_SIZE
    )


RESTRICTIONS_RESPONSE = inline_serializer(
    "Restrictions",
    {
        "restricted": inline_serializer(
            "Restricted",
            {
                "ref": serializers.CharField(),
                "id_type": serializers.CharField(),
                "id_number": serializers.CharField(),
                "state": serializers.ChoiceField(choices=["popup", "yellow", "red"]),
                "since": serializers.DateTimeField(),
            },
            many=True,
        ),
        "lifted": inline_serializer(
            "Lifted",
            {
                "ref": serializers.CharField(),
                "id_type": serializers.CharField(),
                "id_number": serializers.CharField(),
                "at": serializers.DateTimeField(),
            },
            many=True,
        ),
        "as_of": serializers.DateTimeField(),
        "next": serializers.CharField(allow_null=True, help_text=_("the URL of the next page, or null")),
        "next_cursor": serializers.CharField(allow_null=True),
    },
)


class RestrictionsView(BaseAPIView):
    required_scopes = ("restrictions",)

    @extend_schema(
        parameters=[
            OpenApiParameter("changed_since", str, description="ISO 8601 with offset; omitted: everyone not green"),
            OpenApiParameter("cursor", str, description="from `next_cursor` of the previous page"),
            OpenApiParameter(
                "page_size",
                {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE},
                description=f"rows of each list per page, at most {MAX_PAGE_SIZE}",
            ),
        ],
        responses={200: RESTRICTIONS_RESPONSE},
    )
    def get(self, request):
        query = RestrictionsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        v = query.validated_data
        page = restrictions_page(changed_since=v["changed_since"], cursor=v["cursor"] or None, page_size=v["page_size"])
        next_url = None
        if page.next_cursor:
            next_url = request.build_absolute_uri(request.path) + "?" + _query(page.next_cursor, v["page_size"])
        return Response(
            {
                "restricted": page.restricted,
                "lifted": page.lifted,
                "as_of": page.as_of.isoformat(),
                "next": next_url,
                "next_cursor": page.next_cursor,
            }
        )


def _query(cursor: str, page_size: int) -> str:
    from urllib.parse import urlencode

    return urlencode({"cursor": cursor, "page_size": page_size})
