"""Status look-ups (API.md "Status") and a person's popups."""

from django.http import HttpResponse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from apps.accounts.authentication import ApiTokenAuthentication
from apps.accounts.choices import Role
from apps.accounts.permissions import ScopeOrRole
from apps.accounts.throttling import ApiThrottle
from apps.audit.services import access_log_record
from apps.core import replicas
from apps.core.api import BaseAPIView, MomentField, error_responses, exception_handler
from apps.core.clock import local_date, now
from apps.evidence.services import itinerary_declare
from apps.people.identity import proxy_lookup_allowed
from apps.people.models import Person
from apps.people.selectors import person_by_id

from ..models import Popup
from ..selectors import status_payload
from ..services import status_current, status_refresh
from .serializers import PopupEpisodeSerializer, StatusQuerySerializer, StatusSerializer

STAFF_ROLES = tuple(r for r in Role.values if r != Role.PARTNER)


def proxy_allowed(person: Person) -> bool:
    """SPEC §9: proxy look-up only for persons aged 60 or over, or 16 or under (`apps.people.identity`)."""
    return proxy_lookup_allowed(person.birth_date, local_date(now()))


def person_status_checked(request, person: Person, *, proxy: bool = False, why: str = ""):
    """What every answer of a person's status does before it is shaped (this look-up's JSON, the
    signed credential of apps.credentials): the proxy rule, the access log, the current status.
    `why`: the caller's reason, else "status look-up"."""
    if proxy and not proxy_allowed(person):
        raise PermissionDenied(_("A proxy look-up is only for persons aged 60 or over, or 16 or under."))
    access_log_record(actor=request.user, person=person, why=why or _("status look-up"), via="api")
    return status_current(person_id=person.pk)


def person_status_response(request, person: Person, *, proxy: bool = False, why: str = "") -> Response:
    return Response(status_payload(person, person_status_checked(request, person, proxy=proxy, why=why)))


def person_by_id_routed(**lookup) -> Person | None:
    """`person_by_id` read from a read replica when one may serve it (README: Read replicas), the
    primary otherwise, or again on the primary when the replica fails under the read. The status
    row is then read inside `replicas.reading()` too (`status_current`), and recomputed on the
    primary when it is dirty or expired there; the access log is written to the primary."""
    return replicas.on_replica(person_by_id, **lookup)


PROXY_PARAMETER = OpenApiParameter("proxy", bool, description="1 for a proxy look-up (老幼助查)")
WHY_PARAMETER = OpenApiParameter("why", str, description="Staff: the reason for the look-up")


class StatusLookupView(BaseAPIView):
    """`GET /api/v1/status/`: the look-up a gateway sends millions of times a day. A plain GET with
    a token, JSON accepted and a well-formed query takes `lean_lookup` (the same authentication,
    permission, throttle, look-up and JSON as below, without DRF's request wrapping, negotiation
    and dispatch); anything else is this DRF view as it always was, so every refusal keeps its
    answer. The published schema is this class's."""

    required_scopes = ("status",)
    allowed_roles = STAFF_ROLES

    @classmethod
    def as_view(cls, **initkwargs):
        drf_view = super().as_view(**initkwargs)
        view_instance = cls(**initkwargs)
        view_instance.head = view_instance.get  # as View.setup does: HEAD in `Allow`
        headers = view_instance.default_response_headers

        def view(request, *args, **kwargs):
            response = lean_lookup(request, view_instance, headers)
            return response if response is not None else drf_view(request, *args, **kwargs)

        view.__dict__.update(drf_view.__dict__)  # cls, initkwargs, view_class: what the schema reads
        return csrf_exempt(view)

    @extend_schema(
        parameters=[
            OpenApiParameter("id_type", str, required=True),
            OpenApiParameter("id_number", str, required=True),
            PROXY_PARAMETER,
            WHY_PARAMETER,
        ],
        responses={200: StatusSerializer, **error_responses(404)},
    )
    def get(self, request):
        query = status_query(request.query_params)
        person = person_by_id_routed(
            id_type=query["id_type"], id_number=query["id_number"], queryset=Person.objects.visible_to(request.user)
        )
        if person is None:
            raise NotFound(_("No such person."))
        with replicas.reading():
            return person_status_response(request, person, proxy=query["proxy"], why=query["why"])


_RENDERER = JSONRenderer()
_JSON_ACCEPTED = ("", "*/*", "application/json")


def lean_lookup(request, view, headers: dict) -> HttpResponse | None:
    """The status look-up for the common request, or None for StatusLookupView to answer. Before
    anything is counted it takes only a GET with `Authorization: Token`, a JSON answer accepted,
    no `format`, no NUL in the query, the query well-formed (`status_query`), a token that
    authenticates and a caller the view admits; a refusal of any of those is left to the DRF
    view, which refuses it as it always did. From the throttle on it answers every case itself, an
    error as the API's exception handler makes it."""
    meta = request.META
    if (
        request.method != "GET"
        or not meta.get("HTTP_AUTHORIZATION", "").startswith("Token ")
        or meta.get("HTTP_ACCEPT", "").strip() not in _JSON_ACCEPTED
        or "\x00" in meta.get("QUERY_STRING", "")
    ):
        return None
    params = request.GET
    if "format" in params or any("\x00" in v for values in params.lists() for v in values[1]):
        return None
    try:
        query = status_query(params, strict=True)
        user, token = ApiTokenAuthentication().authenticate(request)
    except (exceptions.APIException, TypeError):
        return None
    request.user, request.auth = user, token
    if not ScopeOrRole().has_permission(request, view):
        return None
    throttle = ApiThrottle()
    try:
        if not throttle.allow_request(request, view):
            raise exceptions.Throttled(throttle.wait())
        person = person_by_id_routed(
            id_type=query["id_type"], id_number=query["id_number"], queryset=Person.objects.visible_to(user)
        )
        if person is None:
            raise NotFound(_("No such person."))
        with replicas.reading():
            answer = person_status_response(request, person, proxy=query["proxy"], why=query["why"])
    except Exception as exc:
        answer = exception_handler(exc, {"view": view, "request": request})
        if answer is None:
            raise
    response = HttpResponse(_RENDERER.render(answer.data), status=answer.status_code, content_type="application/json")
    for name, value in answer.items():  # Retry-After, ...; its Content-Type is not rendered yet
        if name.lower() != "content-type":
            response[name] = value
    response["Allow"] = headers["Allow"]
    if "Vary" in headers:
        patch_vary_headers(response, [headers["Vary"]])
    return response


_TRUE, _FALSE = serializers.BooleanField.TRUE_VALUES, serializers.BooleanField.FALSE_VALUES


def status_query(params, *, strict: bool = False) -> dict:
    """The look-up's query parameters as `StatusQuerySerializer` validates them. The common case
    (both IDs given, `proxy` absent or a boolean) is read directly: building and running the
    serializer cost a tenth of a look-up. Anything else goes through the serializer, so every
    error names its field in the same words as before."""
    id_type, id_number = (params.get("id_type") or "").strip(), (params.get("id_number") or "").strip()
    proxy = params.get("proxy")
    if id_type and id_number and (proxy is None or proxy in _TRUE or proxy in _FALSE):
        return {
            "id_type": id_type,
            "id_number": id_number,
            "proxy": proxy is not None and proxy in _TRUE,
            "why": (params.get("why") or "").strip(),
        }
    if strict:  # the lean path: the DRF view answers the rest
        raise TypeError("not the common case")
    query = StatusQuerySerializer(data=params)
    query.is_valid(raise_exception=True)
    return query.validated_data


class PersonStatusView(BaseAPIView):
    allowed_roles = STAFF_ROLES
    required_scopes = ("status",)

    @extend_schema(
        parameters=[PROXY_PARAMETER, WHY_PARAMETER],
        responses={200: StatusSerializer},
    )
    def get(self, request, ref: str):
        person = Person.objects.visible_to(request.user).filter(ref=ref).first()
        if person is None:
            raise NotFound(_("No such person."))
        proxy = request.query_params.get("proxy") in ("1", "true", "True")
        return person_status_response(request, person, proxy=proxy, why=request.query_params.get("why", ""))


class PersonPopupsView(BaseAPIView):
    allowed_roles = STAFF_ROLES
    required_scopes = ("status",)

    @extend_schema(
        parameters=[WHY_PARAMETER],
        responses={200: PopupEpisodeSerializer(many=True)},
    )
    def get(self, request, ref: str):
        person = Person.objects.visible_to(request.user).filter(ref=ref).first()
        if person is None:
            raise NotFound(_("No such person."))
        status_current(person_id=person.pk)
        access_log_record(actor=request.user, person=person, why=request.query_params.get("why") or _("popup list"))
        episodes = Popup.objects.filter(person=person).order_by("-since", "-id")
        return Response(
            [
                {
                    "id": str(p.pk),
                    "number": p.number,
                    "active": p.ended_at is None,
                    "since": p.since.isoformat(),
                    "ended_at": p.ended_at.isoformat() if p.ended_at else None,
                    "ended_by": p.ended_by or None,
                }
                for p in episodes
            ]
        )


class DeclaredPlaceSerializer(serializers.Serializer):
    area_code = serializers.CharField(max_length=6)
    arrived_at = MomentField()
    departed_at = MomentField(required=False, allow_null=True, default=None)


class DeclarationSerializer(serializers.Serializer):
    id_type = serializers.CharField()
    id_number = serializers.CharField()
    entered_beijing_at = MomentField(required=False, allow_null=True, default=None)
    places = DeclaredPlaceSerializer(many=True)


class ItineraryDeclarationView(BaseAPIView):
    """A person declares their itinerary (行程核验) through a channel; answers with the new status."""

    required_scopes = ("status",)

    @extend_schema(request=DeclarationSerializer, responses={201: StatusSerializer})
    def post(self, request):
        data = DeclarationSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        declaration = itinerary_declare(
            actor=request.user,
            id_type=v["id_type"],
            id_number=v["id_number"],
            entered_beijing_at=v["entered_beijing_at"],
            places=[dict(p) for p in v["places"]],
        )
        row = status_refresh(person_id=declaration.person_id)
        return Response(status_payload(declaration.person, row), status=status.HTTP_201_CREATED)
