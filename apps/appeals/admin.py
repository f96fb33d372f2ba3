"""Admin of hotline appeals (SPEC §6, §7).

- Operators take a call on the intake form, then open the appeal, which is routed at once. "Check"
  shows the masked status and reasons only of a person the operator's centre already has an
  appeal about (SPEC §7), found through the access layer and logged with that appeal; for anyone
  else, known or not, it gives the same neutral answer. Every check and every opening counts
  against the operator's look-up limit (`lookup_check`).
- The list shows the appeals a user follows with their deadline; overdue ones stand out. Operators
  re-route selected appeals to another community or the CDC with a reason.
- The appeal page shows the person's masked status and reasons, the history of the appeal, and the
  steps the user may take on it (asked of the access layer): start, resolve (optionally releasing
  popups with the checklist), re-route, reject. Each step is its own form, placed after the
  admin's (read-only) change form, never inside it: a browser drops a form nested in another, and
  the step's fields would then be posted to the change form, which answers 403. A step refused
  or invalid shows the appeal page again with the message and the typed input kept.
- On the call (SPEC §6), the operator of the centre that opened the appeal sees the caller's
  popup ③ evidence, each piece marked "city precision, can be verified on the call" (covered or
  not by the itinerary recorded on the appeal) or "must go to the community / CDC" with the
  reason; records the itinerary county by county (a small formset, times as `datetime-local`
  inputs, the counties of the caller's cities offered as a list); and releases popup ③ with the
  checklist. The services decide both (`appeal_itinerary_record`, `appeal_release_on_call`).

Every step is a call to the appeal services, which check role and jurisdiction and write the
events and the audit; the screens only collect input.
"""

import copy
from dataclasses import dataclass

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import QueryDict
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from apps.accounts import access
from apps.accounts.choices import OrgKind
from apps.accounts.models import Organisation
from apps.accounts.throttling import lookup_check
from apps.audit.services import access_log_record
from apps.casework.forms import DATETIME_INPUT, ChecklistMixin, localised
from apps.core.admin import AppendOnlyMixin, BaseAdmin, HistoryAdmin, ReadOnlyInline
from apps.core.clock import LOCAL_TZ, now
from apps.core.errors import DomainError, NotFoundInJurisdiction, NotPermitted, TooManyLookups
from apps.core.forms import MomentFormField
from apps.evidence.choices import Precision
from apps.people.admin import PersonScopedAdminMixin
from apps.people.choices import IdType
from apps.people.models import Person
from apps.people.selectors import person_by_id
from apps.status.selectors import status_payload
from apps.status.services import status_current

from . import services
from .choices import DEADLINE_HOURS, OPEN_STATES, AppealStatus, Category, Channel
from .models import Appeal, AppealEvent
from .selectors import appeal_declarations, appeals_visible_to, on_call_counties, overdue_q, popup3_call_evidence

CHECKLIST = ("itinerary_verified", "nat_negative", "commitment_signed")
# The intake's check and its opening both test an ID number: one look-up budget for both.
INTAKE_LOOKUP = "appeal_preview"
# What the check needs: the rest of the intake form may still be empty while the caller spells the ID.
CHECK_FIELDS = ("id_type", "id_number")


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
    """The call as the operator takes it. No name: persons and their names come from the feeds
    (SPEC §7), an appeal never creates or renames one."""

    id_type = forms.ChoiceField(label=_("ID type"), choices=IdType.choices, initial=IdType.RESIDENT_ID)
    id_number = forms.CharField(label=_("ID number"), max_length=40)
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


def _moment_field(label, *, required: bool = True, help_text: str = "") -> MomentFormField:
    return MomentFormField(
        label=label,
        required=required,
        input_formats=[DATETIME_INPUT, "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_INPUT),
        help_text=help_text,
    )


class PlaceForm(forms.Form):
    """One county the caller stayed in, with when."""

    area_code = forms.CharField(
        label=_("county code"),
        max_length=6,
        widget=forms.TextInput(
            attrs={"list": "on-call-counties", "inputmode": "numeric", "autocomplete": "off", "size": 8}
        ),
        help_text=_("Six digits; the counties of the caller's cities are offered."),
    )
    arrived_at = _moment_field(_("arrived"))
    departed_at = _moment_field(_("departed"), required=False, help_text=_("Empty: still there."))


PlaceFormSet = forms.formset_factory(
    PlaceForm, extra=2, min_num=1, validate_min=True, max_num=services.MAX_PLACES, validate_max=True
)


class ItineraryForm(forms.Form):
    """The caller's itinerary, verified county by county on the call (SPEC §4, §6): the places
    are a formset of their own (`places`), validated with the form."""

    entered_beijing_at = _moment_field(
        _("entered Beijing at"),
        required=False,
        help_text=_("A negative NAT sampled within 48 hours before it lets the itinerary clear the popup by itself."),
    )
    reason = forms.CharField(label=_("how the itinerary was verified"), widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, data=None, *args, prefix=None, **kwargs):
        super().__init__(data, *args, prefix=prefix, **kwargs)
        self.places = PlaceFormSet(data, prefix=f"{prefix or 'itinerary'}-places")
        self._rows: list[int] = []

    def is_valid(self) -> bool:
        valid = super().is_valid()
        places_valid = self.places.is_valid()
        if not (valid and places_valid):
            return False
        rows = [(i, f.cleaned_data) for i, f in enumerate(self.places.forms) if f.cleaned_data]
        self._rows = [i for i, _data in rows]
        self.cleaned_data["entered_beijing_at"] = localised(self.cleaned_data.get("entered_beijing_at"))
        self.cleaned_data["places"] = [
            {
                "area_code": data["area_code"].strip(),
                "arrived_at": localised(data["arrived_at"]),
                "departed_at": localised(data.get("departed_at")),
            }
            for _i, data in rows
        ]
        return True

    def add_service_errors(self, exc: ValidationError) -> bool:
        """Put the service's `places[i].field` errors on the place's row; False for the others."""
        if not hasattr(exc, "error_dict"):
            return False
        rest = {}
        for name, errors in exc.error_dict.items():
            head, _dot, field = name.partition("].")
            if head.startswith("places[") and head[7:].isdigit() and int(head[7:]) < len(self._rows):
                place = self.places.forms[self._rows[int(head[7:])]]
                for error in errors:
                    place.add_error(field if field in place.fields else None, error.messages)
            else:
                rest[name] = errors
        if rest:
            add_service_errors(self, ValidationError(rest))
        return True


class ReleaseOnCallForm(ChecklistMixin):
    """Popup ③ released on the call, with the reason and the checklist (SPEC §5, §6)."""

    reason = forms.CharField(label=_("reason"), widget=forms.Textarea(attrs={"rows": 2}))
    field_order = ("reason", "itinerary_verified", "nat_negative", "commitment_signed")


@dataclass(frozen=True)
class Step:
    """A step on an appeal's page: its own form, posted to `admin:appeals_appeal_step`."""

    name: str
    title: str
    form_class: type[forms.Form]


STEPS = {
    step.name: step
    for step in (
        Step("itinerary", _("Record the caller's itinerary"), ItineraryForm),
        Step("release_on_call", _("Release popup ③ on the call"), ReleaseOnCallForm),
        Step("start", _("Start work"), NoteForm),
        Step("resolve", _("Resolve"), ResolveForm),
        Step("route", _("Re-route"), RouteForm),
        Step("reject", _("Reject"), RejectForm),
    )
}


def add_service_errors(form: forms.Form, exc: Exception) -> None:
    """Put a service's field errors next to the form's fields (the rest above the form)."""
    if isinstance(exc, ValidationError) and hasattr(form, "add_service_errors") and form.add_service_errors(exc):
        return
    if isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            field = name if name in form.fields else None
            for error in errors:
                for message in error.messages:
                    form.add_error(field, message if field else f"{name}: {message}")
        return
    form.add_error(None, getattr(exc, "message", None) or " ".join(getattr(exc, "messages", [str(exc)])))


def _refusal(exc: DomainError) -> str:
    """What the page says when the service refuses a step on an appeal the user sees: the role's
    refusal as the service words it, or, for jurisdiction, that the appeal is someone else's."""
    if isinstance(exc, NotFoundInJurisdiction):
        return gettext("This step was refused: the appeal is routed to another organisation, which takes it.")
    return gettext("This step was refused: %(why)s") % {"why": exc.message}


def _as_shown(request):
    """The request as the page is shown (a GET): after a step, the appeal page is rendered again
    through the admin's change view, which would take a POST for a save of its read-only form."""
    if request.method == "GET":
        return request
    shown = copy.copy(request)
    shown.method = "GET"
    shown.POST = QueryDict()
    return shown


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
                gettext("overdue"),
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
        preview, status = None, 200
        if request.method == "POST":
            valid = form.is_valid()
            if "_check" in request.POST:
                # The check needs the ID only; the rest of the call may not be taken down yet.
                for name in [name for name in form.errors if name not in CHECK_FIELDS]:
                    del form.errors[name]
                if not form.errors:
                    preview, status = self._preview(request, form)
            elif valid:
                opened, status = self._open(request, form)
                if opened is not None:
                    return opened
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": gettext("New appeal"),
            "form": form,
            "preview": preview,
            "deadlines": [(label, DEADLINE_HOURS[value]) for value, label in Category.choices],
        }
        return TemplateResponse(request, "appeals/admin/intake.html", context, status=status)

    def _open(self, request, form) -> tuple[object | None, int]:
        """Open the appeal (`appeal_open`), or put the service's refusal on the form: an ID number
        the portal does not know is an error on that field (nobody is created), and so is a
        look-up past the operator's limit."""
        try:
            lookup_check(request.user, INTAKE_LOOKUP)
            appeal = services.appeal_open(actor=request.user, origin="admin", **form.cleaned_data)
        except TooManyLookups as exc:
            form.add_error(None, exc.message)
            return None, exc.status_code
        except NotFoundInJurisdiction as exc:
            form.add_error(
                "id_number",
                gettext("No person with this ID is on record. Check the ID type and number with the caller."),
            )
            return None, exc.status_code
        except (ValidationError, DomainError) as exc:
            add_service_errors(form, exc)
            return None, getattr(exc, "status_code", 200)
        where = appeal.routed_to.name if appeal.routed_to else gettext("nobody yet: route it by hand")
        self.message_user(
            request,
            gettext("Appeal %(n)s opened, routed to %(to)s, due %(due)s. Give the caller the tracking number.")
            % {
                "n": appeal.tracking_number,
                "to": where,
                "due": appeal.due_at.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M"),
            },
            messages.SUCCESS,
        )
        return redirect(reverse("admin:appeals_appeal_change", args=[appeal.pk])), 302

    def _preview(self, request, form) -> tuple[dict | None, int]:
        """The caller's masked status and reasons, when the access layer lets the operator see the
        person: SPEC §7, the hotline sees "the masked status and reasons of the person an appeal
        is about", so only a person the centre already has an appeal about, and the access log
        names that appeal. Anyone else, known or not, gets the same neutral answer, and only the
        ID's format is checked; every check counts against the operator's look-up limit."""
        user, data = request.user, form.cleaned_data
        try:
            lookup_check(user, INTAKE_LOOKUP)
        except TooManyLookups as exc:
            form.add_error(None, exc.message)
            return None, exc.status_code
        try:
            person = person_by_id(
                id_type=data["id_type"], id_number=data["id_number"], queryset=Person.objects.visible_to(user)
            )
        except ValidationError as exc:
            form.add_error("id_number", exc.messages)
            return None, 200
        if person is None:
            return {"pending": True}, 200
        item = access.why_visible(user, person)
        why = gettext("appeal intake: %(item)s") % {"item": item} if item else gettext("appeal intake")
        access_log_record(actor=user, person=person, why=why, via="admin")
        return {"status": status_payload(person, status_current(person_id=person.pk)), "item": item}, 200

    # --- the appeal's page ---

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if request.method == "POST":
            # The page is read-only: its steps post to `step_view`, never to the change form.
            return super().change_view(request, object_id, form_url, extra_context)
        return self._appeal_page(request, object_id, extra_context=extra_context)

    def _appeal_page(self, request, object_id, *, bound=None, refused="", status=200, extra_context=None):
        """The appeal's page: its fields and history (the admin's read-only change form), the
        person's masked status and reasons, and the forms of the steps the user may take. After a
        step that failed, `bound` is that step's form with the typed input and the errors, and
        `refused` the service's refusal; the look-up was logged when the page was first shown."""
        appeal = self.get_object(request, unquote(object_id))
        extra = dict(extra_context or {})
        if appeal is not None:
            if request.method == "GET":
                access_log_record(
                    actor=request.user,
                    person=appeal.person,
                    why=gettext("appeal %(n)s") % {"n": appeal.tracking_number},
                    via="admin",
                )
            row = status_current(person_id=appeal.person_id)
            extra["person_status"] = status_payload(appeal.person, row)
            extra["steps"] = steps = self._steps(request, appeal, bound)
            if access.may(request.user, "appeal.itinerary", appeal):
                extra["on_call"] = self._on_call(appeal, row)
            if refused and bound is not None and bound[0] in {step["name"] for step in steps}:
                bound[1].add_error(None, refused)  # said beside the button that was pressed
            else:
                extra["step_refused"] = refused  # said at the top: the step is not offered
            extra["overdue"] = appeal.is_overdue(now())
        response = super().change_view(_as_shown(request), object_id, "", extra)
        if status != 200 and isinstance(response, TemplateResponse):
            response.status_code = status
        return response

    def _on_call(self, appeal, row) -> dict:
        """The operator's view of the caller's popup ③ evidence (SPEC §6): each piece marked, the
        itineraries recorded on the appeal, the counties of the caller's cities to choose from."""
        evidence = popup3_call_evidence(appeal, row)
        precision = dict(Precision.choices)
        pieces = []
        for e in evidence:
            if e.releasable:
                mark, text = "covered", gettext("City precision, verified on the call: covered")
            elif e.on_call:
                mark, text = "uncovered", gettext("City precision, can be verified on the call: not covered yet")
            else:
                mark, text = "community", gettext("Must go to the community / CDC")
            pieces.append(
                {
                    "evidence": e,
                    "mark": mark,
                    "mark_text": text,
                    "precision": precision.get(e.precision, "-") if e.precision else "-",
                }
            )
        return {
            "pieces": pieces,
            "releasable": bool(evidence) and all(e.releasable for e in evidence),
            "covered_not_cleared": any(e.releasable for e in evidence),
            "declarations": list(appeal_declarations(appeal)),
            "counties": on_call_counties(evidence),
        }

    def _offered(self, user, appeal) -> list[str]:
        """The steps the access layer lets the user take on this appeal now (the services decide
        again): the organisation it is routed to starts, resolves and rejects it; the hotline
        centre that opened it re-routes and rejects it."""
        if appeal.status not in OPEN_STATES:
            return []
        handles = access.may(user, "appeal.resolve", appeal)
        routes = access.may(user, "appeal.route", appeal)
        offered = []
        if access.may(user, "appeal.itinerary", appeal):
            offered.append("itinerary")
        if access.may(user, "appeal.release_on_call", appeal):
            offered.append("release_on_call")
        if handles and appeal.status == AppealStatus.ROUTED:
            offered.append("start")
        if handles:
            offered.append("resolve")
        if routes:
            offered.append("route")
        if handles or routes:
            offered.append("reject")
        return offered

    def _steps(self, request, appeal, bound=None) -> list[dict]:
        """The forms of the steps offered, each with its own URL; `bound` (name, form) replaces
        the empty form of a step that was just tried."""
        steps = []
        for name in self._offered(request.user, appeal):
            step = STEPS[name]
            form = bound[1] if bound is not None and bound[0] == name else step.form_class(prefix=name)
            steps.append(
                {
                    "name": name,
                    "title": step.title,
                    "form": form,
                    "url": reverse("admin:appeals_appeal_step", args=[appeal.pk, name]),
                }
            )
        return steps

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<path:object_id>/step/<str:step>/", wrap(self.step_view), name="appeals_appeal_step"),
            *super().get_urls(),
        ]

    def step_view(self, request, object_id, step):
        """One step on an appeal (POST): start, resolve, route, reject. Done: back to the page with
        a success message. Invalid or refused: the page again, with the message and the typed
        input kept (a checklist error keeps the resolution written)."""
        if request.method != "POST":
            return redirect(reverse("admin:appeals_appeal_change", args=[object_id]))
        appeal = self.get_object(request, unquote(object_id))
        if appeal is None or step not in STEPS:
            return self._refused_page(request)
        form = STEPS[step].form_class(request.POST, prefix=step)
        if not form.is_valid():
            return self._appeal_page(request, object_id, bound=(step, form))
        try:
            done = self._take(request, appeal, step, form.cleaned_data)
        except (NotPermitted, NotFoundInJurisdiction) as exc:
            return self._appeal_page(
                request, object_id, bound=(step, form), refused=_refusal(exc), status=exc.status_code
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
            return self._appeal_page(request, object_id, bound=(step, form))
        except DomainError as exc:  # the appeal has moved on (409), batches being written (503)…
            add_service_errors(form, exc)
            return self._appeal_page(request, object_id, bound=(step, form), status=exc.status_code)
        self.message_user(request, done, messages.SUCCESS)
        if self.get_queryset(request).filter(pk=appeal.pk).exists():
            # To the top, where the message is (the step's form was posted to its own anchor).
            return redirect(reverse("admin:appeals_appeal_change", args=[appeal.pk]) + "#content-start")
        # Re-routed away from the user's own organisation, say: it is no longer theirs to follow.
        return redirect(reverse("admin:appeals_appeal_changelist"))

    def _take(self, request, appeal, step: str, data: dict) -> str:
        """Take the step through its service; the message that says what it did."""
        common = {"actor": request.user, "appeal_id": appeal.pk, "origin": "admin"}
        n = appeal.tracking_number
        if step == "start":
            services.appeal_start(note=data["note"], **common)
            return gettext("Work on appeal %(n)s started.") % {"n": n}
        if step == "resolve":
            _appeal, after = services.appeal_resolve(
                resolution=data["resolution"],
                release_popups=data["release_popups"],
                checklist={item: data[item] for item in CHECKLIST},
                **common,
            )
            if after is not None:
                return gettext("Appeal %(n)s resolved. The person's status now: %(label)s.") % {
                    "n": n,
                    "label": after["label"],
                }
            return gettext("Appeal %(n)s resolved.") % {"n": n}
        if step == "itinerary":
            _appeal, after, _declaration = services.appeal_itinerary_record(
                places=data["places"], entered_beijing_at=data["entered_beijing_at"], reason=data["reason"], **common
            )
            return gettext("Itinerary recorded on appeal %(n)s. The person's status now: %(label)s.") % {
                "n": n,
                "label": after["label"],
            }
        if step == "release_on_call":
            _appeal, after, _releases = services.appeal_release_on_call(
                reason=data["reason"], checklist={item: data[item] for item in CHECKLIST}, **common
            )
            return gettext(
                "Popup ③ released on the call; appeal %(n)s resolved. The person's status now: %(label)s."
            ) % {
                "n": n,
                "label": after["label"],
            }
        if step == "route":
            routed = services.appeal_route(to=data["routed_to"], reason=data["reason"], **common)
            return gettext("Appeal %(n)s re-routed to %(to)s.") % {"n": n, "to": routed.routed_to.name}
        services.appeal_reject(reason=data["reason"], **common)
        return gettext("Appeal %(n)s rejected.") % {"n": n}

    def _refused_page(self, request):
        """A step on an appeal the user does not follow (or no longer: re-routed, say), or an
        unknown step: a page that says so, the same whether the appeal exists or not (404)."""
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": gettext("Step refused"),
            "message": gettext(
                "This appeal is not one you follow (or no longer: it may have been re-routed). Nothing was changed."
            ),
        }
        return TemplateResponse(request, "appeals/admin/step_refused.html", context, status=404)

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
            "title": gettext("Re-route appeals"),
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
