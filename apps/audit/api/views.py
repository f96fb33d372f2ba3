"""The audit of one person (API.md `GET /api/v1/audit/?person={ref}`, auditors) and the checkpoints
of the sealed audit (`GET /api/v1/audit/checkpoints/`, auditors)."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from apps.accounts import access
from apps.accounts.access import ACTION_ROLES
from apps.core.api import BaseAPIView, error_responses

from ..chain import checkpoints_published
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


CHECKPOINT = inline_serializer(
    "AuditCheckpoint",
    {
        "at": serializers.CharField(help_text="when it was signed, UTC, as signed: YYYY-MM-DDTHH:MM:SS.ffffffZ"),
        "size": serializers.IntegerField(help_text="the leaves of the sealed audit it covers"),
        "root": serializers.CharField(help_text="RFC 6962 tree hash of those leaves, hex"),
        "signature": serializers.CharField(help_text="Ed25519 signature of the checkpoint's message, base64"),
        "kid": serializers.CharField(help_text="first 16 hex digits of SHA-256 of the raw public key"),
        "alg": serializers.CharField(help_text="Ed25519"),
        "public_key": serializers.CharField(allow_null=True, help_text="the signer's raw public key, base64"),
    },
    many=True,
)


class CheckpointQuerySerializer(serializers.Serializer):
    limit = serializers.IntegerField(min_value=1, max_value=1000, default=100, help_text="at most 1000")
    # Bounded as every integer the API takes (tests/api/test_bad_input.py): two billion leaves.
    before_size = serializers.IntegerField(
        min_value=0, max_value=2**31 - 1, required=False, help_text="only checkpoints of fewer leaves (the next page)"
    )


class AuditCheckpointsView(BaseAPIView):
    """API.md `GET /api/v1/audit/checkpoints/` (auditors): the signed checkpoints of the sealed
    audit, newest first (`limit`, at most 1000; `before_size` for older ones). The signed message
    and the keys: apps.audit.signing, README "Sealed audit"."""

    allowed_roles = ACTION_ROLES["audit.read"]

    @extend_schema(
        parameters=[CheckpointQuerySerializer],
        responses={200: CHECKPOINT, **error_responses(400)},
    )
    def get(self, request):
        access.require(request.user, "audit.read")
        query = CheckpointQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return Response(
            checkpoints_published(
                limit=query.validated_data["limit"], before_size=query.validated_data.get("before_size")
            )
        )
