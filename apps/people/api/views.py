from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response

from apps.accounts.choices import Role
from apps.core.api import BaseAPIView
from apps.core.clock import now

from ..services import PhoneInput, person_upsert
from .serializers import PersonInSerializer, PersonOutSerializer


class PersonUpsertView(BaseAPIView):
    """Create or update a person by (id_type, id_number)."""

    required_scopes = ("feeds",)
    allowed_roles = (Role.COMMUNITY_WORKER, Role.CDC_OFFICER, Role.HOTEL_STAFF, Role.HOTLINE_OPERATOR)

    @extend_schema(request=PersonInSerializer, responses={200: PersonOutSerializer, 201: PersonOutSerializer})
    def post(self, request):
        data = PersonInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        t = now()
        person, created = person_upsert(
            id_type=v["id_type"],
            id_number=v["id_number"],
            name=v.get("name"),
            community=v.get("community"),
            birth_date=v.get("birth_date"),
            phones=[
                PhoneInput(p["number"], p["channel"], p.get("bound_at") or t, p.get("unbound_at"))
                for p in v.get("phones", [])
            ],
        )
        body = PersonOutSerializer(person).data
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)
