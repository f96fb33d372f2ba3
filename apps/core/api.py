"""Shared API plumbing: the exception handler that turns service errors into API.md's JSON."""

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from .errors import DomainError


def exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            data = {field: [str(m) for e in errors for m in e.messages] for field, errors in exc.error_dict.items()}
        else:
            data = {"detail": " ".join(str(m) for m in exc.messages)}
        return Response(data, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, DomainError):
        return Response({"detail": exc.message}, status=exc.status_code)
    return drf_exception_handler(exc, context)


class BaseAPIView(APIView):
    """Every API view: token or session authentication (settings), then `ScopeOrRole` with the
    view's `required_scopes` and `allowed_roles`."""

    required_scopes: tuple | dict = ()
    allowed_roles: tuple | dict = ()

    def get_permissions(self):
        from apps.accounts.permissions import ScopeOrRole

        return [IsAuthenticated(), ScopeOrRole()]
