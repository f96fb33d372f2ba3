"""Admin of community registrations and itinerary verifications. Both are community casework
written by services (with the audit trail); staff see the rows of the persons they may see."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from apps.core.admin import BaseAdmin, HistoryAdmin, SuperuserWritesMixin
from apps.people.admin import PERSON_PAGE_PANELS, PersonScopedAdminMixin

from .admin_views import person_case_panel
from .models import CommunityRegistration, ItineraryVerification


@admin.register(CommunityRegistration)
class CommunityRegistrationAdmin(PersonScopedAdminMixin, SuperuserWritesMixin, HistoryAdmin):
    list_display = ("person", "community", "arriving_at", "from_area", "status", "decided_by", "decided_at")
    list_filter = ("status", "arriving_at", "decided_at")
    search_fields = ("person__ref__exact", "community__code__exact")
    search_help_text = _("The person's full ID number or reference, or the community's code.")
    date_hierarchy = "arriving_at"
    list_select_related = ("person", "community", "from_area", "decided_by")
    autocomplete_fields = ("person", "community", "from_area", "decided_by")
    fieldsets = (
        (None, {"fields": ("person", "community", "arriving_at", "from_area", "status")}),
        (_("decision"), {"fields": ("decided_by", "decided_at", "decision_note")}),
        (_("timestamps"), {"fields": ("created_at", "updated_at"), "classes": ("collapse",)}),
    )
    readonly_fields = ("created_at", "updated_at")


@admin.register(ItineraryVerification)
class ItineraryVerificationAdmin(PersonScopedAdminMixin, SuperuserWritesMixin, BaseAdmin):
    list_display = ("verified_at", "person", "verified_by", "remote", "declaration")
    list_filter = ("remote", "verified_at")
    search_fields = ("person__ref__exact", "verified_by__username")
    search_help_text = _("The person's full ID number or reference, or the staff user name.")
    date_hierarchy = "verified_at"
    list_select_related = ("person", "verified_by", "declaration")
    autocomplete_fields = ("person", "verified_by")
    raw_id_fields = ("declaration",)
    fields = ("person", "verified_by", "verified_at", "remote", "declaration", "note")


# The person page shows the casework panel: status and reasons, the evidence timeline, actions.
PERSON_PAGE_PANELS.append(person_case_panel)
