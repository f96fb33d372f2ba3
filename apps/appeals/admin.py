"""Admin of hotline appeals (SPEC §6, §7).

- Operators take a call on the intake form: they can check the caller's masked status and reasons
  (the look-up is logged), then open the appeal, which is routed at once.
- The list shows the appeals a user follows with their deadline; overdue ones stand out. Operators
  re-route selected appeals to another community or the CDC with a reason.
- The appeal page shows the person's masked status and reasons, the history of the appeal, and the
  steps the user's role may take: start, resolve (optionally releasing popups with the checklist),
  reject.

Every step is a call to the appeal services, which check role and jurisdiction and write the
events and the audit; the screens only collect input.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from apps.accounts import access
from apps.accounts.choices import OrgKind
from apps.accounts.models import Organisation
from apps.audit.services import access_log_record
from apps.core.admin import AppendOnlyMixin, BaseAdmin, HistoryAdmin, PersonScopedAdminMixin, ReadOnlyInline
from apps.core.clock import LOCAL_TZ, now
from apps.core.errors import DomainError
from apps.people.choices import IdType
from apps.people.selectors import person_by_id
from apps.status.selectors import status_payload
from apps.status.services import status_current

from . import services
from .choices import DEADLINE_HOURS, OPEN_STATES, AppealStatus, Category, Channel
from .models import Appeal, AppealEvent
from .selectors import appeals_visible_to, overdue_q

CHECKLIST = ("itinerary_verified", "nat_negative", "commitment_signed")


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


# --- forms ----------------------------------------------------------------------------------------


def _category_choices():
    return [(value, f"{label} — {DEADLINE_HOURS[value]} h") for value, label in Category.choices]


class IntakeForm(forms.Form):
    id_type = forms.ChoiceField(label=_("ID type"), choices=IdType.choices, initial=IdType.RESIDENT_ID)
    id_number = forms.CharField(label=_("ID number"), max_length=40)
    name = forms.CharField(label=_("name"), max_length=100, required=False)
    channel = forms.ChoiceField(label=_("channel"), choices=Channel.choices)
    category = forms.ChoiceField(label=_("category (deadline)"), choices=_category_choices)
    description = forms.CharField(label=_("what the caller reports"), widget=forms.Textarea(attrs={"rows": 4}))
    caller_phone = forms.CharField(label=_("caller's phone"), max_length=24, required=False)


class RouteForm(forms.Form):
    routed_to = forms.ModelChoiceField(
        label=_("route to"),
        queryset=Organisation.objects.filter(kind__in=(OrgKind.COMMUNITY, OrgKind.CDC), is_active=True),
    )
    reason = forms.CharField(label=_("reason"), widget=forms.Textarea(attrs={"rows": 2}))


class ResolveForm(forms.Form):
    resolution = forms.CharField(label=_("resolution for the caller"), widget=forms.Textarea(attrs={"rows": 3}))
    release_popups = forms.BooleanField(label=_("release the person's popups"), required=False)
    itinerary_verified = forms.BooleanField(label=_("itinerary verified"), required=False)
    nat_negative = forms.BooleanField(label=_("negative NAT on record or seen"), required=False)
    commitment_signed = forms.BooleanField(label=_("commitment letter signed (承诺书)"), required=False)


class NoteForm(forms.Form):
    note = forms.CharField(label=_("note"), required=False)


class RejectForm(forms.Form):
    reason = forms.CharField(label=_("reason for the caller"), widget=forms.Textarea(attrs={"rows": 2}))


def add_service_errors(form: forms.Form, exc: Exception) -> None:
    if isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            field = name if name in form.fields else None
            for error in errors:
                for message in error.messages:
                    form.add_error(field, message if field else f"{name}: {message}")
        return
    form.add_error(None, getattr(exc, "message", None) or " ".join(getattr(exc, "messages", [str(exc)])))


# --- appeals --------------------------------------------------------------------------------------


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
    actions = ("route_selected",)
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
                _t("overdue"),
                text,
            )
        if obj.status in OPEN_STATES:
            return format_html('<span class="appeal-due">{}</span>', text)
        return "-"

    # --- intake ---

    def add_view(self, request, form_url="", extra_context=None):
        """The operator's intake form: check the caller's masked status, then open the appeal."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = IntakeForm(request.POST or None)
        preview = None
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            if "_check" in request.POST:
                preview = self._preview(request, data)
            else:
                try:
                    appeal = services.appeal_open(actor=request.user, origin="admin", **data)
                except (ValidationError, DomainError) as exc:
                    add_service_errors(form, exc)
                else:
                    where = appeal.routed_to.name if appeal.routed_to else _t("nobody yet: route it by hand")
                    self.message_user(
                        request,
                        _t("Appeal %(n)s opened, routed to %(to)s, due %(due)s. Give the caller the tracking number.")
                        % {
                            "n": appeal.tracking_number,
                            "to": where,
                            "due": appeal.due_at.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M"),
                        },
                        messages.SUCCESS,
                    )
                    return redirect(reverse("admin:appeals_appeal_change", args=[appeal.pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _t("New appeal"),
            "form": form,
            "preview": preview,
            "deadlines": [(label, DEADLINE_HOURS[value]) for value, label in Category.choices],
        }
        return TemplateResponse(request, "appeals/admin/intake.html", context)

    def _preview(self, request, data) -> dict:
        """The caller's masked status and reasons, to tell them which popup they have (the look-up
        is logged with why)."""
        try:
            person = person_by_id(id_type=data["id_type"], id_number=data["id_number"])
        except ValidationError as exc:
            return {"error": " ".join(exc.messages)}
        if person is None:
            return {"unknown": True}
        access_log_record(actor=request.user, person=person, why=_t("appeal intake"), via="admin")
        return {"status": status_payload(person, status_current(person_id=person.pk))}

    # --- the appeal's page ---

    def change_view(self, request, object_id, form_url="", extra_context=None):
        appeal = self.get_queryset(request).filter(pk=unquote(object_id)).select_related("person").first()
        extra = dict(extra_context or {})
        if appeal is not None:
            access_log_record(
                actor=request.user,
                person=appeal.person,
                why=_t("appeal %(n)s") % {"n": appeal.tracking_number},
                via="admin",
            )
            extra["person_status"] = status_payload(appeal.person, status_current(person_id=appeal.person_id))
            extra["steps"] = self._steps(request, appeal)
            extra["overdue"] = appeal.is_overdue(now())
        return super().change_view(request, object_id, form_url, extra)

    def _steps(self, request, appeal) -> dict:
        """The forms of the steps the user may take on this appeal now."""
        user, steps = request.user, {}
        if appeal.status not in OPEN_STATES:
            return steps
        handles = access.may(user, "appeal.resolve") and (
            user.is_superuser
            or appeal.routed_to_id == user.organisation_id
            or (user.role == "cdc_officer" and appeal.routed_to is not None and appeal.routed_to.kind == OrgKind.CDC)
        )
        if handles:
            if appeal.status == AppealStatus.ROUTED:
                steps["start"] = NoteForm(prefix="start")
            steps["resolve"] = ResolveForm(prefix="resolve")
        if access.may(user, "appeal.route"):
            steps["route"] = RouteForm(prefix="route")
        if handles or access.may(user, "appeal.route"):
            steps["reject"] = RejectForm(prefix="reject")
        return steps

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<path:object_id>/step/<str:step>/", wrap(self.step_view), name="appeals_appeal_step"),
            *super().get_urls(),
        ]

    def step_view(self, request, object_id, step):
        """One step on an appeal (POST): start, resolve, route, reject."""
        if request.method != "POST":
            return redirect(reverse("admin:appeals_appeal_change", args=[object_id]))
        appeal = self.get_queryset(request).filter(pk=unquote(object_id)).first()
        if appeal is None:
            raise Http404
        form_class = {"start": NoteForm, "resolve": ResolveForm, "route": RouteForm, "reject": RejectForm}.get(step)
        if form_class is None:
            raise Http404
        form = form_class(request.POST, prefix=step)
        if form.is_valid():
            data = form.cleaned_data
            try:
                if step == "start":
                    services.appeal_start(actor=request.user, appeal_id=appeal.pk, note=data["note"], origin="admin")
                elif step == "resolve":
                    _appeal, after = services.appeal_resolve(
                        actor=request.user,
                        appeal_id=appeal.pk,
                        resolution=data["resolution"],
                        release_popups=data["release_popups"],
                        checklist={item: data[item] for item in CHECKLIST},
                        origin="admin",
                    )
                elif step == "route":
                    services.appeal_route(
                        actor=request.user,
                        appeal_id=appeal.pk,
                        to=data["routed_to"],
                        reason=data["reason"],
                        origin="admin",
                    )
                else:
                    services.appeal_reject(
                        actor=request.user, appeal_id=appeal.pk, reason=data["reason"], origin="admin"
                    )
            except (ValidationError, DomainError) as exc:
                if getattr(exc, "status_code", 400) in (403, 404):
                    raise PermissionDenied from exc
                add_service_errors(form, exc)
            else:
                self.message_user(
                    request, _t("Appeal %(n)s updated.") % {"n": appeal.tracking_number}, messages.SUCCESS
                )
                if self.get_queryset(request).filter(pk=appeal.pk).exists():
                    return redirect(reverse("admin:appeals_appeal_change", args=[appeal.pk]))
                return redirect(reverse("admin:appeals_appeal_changelist"))
        for field, errors in form.errors.items():
            label = form.fields[field].label if field in form.fields else ""
            for message in errors:
                self.message_user(request, f"{label}: {message}" if label else message, messages.ERROR)
        return redirect(reverse("admin:appeals_appeal_change", args=[appeal.pk]))

    # --- re-routing from the list ---

    @admin.action(description=_("Re-route the selected appeals"), permissions=["route"])
    def route_selected(self, request, queryset):
        form = RouteForm(request.POST if "apply" in request.POST else None, prefix="route")
        if "apply" in request.POST and form.is_valid():
            done, refused = 0, []
            for appeal in queryset:
                try:
                    services.appeal_route(
                        actor=request.user,
                        appeal_id=appeal.pk,
                        to=form.cleaned_data["routed_to"],
                        reason=form.cleaned_data["reason"],
                        origin="admin",
                    )
                    done += 1
                except (ValidationError, DomainError) as exc:
                    refused.append(f"{appeal}: {getattr(exc, 'message', None) or ' '.join(exc.messages)}")
            if done:
                self.message_user(
                    request,
                    ngettext("%(n)d appeal re-routed.", "%(n)d appeals re-routed.", done) % {"n": done},
                    messages.SUCCESS,
                )
            for line in refused:
                self.message_user(request, line, messages.ERROR)
            return None
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _t("Re-route appeals"),
            "form": form,
            "appeals": queryset,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "appeals/admin/route.html", context)


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
