"""Release reviews (API.md "Release reviews (SPEC §5)"): one release's review (auditors, CDC
officers), the auditors' queue, an auditor's decision, and the CDC closing a referral. Views only
parse input and shape output; the services and selectors decide."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response

from apps.accounts.access import ACTION_ROLES
from apps.core.api import BaseAPIView, error_responses

from .. import selectors, services
from ..choices import AUDITOR_DECISION_CHOICES, FindingCode, ReviewStatus

DECISION = inline_serializer(
    "ReviewDecision",
    {
        "kind": serializers.CharField(),
        "by": serializers.CharField(),
        "at": serializers.DateTimeField(),
        "reason": serializers.CharField(),
        "findings": serializers.ListField(child=serializers.CharField(), help_text="the codes it was taken on"),
    },
    allow_null=True,
)
REVIEW_FIELDS = {
    "release": serializers.CharField(),
    "status": serializers.ChoiceField(choices=ReviewStatus.choices),
    "reviewed_at": serializers.DateTimeField(allow_null=True),
    "rechecked_at": serializers.DateTimeField(allow_null=True),
    "findings": inline_serializer(
        "ReviewFinding",
        {
            "code": serializers.ChoiceField(choices=FindingCode.choices),
            "message": serializers.CharField(help_text="in the caller's language"),
            "evidence": inline_serializer(
                "ReviewEvidence", {"kind": serializers.CharField(), "id": serializers.CharField()}, many=True
            ),
            "params": serializers.DictField(),
            "found_at": serializers.DateTimeField(),
        },
        many=True,
    ),
    "decision": DECISION,
    "awaiting_decision": serializers.BooleanField(),
    "referral_open": serializers.BooleanField(),
    "referral_closed": DECISION,
    "person": serializers.CharField(),
    "popup_number": serializers.IntegerField(),
    "released_by": serializers.CharField(),
    "released_at": serializers.DateTimeField(),
}
REVIEW = inline_serializer("ReleaseReview", REVIEW_FIELDS)
REVIEWS_PAGE = inline_serializer(
    "ReleaseReviewsPage",
    {
        "next": serializers.URLField(allow_null=True),
        "previous": serializers.URLField(allow_null=True),
        "results": inline_serializer("ReleaseReviewItem", REVIEW_FIELDS, many=True),
    },
)


class ReviewDecisionInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=AUDITOR_DECISION_CHOICES)
    reason = serializers.CharField(max_length=2000)


class ReferralCloseSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class ReviewPagination(CursorPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
    ordering = ("created_at", "pk")


class ReleaseReviewView(BaseAPIView):
    allowed_roles = ACTION_ROLES["release_review.view"]

    @extend_schema(responses={200: REVIEW})
    def get(self, request, release_id: str):
        return Response(selectors.review_json(selectors.review_get(request.user, release_id)))


class ReleaseReviewsView(BaseAPIView):
    """The auditors' review queue, oldest release first."""

    allowed_roles = ACTION_ROLES["release_review.decide"]

    @extend_schema(
        parameters=[
            OpenApiParameter("status", str, enum=ReviewStatus.values),
            OpenApiParameter("code", str, enum=FindingCode.values, description="reviews with this finding"),
            OpenApiParameter("actor", str, description="the user name of who released"),
            OpenApiParameter("awaiting", bool, description="true: awaiting an auditor's decision"),
            OpenApiParameter("cursor", str, description="from `next` or `previous` of the page before"),
            OpenApiParameter(
                "page_size",
                {"type": "integer", "minimum": 1, "maximum": ReviewPagination.max_page_size},
                description=f"reviews per page, at most {ReviewPagination.max_page_size}",
            ),
        ],
        responses={200: REVIEWS_PAGE},
    )
    def get(self, request):
        params = request.query_params
        errors = {}
        status = params.get("status", "")
        if status and status not in ReviewStatus.values:
            errors["status"] = [_("Choose one of: %(values)s.") % {"values": ", ".join(ReviewStatus.values)}]
        code = params.get("code", "")
        if code and code not in FindingCode.values:
            errors["code"] = [_("Choose one of: %(values)s.") % {"values": ", ".join(FindingCode.values)}]
        awaiting = {"true": True, "false": False, "": None}.get(params.get("awaiting", "").lower(), "bad")
        if awaiting == "bad":
            errors["awaiting"] = [_("Choose one of: %(values)s.") % {"values": "true, false"}]
        if errors:
            raise ValidationError(errors)
        queryset = selectors.reviews_list(
            request.user, status=status, code=code, actor=params.get("actor", "").strip(), awaiting=awaiting
        )
        paginator = ReviewPagination()
        page = paginator.paginate_queryset(queryset, request, view=self)
        return paginator.get_paginated_response([selectors.review_json(r) for r in page])


class ReleaseReviewDecisionView(BaseAPIView):
    allowed_roles = ACTION_ROLES["release_review.decide"]

    @extend_schema(request=ReviewDecisionInputSerializer, responses={200: REVIEW, **error_responses(409)})
    def post(self, request, release_id: str):
        data = ReviewDecisionInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.review_decide(actor=request.user, release_id=release_id, **data.validated_data)
        return Response(selectors.review_json(selectors.review_get(request.user, release_id)))


class ReleaseReviewCloseView(BaseAPIView):
    """A CDC officer closes a referred review once handled."""

    allowed_roles = ACTION_ROLES["release_review.close"]

    @extend_schema(request=ReferralCloseSerializer, responses={200: REVIEW, **error_responses(409)})
    def post(self, request, release_id: str):
        data = ReferralCloseSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.review_referral_close(actor=request.user, release_id=release_id, **data.validated_data)
        return Response(selectors.review_json(selectors.review_get(request.user, release_id)))
