"""Admin of the administrative divisions (the policy placed on them: apps.policy.admin)."""

from django.contrib import admin
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from apps.core.admin import BaseAdmin, SuperuserWritesMixin

from .choices import AreaLevel
from .models import Area

COUNTY_LIKE = Q(level=AreaLevel.COUNTY) | Q(acts_as_county=True)


# The "area" fields that take a county, as (app_label, model_name): their autocomplete offers
# counties only. Filled by the admins of those models (apps.policy.admin): the divisions name no
# model of the layers above them.
COUNTY_FIELDS: set[tuple[str, str]] = set()


@admin.register(Area)
class AreaAdmin(SuperuserWritesMixin, BaseAdmin):
    """The divisions are loaded from the GB/T 2260 dataset; only a superuser corrects one."""

    list_display = ("code", "name", "full_name", "level", "parent", "acts_as_county")
    list_filter = ("level", "acts_as_county")
    search_fields = ("code__startswith", "name", "full_name")
    search_help_text = _("Code (or its first digits), name or full name.")
    list_select_related = ("parent",)
    autocomplete_fields = ("parent", "city", "province")
    fields = ("code", "name", "full_name", "level", "parent", "city", "province", "acts_as_county")

    def get_search_results(self, request, queryset, search_term):
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        if (request.GET.get("app_label"), request.GET.get("model_name")) in COUNTY_FIELDS and request.GET.get(
            "field_name"
        ) == "area":
            queryset = queryset.filter(COUNTY_LIKE)
        return queryset, may_have_duplicates
