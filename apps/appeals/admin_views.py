"""The appeal screens of the admin (SPEC §6, §7), each an `apps.core.admin_actions.ActionView`
wired by `AppealAdmin`, which keeps only configuration.

- Operators take a call on the intake form, then open the appeal, which is routed at once. "Check"
  shows the masked status and reasons only of a person the operator's centre already has an
  appeal about (SPEC §7), found through the access layer and logged with that appeal; for anyone
  else, known or not, it gives the same neutral answer. Every check and every opening counts
  against the operator's look-up limit (`lookup_check`).
- Operators re-route selected appeals from the list to another community or the CDC with a reason.
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
from collections.abc import Callable
from dataclasses import dataclass

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import QueryDict
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext, gettext_lazy, ngettext

from apps.accounts import access
from apps.accounts.throttling import lookup_check
from apps.audit.services import access_log_record
from apps.core.admin_actions import ActionView, Done, error_text, report_bulk
from apps.core.clock import LOCAL_TZ, now
from apps.core.errors import DomainError, NotFoundInJurisdiction, TooManyLookups
from apps.evidence.choices import Precision
from apps.people.models import Person
from apps.people.selectors import person_by_id
from apps.status.selectors import status_payload
from apps.status.services import status_current

from . import services
from .choices import DEADLINE_HOURS, OPEN_STATES, AppealStatus, Category
from .forms import IntakeForm, ItineraryForm, NoteForm, RejectForm, ReleaseOnCallForm, ResolveForm, RouteForm
from .selectors import appeal_declarations, on_call_counties, popup3_call_evidence

# The intake's check and its opening both test an ID number: one look-up budget for both.
INTAKE_LOOKUP = "appeal_preview"
# What the check needs: the rest of the intake form may still be empty while the caller spells the ID.
CHECK_FIELDS = ("id_type", "id_number")


def change_url(appeal_id) -> str:
    return reverse("admin:appeals_appeal_change", args=[appeal_id])


# --- intake ---------------------------------------------------------------------------------------


class IntakeView(ActionView):
    """The operator's intake form (the admin's add page): check the caller's masked status
    (`_check`), then open the appeal (`_open`)."""

    form_class = IntakeForm
    template_name = "appeals/admin/intake.html"
    title = gettext_lazy("New appeal")
    preview: dict | None = None

    def load(self):
        if not self.model_admin.has_add_permission(self.request):
            raise PermissionDenied

    def get_context_data(self, form) -> dict:
        return {
            **super().get_context_data(form),
            "preview": self.preview,
            "deadlines": [(label, DEADLINE_HOURS[value]) for value, label in Category.choices],
        }

    def post(self, request, *args, **kwargs):
        if "_check" not in request.POST:
            return super().post(request, *args, **kwargs)
        form = self.get_form()
        form.is_valid()
        # The check needs the ID only; the rest of the call may not be taken down yet.
        for name in [name for name in form.errors if name not in CHECK_FIELDS]:
            del form.errors[name]
        if form.errors:
            return self.show(form)
        try:
            self.preview = self._preview(form.cleaned_data)
        except TooManyLookups as exc:
            form.add_error(None, exc.message)
            return self.show(form, status=exc.status_code)
        except ValidationError as exc:
            form.add_error("id_number", exc.messages)
        return self.show(form)

    def _preview(self, data) -> dict:
        """The caller's masked status and reasons, when the access layer lets the operator see the
        person: SPEC §7, the hotline sees "the masked status and reasons of the person an appeal
        is about", so only a person the centre already has an appeal about, and the access log
        names that appeal. Anyone else, known or not, gets the same neutral answer, and only the
        ID's format is checked; every check counts against the operator's look-up limit."""
        user = self.request.user
        lookup_check(user, INTAKE_LOOKUP)
        person = person_by_id(
            id_type=data["id_type"], id_number=data["id_number"], queryset=Person.objects.visible_to(user)
        )
        if person is None:
            return {"pending": True}
        item = access.why_visible(user, person)
        why = gettext("appeal intake: %(item)s") % {"item": item} if item else gettext("appeal intake")
        access_log_record(actor=user, person=person, why=why, via="admin")
        return {"status": status_payload(person, status_current(person_id=person.pk)), "item": item}

    def perform(self, form) -> Done:
        """Open the appeal (`appeal_open`): an ID number the portal does not know is an error on
        that field (nobody is created), and so is a look-up past the operator's limit."""
        lookup_check(self.request.user, INTAKE_LOOKUP)
        appeal = services.appeal_open(actor=self.request.user, origin="admin", **form.cleaned_data)
        where = appeal.routed_to.name if appeal.routed_to else gettext("nobody yet: route it by hand")
        message = gettext(
            "Appeal %(n)s opened, routed to %(to)s, due %(due)s. Give the caller the tracking number."
        ) % {
            "n": appeal.tracking_number,
            "to": where,
            "due": appeal.due_at.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M"),
        }
        return Done(message, url=change_url(appeal.pk))

    def refused(self, exc, form=None):
        if form is None:
            return super().refused(exc)
        if isinstance(exc, NotFoundInJurisdiction):
            form.add_error(
                "id_number",
                gettext("No person with this ID is on record. Check the ID type and number with the caller."),
            )
        else:
            form.add_error(None, exc.message)
        return self.show(form, status=exc.status_code)


# --- the appeal's page ----------------------------------------------------------------------------


def _take_start(form, common, n) -> str:
    services.appeal_start(note=form.cleaned_data["note"], **common)
    return gettext("Work on appeal %(n)s started.") % {"n": n}


def _take_resolve(form, common, n) -> str:
    data = form.cleaned_data
    _appeal, after = services.appeal_resolve(
        resolution=data["resolution"], release_popups=data["release_popups"], checklist=form.checklist(), **common
    )
    if after is not None:
        return gettext("Appeal %(n)s resolved. The person's status now: %(label)s.") % {"n": n, "label": after["label"]}
    return gettext("Appeal %(n)s resolved.") % {"n": n}


def _take_itinerary(form, common, n) -> str:
    data = form.cleaned_data
    _appeal, after, _declaration = services.appeal_itinerary_record(
        places=data["places"], entered_beijing_at=data["entered_beijing_at"], reason=data["reason"], **common
    )
    return gettext("Itinerary recorded on appeal %(n)s. The person's status now: %(label)s.") % {
        "n": n,
        "label": after["label"],
    }


def _take_release_on_call(form, common, n) -> str:
    _appeal, after, _releases = services.appeal_release_on_call(
        reason=form.cleaned_data["reason"], checklist=form.checklist(), **common
    )
    return gettext("Popup ③ released on the call; appeal %(n)s resolved. The person's status now: %(label)s.") % {
        "n": n,
        "label": after["label"],
    }


def _take_route(form, common, n) -> str:
    data = form.cleaned_data
    routed = services.appeal_route(to=data["routed_to"], reason=data["reason"], **common)
    return gettext("Appeal %(n)s re-routed to %(to)s.") % {"n": n, "to": routed.routed_to.name}


def _take_reject(form, common, n) -> str:
    services.appeal_reject(reason=form.cleaned_data["reason"], **common)
    return gettext("Appeal %(n)s rejected.") % {"n": n}


@dataclass(frozen=True)
class Step:
    """A step on an appeal's page: its own form, posted to `admin:appeals_appeal_step`; `take`
    calls its service (the form, the service's common arguments, the tracking number) and says
    what it did."""

    name: str
    title: str
    form_class: type[forms.Form]
    take: Callable[[forms.Form, dict, str], str]


STEPS = {
    step.name: step
    for step in (
        Step("itinerary", gettext_lazy("Record the caller's itinerary"), ItineraryForm, _take_itinerary),
        Step("release_on_call", gettext_lazy("Release popup ③ on the call"), ReleaseOnCallForm, _take_release_on_call),
        Step("start", gettext_lazy("Start work"), NoteForm, _take_start),
        Step("resolve", gettext_lazy("Resolve"), ResolveForm, _take_resolve),
        Step("route", gettext_lazy("Re-route"), RouteForm, _take_route),
        Step("reject", gettext_lazy("Reject"), RejectForm, _take_reject),
    )
}


def _refusal(exc: DomainError) -> str:
    """What the page says when the service refuses a step on an appeal the user sees: the role's
    refusal as the service words it, or, for jurisdiction, that the appeal is someone else's."""
    if isinstance(exc, NotFoundInJurisdiction):
        return gettext("This step was refused: the appeal is routed to another organisation, which takes it.")
    return gettext("This step was refused: %(why)s") % {"why": exc.message}


def as_shown(request):
    """The request as the page is shown (a GET): after a step, the appeal page is rendered again
    through the admin's change view, which would take a POST for a save of its read-only form."""
    if request.method == "GET":
        return request
    shown = copy.copy(request)
    shown.method = "GET"
    shown.POST = QueryDict()
    return shown


def appeal_page_context(request, appeal, *, bound=None, refused="") -> dict:
    """What the appeal's page shows besides the admin's read-only change form: the person's masked
    status and reasons, the forms of the steps the user may take, on the call the caller's
    evidence. After a step that failed, `bound` is (name, form) of that step with the typed input
    and the errors, and `refused` the service's refusal; the look-up was logged when the page was
    first shown (GET)."""
    if request.method == "GET":
        access_log_record(
            actor=request.user,
            person=appeal.person,
            why=gettext("appeal %(n)s") % {"n": appeal.tracking_number},
            via="admin",
        )
    row = status_current(person_id=appeal.person_id)
    extra = {"person_status": status_payload(appeal.person, row), "overdue": appeal.is_overdue(now())}
    extra["steps"] = steps = _steps(request, appeal, bound)
    if access.may(request.user, "appeal.itinerary", appeal):
        extra["on_call"] = _on_call(appeal, row)
    if bound is not None and bound[0] in {step["name"] for step in steps}:
        if refused:
            bound[1].add_error(None, refused)  # said beside the button that was pressed
    elif refused:
        extra["step_refused"] = refused  # said at the top: the step is not offered
    elif bound is not None:
        # The step is offered no more (the appeal was closed meanwhile, say): why, at the top.
        extra["step_refused"] = " ".join(str(m) for errors in bound[1].errors.values() for m in errors)
    return extra


def _on_call(appeal, row) -> dict:
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


def _offered(user, appeal) -> list[str]:
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


def _steps(request, appeal, bound=None) -> list[dict]:
    """The forms of the steps offered, each with its own URL; `bound` (name, form) replaces the
    empty form of a step that was just tried."""
    steps = []
    for name in _offered(request.user, appeal):
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


class StepView(ActionView):
    """One step on an appeal (POST): start, resolve, route, reject, and on the call the itinerary
    and the release. Done: back to the page with a success message. Invalid or refused: the page
    again, with the message and the typed input kept (a checklist error keeps the resolution
    written)."""

    http_method_names = ["post", "get"]

    def load(self, object_id, step):
        if self.request.method != "POST":
            return redirect(change_url(object_id))
        self.object_id = object_id
        self.appeal = self.model_admin.get_object(self.request, unquote(object_id))
        if self.appeal is None or step not in STEPS:
            return self._refused_page()
        self.step = STEPS[step]
        self.form_class, self.prefix = self.step.form_class, step
        return None

    def perform(self, form) -> str:
        common = {"actor": self.request.user, "appeal_id": self.appeal.pk, "origin": "admin"}
        return self.step.take(form, common, self.appeal.tracking_number)

    def success_url(self) -> str:
        if self.model_admin.get_queryset(self.request).filter(pk=self.appeal.pk).exists():
            # To the top, where the message is (the step's form was posted to its own anchor).
            return change_url(self.appeal.pk) + "#content-start"
        # Re-routed away from the user's own organisation, say: it is no longer theirs to follow.
        return reverse("admin:appeals_appeal_changelist")

    def show(self, form, status=200):
        return self.model_admin.appeal_page(self.request, self.object_id, bound=(self.step.name, form), status=status)

    def refused(self, exc, form=None):
        if form is None:
            return super().refused(exc)
        page = self.model_admin.appeal_page(
            self.request, self.object_id, bound=(self.step.name, form), refused=_refusal(exc), status=exc.status_code
        )
        return page

    def _refused_page(self):
        """A step on an appeal the user does not follow (or no longer: re-routed, say), or an
        unknown step: a page that says so, the same whether the appeal exists or not (404)."""
        context = {
            **self.model_admin.admin_site.each_context(self.request),
            "opts": self.model_admin.model._meta,
            "title": gettext("Step refused"),
            "message": gettext(
                "This appeal is not one you follow (or no longer: it may have been re-routed). Nothing was changed."
            ),
        }
        return TemplateResponse(self.request, "appeals/admin/step_refused.html", context, status=404)


# --- re-routing from the list ---------------------------------------------------------------------


@admin.action(description=gettext_lazy("Re-route the selected appeals"), permissions=["route"])
def route_selected(modeladmin, request, queryset):
    """Re-route the appeals ticked in the list, one reason for all; a refused row is named."""
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
                refused.append(f"{appeal}: {error_text(exc)}")
        report_bulk(
            modeladmin,
            request,
            done=done,
            refused=refused,
            message=ngettext("%(n)d appeal re-routed.", "%(n)d appeals re-routed.", done) % {"n": done},
        )
        return None
    context = {
        **modeladmin.admin_site.each_context(request),
        "opts": modeladmin.model._meta,
        "title": gettext("Re-route appeals"),
        "form": form,
        "appeals": queryset,
        "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
    }
    return TemplateResponse(request, "appeals/admin/route.html", context)
