"""The credentials API (API.md "Credentials", SPEC §11): a person's status as a signed credential,
the public keys a checkpoint verifies it with, and online verification."""

from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from apps.core.api import BaseAPIView, error_responses
from apps.core.clock import now
from apps.people.models import Person
from apps.people.selectors import person_by_id
from apps.status.api.serializers import StatusQuerySerializer
from apps.status.api.views import PROXY_PARAMETER, STAFF_ROLES, WHY_PARAMETER, person_status_checked

from ..selectors import keys_document_cached
from ..services import credential_issue, credential_verify
from ..verifier import MAX_TEXT, Reason

KEYS_MAX_AGE = 300  # seconds a checkpoint or a proxy may cache the keys document

CredentialSerializer = inline_serializer(
    "StatusCredential",
    {
        "credential": serializers.CharField(help_text="HK1: + Base45(zlib(COSE_Sign1(CWT claims)))"),
        "svg": serializers.CharField(help_text="The credential as a QR code, an SVG document"),
        "issuer": serializers.CharField(help_text="The issuing region's GB/T 2260 code"),
        "kid": serializers.CharField(help_text="The id of the key that signed it"),
        "issued_at": serializers.DateTimeField(),
        "expires_at": serializers.DateTimeField(help_text="= the status's valid_until"),
        "state": serializers.CharField(),
        "colour": serializers.CharField(),
    },
)


class CredentialKeySerializer(serializers.Serializer):
    kid = serializers.CharField()
    alg = serializers.ChoiceField(choices=["ES256", "EdDSA"])
    public_key = serializers.CharField(help_text="PEM (SubjectPublicKeyInfo)")
    valid_from = serializers.DateTimeField()
    valid_to = serializers.DateTimeField(allow_null=True)


def _key_entries():
    return CredentialKeySerializer(many=True)


KeysSerializer = inline_serializer(
    "CredentialKeys",
    {
        "issuer": serializers.CharField(),
        "name": serializers.CharField(),
        "keys": _key_entries(),
        "trusted": inline_serializer(
            "TrustedIssuerKeys",
            {"issuer": serializers.CharField(), "name": serializers.CharField(), "keys": _key_entries()},
            many=True,
        ),
    },
)

VerificationSerializer = inline_serializer(
    "CredentialVerification",
    {
        "valid": serializers.BooleanField(),
        "reason": serializers.ChoiceField(
            choices=[
                Reason.BAD_SIGNATURE,
                Reason.EXPIRED,
                Reason.NOT_YET_VALID,
                Reason.UNKNOWN_KEY,
                Reason.UNTRUSTED_ISSUER,
                Reason.MALFORMED,
            ],
            allow_null=True,
        ),
        "issuer": serializers.CharField(allow_null=True),
        "kid": serializers.CharField(allow_null=True),
        "state": serializers.CharField(allow_null=True),
        "colour": serializers.CharField(allow_null=True),
        "popups": serializers.ListField(child=serializers.IntegerField()),
        "display_name": serializers.CharField(allow_null=True),
        "display_id": serializers.CharField(allow_null=True),
        "issued_at": serializers.DateTimeField(allow_null=True),
        "expires_at": serializers.DateTimeField(allow_null=True),
        "superseded": serializers.BooleanField(allow_null=True),
    },
)


class CredentialTextField(serializers.CharField):
    """The credential as the QR code holds it: text, never a number turned into one."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class VerifyRequestSerializer(serializers.Serializer):
    # Longer than any credential the verifier accepts, so a too-long one is still answered as
    # `malformed` by the verifier itself; a body far longer is a field error.
    credential = CredentialTextField(max_length=MAX_TEXT * 4, trim_whitespace=True)


class StatusCredentialView(BaseAPIView):
    """The status look-up of `GET /api/v1/status/` (the same person look-up, proxy rule, access
    log and 404), answered as a signed credential."""

    required_scopes = ("status",)
    allowed_roles = STAFF_ROLES

    @extend_schema(
        summary="A person's status as a signed credential (QR)",
        description=(
            "The status of `GET /api/v1/status/`, signed (COSE_Sign1 over CWT claims, compressed, Base45, "
            "prefix `HK1:`) for offline verification, with its QR code as SVG. The claims hold the issuing "
            "region, issue and expiry times (= valid_until), state, colour, active popup numbers, the masked "
            "name and ID number, the status version and (in the header) the key id: nothing else."
        ),
        parameters=[
            OpenApiParameter("id_type", str, required=True),
            OpenApiParameter("id_number", str, required=True),
            PROXY_PARAMETER,
            WHY_PARAMETER,
        ],
        responses={200: CredentialSerializer, **error_responses(404)},
    )
    def get(self, request):
        query = StatusQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        person = person_by_id(
            id_type=data["id_type"], id_number=data["id_number"], queryset=Person.objects.visible_to(request.user)
        )
        if person is None:
            raise NotFound(_("No such person."))
        row = person_status_checked(request, person, proxy=data["proxy"], why=data["why"] or _("status credential"))
        return Response(credential_issue(person=person, row=row).as_json())


class KeysView(BaseAPIView):
    """Public: what a checkpoint needs to verify credentials offline. No token (a checkpoint
    that holds none must still get the keys); rate-limited per address like any anonymous call,
    and cacheable, so checkpoints and proxies fetch it rarely."""

    authentication_classes = []

    def get_permissions(self):
        return [AllowAny()]

    @extend_schema(
        summary="The public keys that verify credentials",
        description=(
            "This region's current and previous public keys with their validity, and the trust list: other "
            "regions' keys (mutual recognition). A credential verifies under a key of its issuer when "
            "`valid_from <= iat < valid_to` (an empty `valid_to` is open). No token needed; cacheable."
        ),
        auth=[],
        responses={200: KeysSerializer},
    )
    def get(self, request):
        response = Response(keys_document_cached(now()))
        patch_cache_control(response, public=True, max_age=KEYS_MAX_AGE)
        return response


class CredentialVerifyView(BaseAPIView):
    """Online verification: the offline verifier's verdict, and for this region's credentials
    whether the status changed since issue."""

    required_scopes = ("status", "restrictions")

    @extend_schema(
        summary="Verify a credential",
        description=(
            "Runs the reference offline verifier (`apps/credentials/verifier.py`) with the published keys, "
            "and for this region's credentials says whether the person's status changed since issue "
            "(`superseded`; null for other regions' credentials). An invalid credential is a 200 with "
            "`valid: false` and its `reason`; a body without a `credential` text is a 400."
        ),
        request=VerifyRequestSerializer,
        responses={200: VerificationSerializer},
    )
    def post(self, request):
        body = VerifyRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return Response(credential_verify(credential=body.validated_data["credential"]))
