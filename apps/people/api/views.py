from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response

from apps.accounts.access import ACTION_ROLES
from apps.casework.services import person_change
from apps.core.api import BaseAPIView, error_responses
from apps.core.clock import now
from apps.evidence.services import person_from_feed

from ..services import UNCHANGED, PhoneInput
from .serializers import PersonInSerializer, PersonOutSerializer


class PersonUpsertView(BaseAPIView):
    """Create or update a person by (id_type, id_number).

    Partners with the feeds scope create and update persons (the feeds are their source, SPEC
    §7). Staff change only persons they can see, with a `reason`, as SPEC §7 allows: a community
    worker takes in a person with no community into their own or moves their own resident away,
    the CDC sets a community and corrects names, birth dates and phones. A staff request never
    creates a person: an unknown ID number answers 404. Every staff change is audited with the
    record before and after, and the status is recomputed."""

    required_scopes = ("feeds",)
    allowed_roles = tuple(sorted(set(ACTION_ROLES["person.set_community"]) | set(ACTION_ROLES["person.correct"])))

    @extend_schema(
        request=PersonInSerializer,
        responses={200: PersonOutSerializer, 201: PersonOutSerializer, **error_responses(404)},
    )
    def post(self, request):
        data = PersonInSerializer(data=request.data, context={"staff": not request.user.is_partner})
        data.is_valid(raise_exception=True)
        v = data.validated_data
        t = now()
        phones = [
            PhoneInput(p["number"], p["channel"], p.get("bound_at") or t, p.get("unbound_at"))
            for p in v.get("phones", [])
        ]
        if request.user.is_partner:
            person, created = person_from_feed(
                id_type=v["id_type"],
                id_number=v["id_number"],
                name=v.get("name"),
                community=v.get("community"),
                birth_date=v.get("birth_date"),
                phones=phones,
            )
        else:
            person, _after = person_change(
                actor=request.user,
                id_type=v["id_type"],
                id_number=v["id_number"],
                reason=v.get("reason", ""),
                name=v.get("name"),
                community=v["community"] if "community" in request.data else UNCHANGED,
                birth_date=v.get("birth_date"),
                phones=phones,
                origin="api",
            )
            created = False
        body = PersonOutSerializer(person).data
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)
