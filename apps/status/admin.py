"""Admin of the materialised statuses, popup episodes, releases and state transitions. Statuses
and popups are computed by the engine; releases and transitions are append-only. Nothing here is
edited; a status can be marked for recomputation."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from apps.core.admin import (
    AppendOnlyMixin,
    BaseAdmin,
    BigTableMixin,
    ReadOnlyInline,
    ViewOnlyMixin,
    pretty_json,
    state_dot,
)
from apps.people.admin import PersonScopedAdminMixin

from .engine.registry import circled
from .models import PersonStatus, Popup, Release, ReleaseAttachment, StatusTransition
from .presentation import reasons_shown
from .services import status_mark_dirty


@admin.register(PersonStatus)
class PersonStatusAdmin(PersonScopedAdminMixin, ViewOnlyMixin, BigTableMixin, BaseAdmin):
    list_display = (
        "person",
        "coloured_state",
        "popup_numbers",
        "state_since",
        "computed_at",
        "valid_until",
        "next_change_at",
    )
    list_filter = ("state", ("dirty_since", admin.EmptyFieldListFilter), "state_since")
    search_fields = ("person__ref__exact",)
    search_help_text = _("The person's full ID number or reference.")
    list_select_related = ("person",)
    fields = (
        "person",
        "coloured_state",
        "popup_numbers",
        "reasons_display",
        "state_since",
        "computed_at",
        "valid_until",
        "next_change_at",
        "dirty_since",
        "evidence_watermark",
        "version",
    )
    readonly_fields = fields
    actions = ("mark_for_recomputation",)

    @admin.display(description=_("state"))
    def coloured_state(self, obj):
        return state_dot(obj)

    @admin.display(description=_("active popups"))
    def popup_numbers(self, obj):
        numbers = [p.get("number") if isinstance(p, dict) else p for p in (obj.popups or [])]
        return " ".join(circled(n) for n in numbers if n is not None) or "-"

    @admin.display(description=_("reasons"))
    def reasons_display(self, obj):
        return pretty_json(reasons_shown(obj.reasons or []))

    def has_recompute_permission(self, request):
        return request.user.is_superuser or request.user.has_perm("status.change_personstatus")

    @admin.action(description=_("Recompute the selected statuses"), permissions=["recompute"])
    def mark_for_recomputation(self, request, queryset):
        ids = status_mark_dirty(person_ids=queryset.values_list("person_id", flat=True))
        self.message_user(
            request,
            ngettext(
                "%(count)d status marked for recomputation.", "%(count)d statuses marked for recomputation.", len(ids)
            )
            % {"count": len(ids)},
            messages.SUCCESS,
        )


class PopupActiveFilter(admin.SimpleListFilter):
    title = _("active")
    parameter_name = "active"

    def lookups(self, request, model_admin):
        return (("yes", _("active")), ("no", _("ended")))

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(ended_at__isnull=self.value() == "yes")
        return queryset


@admin.register(Popup)
class PopupAdmin(PersonScopedAdminMixin, ViewOnlyMixin, BigTableMixin, BaseAdmin):
    list_display = ("person", "number", "since", "ended_at", "ended_by", "release")
    list_filter = ("number", PopupActiveFilter, "ended_by", "since")
    search_fields = ("person__ref__exact",)
    search_help_text = _("The person's full ID number or reference.")
    list_select_related = ("person", "release")
    fields = ("person", "number", "since", "ended_at", "ended_by", "release")
    readonly_fields = fields


class ReleaseAttachmentInline(ReadOnlyInline):
    model = ReleaseAttachment
    fields = ("file", "uploaded_at")
    readonly_fields = fields


@admin.register(Release)
class ReleaseAdmin(PersonScopedAdminMixin, AppendOnlyMixin, BaseAdmin):
    audit_record = True
    list_display = ("created_at", "person", "popup_number", "actor", "actor_org", "checklist_complete")
    list_filter = ("popup_number", "created_at")
    search_fields = ("person__ref__exact", "actor__username")
    search_help_text = _("The person's full ID number or reference, or the staff user name.")
    date_hierarchy = "created_at"
    list_select_related = ("person", "actor", "actor_org")
    fieldsets = (
        (None, {"fields": ("person", "popup_number", "created_at", "actor", "actor_org", "reason")}),
        (_("verification checklist"), {"fields": ("itinerary_verified", "nat_negative", "commitment_signed")}),
        (
            _("status before and after"),
            {"fields": ("evidence_watermark", "before_display", "after_display"), "classes": ("collapse",)},
        ),
    )
    readonly_fields = ("before_display", "after_display")
    inlines = (ReleaseAttachmentInline,)

    @admin.display(description=_("checklist complete"), boolean=True)
    def checklist_complete(self, obj):
        return obj.itinerary_verified and obj.nat_negative and obj.commitment_signed

    @admin.display(description=_("status before"))
    def before_display(self, obj):
        return pretty_json(obj.status_before)

    @admin.display(description=_("status after"))
    def after_display(self, obj):
        return pretty_json(obj.status_after)


@admin.register(ReleaseAttachment)
class ReleaseAttachmentAdmin(PersonScopedAdminMixin, AppendOnlyMixin, BaseAdmin):
    """Attachments belong to a release, which is never edited."""

    person_path = "release__person"
    audit_record = True
    list_display = ("file", "release", "uploaded_at")
    list_filter = ("uploaded_at",)
    search_fields = ("release__person__ref__exact",)
    list_select_related = ("release",)
    fields = ("release", "file", "uploaded_at")
    readonly_fields = fields


@admin.register(StatusTransition)
class StatusTransitionAdmin(PersonScopedAdminMixin, AppendOnlyMixin, BigTableMixin, BaseAdmin):
    list_display = ("at", "person", "from_state", "to_state")
    list_filter = ("to_state", "from_state", "at")
    search_fields = ("person__ref__exact",)
    search_help_text = _("The person's full ID number or reference.")
    list_select_related = ("person",)
    fields = ("person", "from_state", "to_state", "at")
    readonly_fields = fields
