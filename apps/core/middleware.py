"""The edges of every request: what is refused before any view, form or query sees it, and what
every API answer carries.

- `ApiEdgeMiddleware` (under /api/): a body over `API_MAX_BODY_BYTES` answers 413 in JSON naming
  the limit (API.md), its bytes read and dropped first so the client gets the answer rather than a
  reset connection; every answer carries `Cache-Control: no-store` (statuses, persons, tokens are
  personal and change at any moment; no proxy or browser keeps them); the request-level errors
  Django raises itself (too many form fields or files) answer in JSON, not an HTML page.
- `NulInputMiddleware` (everywhere else: the staff screens): PostgreSQL refuses a NUL in any text,
  so a NUL in the path finds nothing (404) and one in a query or form parameter is a bad request
  (400), instead of a 500 from the first query that uses it (a list filter, a search, a login).
  The API says the same in JSON, naming the parameter (`apps.core.api.refuse_null_characters`).
- `BrowserMiddleware` (everything but a token-authenticated API request): the middleware only a
  browser needs (sessions, CSRF, the session's user, the second factor, messages, CSP, django-axes:
  `BROWSER_MIDDLEWARE`), run as if listed in its place, and skipped whole for a request under /api/
  carrying `Authorization: Token …`, which has no session, no cookie, no page and no login.
- `OriginMiddleware` (everywhere): a request under /admin/ runs as origin `admin`, one under /api/
  as `api` (`apps.core.origin`), so the audit and the row history record where a change came from
  without each view passing it.
"""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.handlers.exception import convert_exception_to_response
from django.http import Http404, JsonResponse
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django.views.defaults import bad_request

from .origin import Origin, origin

API_PREFIX = "/api/"
ADMIN_PREFIX = "/admin/"
# How much of a refused body is still read (and dropped) so the 413 reaches the client: past it
# the connection is closed instead (a client sending gigabytes is not waited for).
DRAIN_LIMIT_FACTOR = 4
CHUNK = 64 * 1024


def _cacheable(path: str) -> bool:
    return any(path.startswith(prefix) for prefix in settings.API_CACHEABLE_PATHS)


class ApiEdgeMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path_info.startswith(API_PREFIX):
            return self.get_response(request)
        response = self._refused_body(request) or self.get_response(request)
        if not _cacheable(request.path_info):
            response["Cache-Control"] = "no-store"
        return response

    def _refused_body(self, request):
        limit = settings.API_MAX_BODY_BYTES
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return JsonResponse({"detail": _("The Content-Length header is not a number.")}, status=400)
        if length <= limit:
            return None
        self._drain(request, length, limit)
        return self.too_big(limit)

    @staticmethod
    def _drain(request, length: int, limit: int) -> None:
        """Read the refused body and drop it (unless it is over DRAIN_LIMIT_FACTOR times the
        limit), so the server sends the 413 on a connection read to the end: a server that closes
        a connection with unread bytes resets it, and the client may never see the answer."""
        if length > limit * DRAIN_LIMIT_FACTOR:
            return
        remaining = length
        while remaining > 0:
            chunk = request.read(min(CHUNK, remaining))
            if not chunk:
                break
            remaining -= len(chunk)

    @staticmethod
    def too_big(limit: int) -> JsonResponse:
        return JsonResponse(
            {"detail": _("The request body is over the limit of %(limit)d bytes.") % {"limit": limit}}, status=413
        )

    def process_exception(self, request, exception):
        """Django's own refusals of a request (too many form fields or files, a body past
        DATA_UPLOAD_MAX_MEMORY_SIZE) answer in JSON under /api/, as every API error does."""
        if not request.path_info.startswith(API_PREFIX) or not isinstance(exception, SuspiciousOperation):
            return None
        if isinstance(exception, RequestDataTooBig):
            response = self.too_big(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
        else:
            response = JsonResponse({"detail": str(exception) or _("Bad request.")}, status=400)
        response["Cache-Control"] = "no-store"
        return response


def _has_nul(values) -> bool:
    return any("\x00" in value for value in values)


class NulInputMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info.startswith(API_PREFIX):
            return self.get_response(request)
        if "\x00" in request.path_info:
            raise Http404
        params = [request.GET]
        if request.method == "POST":
            params.append(request.POST)  # multipart: the field values, never the files
        for query in params:
            if any(_has_nul(values) or "\x00" in key for key, values in query.lists()):
                return bad_request(request, SuspiciousOperation("A NUL character in a parameter."))
        return self.get_response(request)


class OriginMiddleware:
    """The origin of a change made by this request: `admin` under /admin/ (the admin site and the
    casework screens inside it), `api` under /api/; other paths leave the default."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path_info
        if path.startswith(ADMIN_PREFIX):
            with origin(Origin.ADMIN):
                return self.get_response(request)
        if path.startswith(API_PREFIX):
            with origin(Origin.API):
                return self.get_response(request)
        return self.get_response(request)


def is_token_api_request(request) -> bool:
    """A request under /api/ with `Authorization: Token …`: DRF's ApiTokenAuthentication answers it
    whole (the user, or 401/403), so no session, cookie or login plays any part in it. Any other
    scheme (`Bearer`, `Basic`) falls back to the session in DRF, and keeps the browser middleware."""
    if not request.path_info.startswith(API_PREFIX):
        return False
    scheme = request.META.get("HTTP_AUTHORIZATION", "").split(maxsplit=1)[:1]
    return bool(scheme) and scheme[0].lower() == "token"


class BrowserMiddleware:
    """`settings.BROWSER_MIDDLEWARE`, in that order, as one entry of MIDDLEWARE: for any request but
    a token API request (`is_token_api_request`) they run exactly as they would listed in its
    place (each hook in Django's order: `process_view` in list order, `process_exception` and
    `process_template_response` in reverse, every layer's exceptions turned into responses); for a
    token API request they are skipped. What they would do for it is nothing: its session is
    empty, a token request is exempt from CSRF and never logs in (so no lock-out, no second-factor
    session to hold), and its JSON carries no page for CSP or messages. A status look-up at a
    gateway's rate is spared their ~0.2 ms; the admin keeps every one of them."""

    def __init__(self, get_response):
        self.get_response = get_response
        self._view_hooks, self._template_hooks, self._exception_hooks = [], [], []
        handler = get_response
        for path in reversed(settings.BROWSER_MIDDLEWARE):
            instance = import_string(path)(handler)
            if hasattr(instance, "process_view"):
                self._view_hooks.insert(0, instance.process_view)
            if hasattr(instance, "process_template_response"):
                self._template_hooks.append(instance.process_template_response)
            if hasattr(instance, "process_exception"):
                self._exception_hooks.append(instance.process_exception)
            handler = convert_exception_to_response(instance)
        self._chain = handler

    def __call__(self, request):
        if is_token_api_request(request):
            return self.get_response(request)
        return self._chain(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if is_token_api_request(request):
            return None
        for hook in self._view_hooks:
            response = hook(request, view_func, view_args, view_kwargs)
            if response is not None:
                return response
        return None

    def process_template_response(self, request, response):
        if not is_token_api_request(request):
            for hook in self._template_hooks:
                response = hook(request, response)
        return response

    def process_exception(self, request, exception):
        if is_token_api_request(request):
            return None
        for hook in self._exception_hooks:
            response = hook(request, exception)
            if response is not None:
                return response
        return None
