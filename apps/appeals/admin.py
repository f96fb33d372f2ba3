"""Admin of hotline appeals (SPEC §6, §7): configuration only. The list shows the appeals a user
follows with their deadline; overdue ones stand out. The screens (the intake, the steps on an
appeal's page, re-routing from the list) are in `apps.appeals.admin_views`, wired here."""

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from apps.accounts import access
from apps.core.admin import AppendOnlyMixin, BaseAdmin, HistoryAdmin, ReadOnlyInline
from apps.core.clock import LOCAL_TZ, now
from apps.people.admin import PersonScopedAdminMixin

from . import admin_views
from .choices import OPEN_STATES
from .models import Appeal, AppealEvent
from .selectors import appeals_visible_to, overdue_q


class OverdueFilter(admin.SimpleListFilter):
    title = _("deadline")
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return (("yes", _("overdue")), ("no", _("not overdue")))

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(overdue_q(now()))
        if self.value() == "no":
            return queryset.exclude(overdue_q(now()))
        return queryset


class AppealEventInline(ReadOnlyInline):
    model = AppealEvent
    fk_name = "appeal"
    fields = ("at", "from_status", "to_status", "routed_to", "actor", "reason")
    readonly_fields = fields
    show_change_link = False


@admin.register(Appeal)
class AppealAdmin(HistoryAdmin):
    change_form_template = "appeals/admin/appeal_change_form.html"
    list_display = ("tracking_number", "person", "category", "status", "routed_to", "deadline", "channel", "created_at")
    list_filter = ("status", OverdueFilter, "category", "channel", ("routed_to", admin.RelatedOnlyFieldListFilter))
    search_fields = ("tracking_number__exact",)
    search_help_text = _("The tracking number.")
    date_hierarchy = "created_at"
    list_select_related = ("person", "routed_to")
    actions = (admin_views.route_selected,)
    fieldsets = (
        (None, {"fields": ("tracking_number", "person", "channel", "category", "description", "caller_phone_display")}),
        (_("handling"), {"fields": ("status", "routed_to", "routing_basis", "due_at", "opened_by")}),
        (_("resolution"), {"fields": ("resolved_at", "resolution")}),
        (_("timestamps"), {"fields": ("created_at", "updated_at"), "classes": ("collapse",)}),
    )
    readonly_fields = (
        "tracking_number",
        "person",
        "channel",
        "category",
        "description",
        "caller_phone_display",
        "status",
        "routed_to",
        "routing_basis",
        "due_at",
        "opened_by",
        "resolved_at",
        "resolution",
        "created_at",
        "updated_at",
    )
    inlines = (AppealEventInline,)

    def get_queryset(self, request):
        return appeals_visible_to(request.user, super().get_queryset(request))

    # Appeals change only through the services, from the intake form and the steps on their page.
    def has_add_permission(self, request):
        return access.may(request.user, "appeal.open")

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_route_permission(self, request):
        return access.may(request.user, "appeal.route")

    @admin.display(description=_("deadline"), ordering="due_at")
    def deadline(self, obj):
        text = obj.due_at.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M")
        if obj.is_overdue(now()):
            return format_html(
                '<span class="appeal-overdue">{} {}</span>',
                gettext("overdue"),
                text,
            )
        if obj.status in OPEN_STATES:
            return format_html('<span class="appeal-due">{}</span>', text)
        return "-"

    def get_urls(self):
        wrap = self.admin_site.admin_view
        step = admin_views.StepView.as_view(model_admin=self)
        return [
            path("<path:object_id>/step/<str:step>/", wrap(step), name="appeals_appeal_step"),
            *super().get_urls(),
        ]

    def add_view(self, request, form_url="", extra_context=None):
        """The operator's intake form (`admin_views.IntakeView`)."""
        return admin_views.IntakeView.as_view(model_admin=self)(request)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if request.method == "POST":
            # The page is read-only: its steps post to `StepView`, never to the change form.
            return super().change_view(request, object_id, form_url, extra_context)
        return self.appeal_page(request, object_id, extra_context=extra_context)

    def appeal_page(self, request, object_id, *, bound=None, refused="", status=200, extra_context=None):
        """The appeal's page: the admin's read-only change form with what
        `admin_views.appeal_page_context` adds (the steps; after a failed one, `bound` and
        `refused`), answered with `status`."""
        appeal = self.get_object(request, unquote(object_id))
        extra = dict(extra_context or {})
        if appeal is not None:
            extra.update(admin_views.appeal_page_context(request, appeal, bound=bound, refused=refused))
        response = super().change_view(admin_views.as_shown(request), object_id, "", extra)
        if status != 200 and isinstance(response, TemplateResponse):
            response.status_code = status
        return response


@admin.register(AppealEvent)
class AppealEventAdmin(PersonScopedAdminMixin, AppendOnlyMixin, BaseAdmin):
    person_path = "appeal__person"
    list_display = ("at", "appeal", "from_status", "to_status", "routed_to", "actor")
    list_filter = ("to_status", "at")
    search_fields = ("appeal__tracking_number__exact",)
    search_help_text = _("The appeal's tracking number, or the person's full ID number or reference.")
    date_hierarchy = "at"
    list_select_related = ("appeal", "routed_to", "actor")
    fields = ("appeal", "at", "from_status", "to_status", "routed_to", "actor", "reason")
    readonly_fields = fields
