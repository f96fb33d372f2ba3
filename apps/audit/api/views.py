"""The audit of one person (API.md `GET /api/v1/audit/?person={ref}`, auditors)."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from apps.accounts.access import ACTION_ROLES
from apps.core.api import BaseAPIView, error_responses

from ..choices import AuditKind
from ..selectors import LOOKUP_KIND, person_audit
from ..services import access_log_record

AUDIT_ENTRY = inline_serializer(
    "AuditEntry",
    {
        "id": serializers.CharField(),
        "kind": serializers.CharField(),
        "actor": serializers.CharField(allow_null=True),
        "organisation": serializers.CharField(allow_null=True),
        "at": serializers.DateTimeField(),
        "reason": serializers.CharField(required=False),
        "why": serializers.CharField(required=False),
        "origin": serializers.CharField(),
        "detail": serializers.DictField(),
    },
    many=True,
)


class AuditView(BaseAPIView):
    allowed_roles = ACTION_ROLES["audit.read"]

    @extend_schema(
        parameters=[
            OpenApiParameter("person", str, required=True, description="the person's ref"),
            OpenApiParameter(
                "kind",
                str,
                required=False,
                enum=[*AuditKind.values, LOOKUP_KIND],
                description="only the entries of this kind (a manual change's kind, or lookup)",
            ),
        ],
        responses={200: AUDIT_ENTRY, **error_responses(404)},
    )
    def get(self, request):
        ref = request.query_params.get("person", "").strip()
        if not ref:
            raise ValidationError({"person": [_("Give the person's ref.")]})
        kind = request.query_params.get("kind", "").strip() or None
        if kind is not None and kind != LOOKUP_KIND and kind not in AuditKind.values:
            raise ValidationError({"kind": [_("Unknown kind %(kind)s.") % {"kind": kind}]})
        person, entries = person_audit(user=request.user, person_ref=ref, kind=kind)
        access_log_record(actor=request.user, person=person, why=_("audit read"), via="audit")
        return Response(entries)
