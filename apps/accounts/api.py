"""`/api/v1/tokens/current/`: a caller sees, rotates and revokes the token it is calling with.

Partners rotate without downtime: `rotate/` answers a new token and keeps the old one valid for
API_TOKEN_ROTATION_GRACE_HOURS (or ends it at once with `{"immediately": true}`), so a system can
switch its configuration over and then stop using the old one. Only token requests can do this:
a browser session has no token to rotate."""

from django.urls import path
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from apps.core.api import BaseAPIView

from . import services
from .models import ApiToken
from .permissions import partner_scopes

TokenInfo = inline_serializer(
    "TokenInfo",
    {
        "prefix": serializers.CharField(),
        "user": serializers.CharField(),
        "role": serializers.CharField(),
        "scopes": serializers.ListField(child=serializers.CharField()),
        "created_at": serializers.DateTimeField(),
        "expires_at": serializers.DateTimeField(allow_null=True),
    },
)


class RotateRequest(serializers.Serializer):
    immediately = serializers.BooleanField(required=False, default=False)


def _info(token: ApiToken) -> dict:
    user = token.user
    return {
        "prefix": token.prefix,
        "user": user.username,
        "role": user.role,
        "scopes": partner_scopes(user),
        "created_at": token.created_at,
        "expires_at": token.expires_at,
    }


class TokenView(BaseAPIView):
    """Acts on the token the request is made with."""

    def get_permissions(self):
        return [IsAuthenticated()]

    def current(self, request) -> ApiToken:
        if not isinstance(request.auth, ApiToken):
            raise PermissionDenied(_("Call this with the token itself (Authorization: Token …)."))
        return request.auth


class CurrentTokenView(TokenView):
    @extend_schema(responses={200: TokenInfo})
    def get(self, request):
        return Response(_info(self.current(request)))


class RotateTokenView(TokenView):
    @extend_schema(
        request=RotateRequest,
        responses={
            201: inline_serializer(
                "RotatedToken",
                {"token": serializers.CharField(), "old_token_valid_until": serializers.DateTimeField()},
            )
        },
    )
    def post(self, request):
        token = self.current(request)
        partner = getattr(token.user, "partner", None) if token.user.is_partner else None
        if partner is not None and not partner.is_active:
            # A deactivated partner must not keep its access alive with fresh tokens; it may
            # still revoke the one it holds.
            raise PermissionDenied(_("This partner system is deactivated."))
        if token.replaced_at is not None:
            # Rotation is for planned changes; a token already replaced cannot renew itself (a
            # leaked one would live for ever). A suspected leak: revoke, or rotate `immediately`.
            raise PermissionDenied(_("This token has already been replaced: use the token that replaced it."))
        body = RotateRequest(data=request.data)
        body.is_valid(raise_exception=True)
        new = services.api_token_rotate(token=token, immediately=body.validated_data["immediately"])
        token.refresh_from_db()
        return Response(
            {"token": new, "old_token_valid_until": token.revoked_at or token.expires_at},
            status=201,
        )


class RevokeTokenView(TokenView):
    @extend_schema(request=None, responses={204: None})
    def post(self, request):
        services.api_token_revoke(token=self.current(request))
        return Response(status=204)


# Included by config/api_router.py as `tokens/`.
urlpatterns = [
    path("current/", CurrentTokenView.as_view(), name="token-current"),
    path("current/rotate/", RotateTokenView.as_view(), name="token-rotate"),
    path("current/revoke/", RevokeTokenView.as_view(), name="token-revoke"),
]
