"""Shared API plumbing: the exception handler that turns service errors into API.md's JSON, the
base view, and the error responses every operation documents in the published schema.

The bounded input fields (`MomentField`, `BoundedDateField`, `EventDateField`, `column_bounds`)
live in `apps.core.fields`, so the feeds and the staff forms use them without importing the API;
the API views import them from here with the rest of the plumbing."""

import logging

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import ProhibitNullCharactersValidator
from django.db import InterfaceError, OperationalError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from .errors import DomainError, TooManyLookups
from .fields import BoundedDateField, EventDateField, MomentField, column_bounds  # noqa: F401 (see above)
from .text import unstorable_text_errors

logger = logging.getLogger(__name__)
RETRY_AFTER_SECONDS = 5


def exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            data = {field: [str(m) for e in errors for m in e.messages] for field, errors in exc.error_dict.items()}
        else:
            data = {"detail": " ".join(str(m) for m in exc.messages)}
        return Response(data, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, DomainError):
        response = Response({"detail": exc.message}, status=exc.status_code)
        if isinstance(exc, TooManyLookups):
            response["Retry-After"] = str(exc.retry_after)
        return response
    if isinstance(exc, OperationalError | InterfaceError):
        # The database went away (a failover, a dropped connection, a lock timeout): the request's
        # transaction was rolled back, so the client may send it again as it was (a feed re-send
        # is stored once, by source and external id). A 503 with a retry hint says so; a 500 with
        # a stack trace would not.
        logger.warning("Database unavailable, answered 503: %s", exc, exc_info=True)
        response = Response(
            {"detail": _("The service is briefly unavailable. Send the same request again shortly.")},
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
        )
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    return drf_exception_handler(exc, context)


# --- bodies ------------------------------------------------------------------------------------------

# JSON too deep: `apps.core.parsers.DepthLimitedJSONParser`; too big: `apps.core.middleware`.


def refuse_unstorable_text(data) -> None:
    """A body with text no column can hold (a NUL, a lone surrogate: `apps.core.text`) is invalid
    input, with every such field named, before a serializer echoes it or a query sends it."""
    errors = unstorable_text_errors(data)
    if errors:
        raise ValidationError(errors)


# --- errors in the published schema --------------------------------------------------------------


class ErrorSerializer(serializers.Serializer):
    """`{"detail": "..."}`: why the request was refused (API.md: errors are JSON)."""

    detail = serializers.CharField()


ERROR_DESCRIPTIONS = {
    400: 'Invalid input: field errors `{"field": ["message"]}` or `{"detail": "message"}`.',
    401: "No valid token (or session).",
    403: "The caller's role or scope may not do this.",
    404: "No such object, or it lies outside the caller's jurisdiction.",
    409: "The object's state does not allow this (already done, already ended, ...).",
    413: "The body is over the size limit (`API_MAX_BODY_BYTES`); the `detail` names it.",
    415: "A body that is not JSON (or a form) the API can read.",
    429: "Over the caller's rate limit (its scope or role, and for staff the ID-number look-ups): send it again after `Retry-After` seconds.",
    503: "The database is briefly unavailable; nothing of the request was kept. Send it again after `Retry-After` seconds.",
}


class ValidationErrorSerializer(serializers.Serializer):
    """Field errors as DRF gives them: a list of messages per field, an object for a nested field,
    a list of objects for a list of nested objects; `detail` for an error of the request as a
    whole. Its schema is `ValidationErrorSchema`'s: a serializer cannot say "any field name"."""


class ValidationErrorSchema(OpenApiSerializerExtension):
    target_class = ValidationErrorSerializer

    def map_serializer(self, auto_schema, direction):
        return {
            "type": "object",
            "description": ERROR_DESCRIPTIONS[400],
            "properties": {"detail": {"type": "string"}},
            "additionalProperties": {"anyOf": [{"type": "array", "items": {}}, {"type": "object"}]},
        }


def error_responses(*codes: int) -> dict:
    """`extend_schema(responses={200: ..., **error_responses(404, 409)})` for the errors an
    operation gives beyond the ones every operation documents (`ApiAutoSchema`)."""
    return {
        code: OpenApiResponse(
            ValidationErrorSerializer if code == 400 else ErrorSerializer, description=ERROR_DESCRIPTIONS[code]
        )
        for code in codes
    }


class ApiAutoSchema(AutoSchema):
    """drf-spectacular's schema, telling partners the errors they really get (API.md): 400, 401,
    403, 429 (a rate limit, `apps.accounts.throttling`) and 503 (a database outage,
    `exception_handler`) on every operation (any query string may be invalid: `refuse_null_characters`), 415 on
    every one that takes a body, 404 on every one with an id in its path; views add the others
    with `error_responses`."""

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        codes = [400, 401, 403, 429, 503]
        if self.method in ("POST", "PUT", "PATCH"):
            codes += [413, 415]
        if "{" in self.path:
            codes.append(404)
        for code, response in error_responses(*codes).items():
            if str(code) not in responses:
                responses[str(code)] = self._get_response_for_code(response, str(code), direction=direction)
        return dict(sorted(responses.items()))


class BaseAPIView(APIView):
    """Every API view: token or session authentication, then `IsAuthenticated` and
    `apps.accounts.permissions.ScopeOrRole` with the view's `required_scopes` and `allowed_roles`
    (both named in settings, REST_FRAMEWORK: core imports no other app)."""

    required_scopes: tuple | dict = ()
    allowed_roles: tuple | dict = ()
    schema = ApiAutoSchema()
    # A view that checks the text of its body itself, per record (the feeds: one bad record must
    # not refuse the batch's good ones), sets this.
    checks_text_per_record = False

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        refuse_null_characters(request, kwargs)
        if request.method in ("POST", "PUT", "PATCH") and not self.checks_text_per_record:
            refuse_unstorable_text(request.data)


def refuse_null_characters(request, path_kwargs: dict) -> None:
    """Ids in the path and query parameters are compared with text columns as they come, and
    PostgreSQL refuses a NUL character in any text (a 500). No id holds one: 404; a query parameter
    with one is invalid (400), as serializer fields already say for the body."""
    if any("\x00" in str(value) for value in path_kwargs.values()):
        raise NotFound()
    bad = sorted({name for name, values in request.query_params.lists() if any("\x00" in v for v in values)})
    if bad:
        raise ValidationError({name: [ProhibitNullCharactersValidator.message] for name in bad})


def not_found(request, exception=None):
    """Django's 404 page, but JSON under /api/ (API.md: errors are JSON), for a path no route
    matches, such as an id with a slash in it."""
    from django.http import JsonResponse
    from django.views.defaults import page_not_found

    if request.path.startswith("/api/"):
        return JsonResponse({"detail": str(_("Not found."))}, status=404)
    return page_not_found(request, exception)
