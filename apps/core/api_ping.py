"""`GET /api/v1/ping/`: the cheapest authenticated API call there is — a token look-up and a tiny
JSON answer. Monitoring uses it to tell "the portal is up and my token works" from everything
else, and the benchmarks use it as the floor every other endpoint is measured against."""

from django.urls import path
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from apps.core.api import BaseAPIView
from apps.core.clock import now


class PingView(BaseAPIView):
    """Any authenticated caller, whatever its role or scopes."""

    def get_permissions(self):
        return [IsAuthenticated()]

    @extend_schema(
        responses={
            200: inline_serializer("Ping", {"ok": serializers.BooleanField(), "at": serializers.DateTimeField()})
        }
    )
    def get(self, request):
        return Response({"ok": True, "at": now().isoformat()})


# Included by config/api_router.py as `ping/`.
urlpatterns = [path("", PingView.as_view(), name="ping")]
