"""The casework screens of the admin (SPEC §5–7): the work queue with bulk release, the casework
panel of the person page (status and reasons, evidence timeline, actions) and one small form per
manual change.

The views are thin: the access layer decides who may act on whom (role → 403, jurisdiction →
404, role first), the services make each change and write its audit, the selectors read. Every
look-up of a person's page is logged with why (the work item it came from)."""

import datetime as dt
from collections import Counter
from functools import wraps
from urllib.parse import urlencode

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from apps.accounts import access
from apps.accounts.choices import OrgKind, Role
from apps.accounts.models import Organisation
from apps.accounts.throttling import lookup_check
from apps.audit.services import access_log_record
from apps.core.clock import LOCAL_TZ
from apps.core.errors import NotFoundInJurisdiction, NotPermitted, TooManyLookups
from apps.evidence.choices import OrderKind
from apps.evidence.models import ItineraryDeclaration, ObservationOrder
from apps.people.models import Person
from apps.status.models import Popup
from apps.status.presentation import POPUP_GUIDANCE, POPUP_TITLE, STATE_LABEL
from apps.status.selectors import status_payload
from apps.status.services import status_current

from . import services
from .choices import RegistrationStatus
from .forms import (
    CIRCLED,
    BulkReleaseForm,
    CommunityForm,
    OrderEndForm,
    OrderStartForm,
    PopupReleaseForm,
    RegistrationDecisionForm,
    RevealForm,
    VerificationForm,
    add_service_errors,
)
from .models import CommunityRegistration
from .selectors import EVIDENCE_KINDS, QUEUE_POPUP, person_timeline, work_queue

# The queue is the work list of those who release popups: community workers and the CDC.
QUEUE_ACTION = "popup.release"
QUEUE_KINDS = ("popup", "registration", "appeal")


# --- shared -------------------------------------------------------------------------------------


def casework_view(view):
    """An admin view of casework: staff only (the admin's login), the access layer's refusals as
    403 and 404 pages."""

    @wraps(view)
    def translated(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except NotPermitted as exc:
            raise PermissionDenied(exc.message) from exc
        except NotFoundInJurisdiction as exc:
            raise Http404(exc.message) from exc

    return admin.site.admin_view(translated)


def person_url(person_id: int, why: str = "") -> str:
    """The person page; `why` is logged as the reason of the look-up."""
    url = reverse("admin:people_person_change", args=[person_id])
    return f"{url}?{urlencode({'why': why})}" if why else url


def _why(request) -> str:
    return (request.POST.get("why") or request.GET.get("why") or "").strip()[:300]


def _visible_person(request, ref: str, action: str) -> Person:
    """The person `ref`, when the user's role may take `action` (403) on them (404)."""
    access.require(request.user, action)
    person = Person.objects.visible_to(request.user).filter(ref=ref).first()
    if person is None:
        raise NotFoundInJurisdiction(_("No such person."))
    return person


def _render(request, template: str, context: dict, status: int = 200) -> TemplateResponse:
    return TemplateResponse(request, template, {**admin.site.each_context(request), **context}, status=status)


def _action_page(request, *, title, person, form, submit, why, status=200, intro="", danger=False):
    """One action's form, with the person's masked identity and status: a look-up of the person,
    logged (SPEC §7) when the page is opened, with the work item it came from or the action."""
    if request.method == "GET":
        access_log_record(actor=request.user, person=person, why=why or str(title), via="admin")
    row = status_current(person_id=person.pk)
    return _render(
        request,
        "admin/casework/action_form.html",
        {
            "title": title,
            "person": person,
            "state": row.state,
            "state_label": STATE_LABEL[row.state],
            "form": form,
            "submit": submit,
            "why": why,
            "intro": intro,
            "danger": danger,
            "back_url": person_url(person.pk, why),
        },
        status=status,
    )


def _done(request, person_id: int, why: str, message: str) -> HttpResponseRedirect:
    messages.success(request, message)
    return redirect(person_url(person_id, why))


def _state_after(status: dict) -> str:
    return _("Status now: %(label)s.") % {"label": status["label"]}


# --- login: community workers land on their queue ------------------------------------------------


def login(request, extra_context=None):
    """The admin's login; a community worker who logs in without asking for a page lands on the
    work queue instead of the index."""
    response = admin.site.login(request, extra_context)
    user = request.user
    if (
        response.status_code == 302
        and user.is_authenticated
        and user.role == Role.COMMUNITY_WORKER
        and access.may(user, QUEUE_ACTION)
        and response.url == reverse("admin:index")
    ):
        return redirect("casework_admin:queue")
    return response


# --- the work queue ---------------------------------------------------------------------------------


def _queue_why(item) -> str:
    if item.kind == "popup":
        return _("work queue: popup %(number)s #%(id)s") % {"number": CIRCLED[QUEUE_POPUP], "id": item.id}
    if item.kind == "registration":
        return _("work queue: registration #%(id)s") % {"id": item.id}
    return _("work queue: appeal %(number)s") % {"number": item.label}


def _skipped_message(skipped: dict[int, str]) -> str:
    why = Counter(skipped.values())
    parts = [f"{count} × {reason}" for reason, count in why.most_common()]
    return ngettext("%(count)d person skipped (%(why)s).", "%(count)d persons skipped (%(why)s).", len(skipped)) % {
        "count": len(skipped),
        "why": "; ".join(parts),
    }


def queue(request):
    """The work queue (SPEC §5–7): persons with popup ③, pending registrations and appeals routed
    to the user's organisation, oldest first, with counts; tick popup rows to release them in
    bulk with one reason and the checklist (one release and one audit event per person)."""
    access.require(request.user, QUEUE_ACTION)
    form = BulkReleaseForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                outcome = services.popups_release(
                    actor=request.user,
                    person_ids=form.cleaned_data["person"],
                    reason=form.cleaned_data["reason"],
                    checklist=form.checklist(),
                    numbers=[QUEUE_POPUP],
                    origin="admin",
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            except services.Busy as exc:
                form.add_error(None, exc.message)
                status = 503
            else:
                released = outcome.released_persons
                messages.add_message(
                    request,
                    messages.SUCCESS if released else messages.WARNING,
                    ngettext(
                        "Popup %(popup)s released for %(count)d person.",
                        "Popup %(popup)s released for %(count)d persons.",
                        released,
                    )
                    % {"popup": CIRCLED[QUEUE_POPUP], "count": released},
                )
                if outcome.skipped:
                    messages.warning(request, _skipped_message(outcome.skipped))
                return redirect(request.get_full_path())

    kind = request.GET.get("kind") if request.GET.get("kind") in QUEUE_KINDS else ""
    work = work_queue(request.user)
    rows = [
        {"item": item, "url": person_url(item.person_id, _queue_why(item))}
        for item in work.items
        if not kind or item.kind == kind
    ]
    ticked = set(form.data.getlist("person")) if form.is_bound else set()
    return _render(
        request,
        "admin/casework/queue.html",
        {
            "title": _("Work queue"),
            "rows": rows,
            "counts": work.counts,
            "kind": kind,
            "form": form,
            "ticked": ticked,
            "popup_label": CIRCLED[QUEUE_POPUP],
            "kinds": [
                ("", _("All"), sum(work.counts[k] for k in QUEUE_KINDS)),
                ("popup", _("Popup %(popup)s") % {"popup": CIRCLED[QUEUE_POPUP]}, work.counts["popup"]),
                ("registration", _("Registrations"), work.counts["registration"]),
                ("appeal", _("Appeals"), work.counts["appeal"]),
            ],
        },
        status=status,
    )


# --- the person page -------------------------------------------------------------------------------


def _moment(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


def person_case_panel(request, person: Person, why: str) -> dict:
    """What the person page shows of casework: the status with its reasons in plain Chinese, the
    evidence timeline, and the actions the user's role may take on this person. The caller has
    checked that the user may see the person and has logged the look-up."""
    user = request.user
    payload = status_payload(person, status_current(person_id=person.pk))
    reasons = payload["reasons"]
    # Evidence the timeline lists gets a link to its row; designations and the like do not.
    on_timeline = {"stay", "lab_result", "health_event", "inbound_arrival", "observation_order", "association"}

    def shown(reason: dict) -> dict:
        return {
            **reason,
            "since_at": _moment(reason.get("since")),
            "clears_at_at": _moment(reason.get("clears_at")),
            "evidence_links": [
                {
                    "label": EVIDENCE_KINDS.get(e["kind"], e["kind"]),
                    "id": e["id"],
                    "anchor": f"#ev-{e['kind']}-{e['id']}" if e["kind"] in on_timeline else "",
                }
                for e in reason.get("evidence", ())
            ],
        }

    popups = [
        {
            **p,
            "circled": CIRCLED.get(p["number"], p["number"]),
            "since_at": _moment(p.get("since")),
            "clears_at_at": _moment(p.get("clears_at")),
            "manual": p.get("clears") != "auto",
            "reasons": [shown(r) for r in reasons if r.get("popup") == p["number"]],
        }
        for p in payload["popups"]
    ]
    popup_numbers = {p["number"] for p in payload["popups"]}
    other_reasons = [shown(r) for r in reasons if r.get("popup") not in popup_numbers]

    # The evidence (places, tests, clinic visits, orders) is for the roles that work the case;
    # hotel, tourism and hotline staff see the status and its reasons only (SPEC §7).
    sees_evidence = user.is_superuser or user.has_perm("evidence.view_stay")
    timeline = person_timeline(person) if sees_evidence else None
    active_orders = [e.obj for e in timeline.entries if e.kind == "observation_order" and e.active] if timeline else []
    pending = list(
        CommunityRegistration.objects.filter(person=person, status=RegistrationStatus.PENDING)
        .visible_to(user)
        .select_related("community")
    )
    query = f"?{urlencode({'why': why})}" if why else ""
    actions = []
    if access.may(user, "popup.release", person) and payload["popups"]:
        actions.append((_("Release a popup"), reverse("casework_admin:release", args=[person.ref]) + query, "primary"))
    if access.may(user, "order.start.home", person):
        actions.append(
            (_("Start home observation"), reverse("casework_admin:order_start", args=[person.ref]) + query, "")
        )
    if access.may(user, "order.start.centralized", person):
        url = reverse("casework_admin:order_start", args=[person.ref])
        params = urlencode({"kind": OrderKind.CENTRALIZED, **({"why": why} if why else {})})
        actions.append((_("Start centralised observation"), f"{url}?{params}", "danger"))
    if access.may(user, "itinerary.verify", person):
        actions.append(
            (_("Record an itinerary verification"), reverse("casework_admin:verify", args=[person.ref]) + query, "")
        )
    if access.may(user, "person.set_community", person, community=None) or access.may(
        user, "person.set_community", person, community=getattr(user, "organisation", None)
    ):
        actions.append(
            (_("Community of residence"), reverse("casework_admin:community", args=[person.ref]) + query, "")
        )
    if access.may(user, "person.reveal", person):
        actions.append((_("Show full identity"), reverse("casework_admin:reveal", args=[person.ref]) + query, ""))
    return {
        "case": {
            "status": payload,
            "state": payload["state"],
            "state_since": _moment(payload.get("state_since")),
            "valid_until": _moment(payload.get("valid_until")),
            "popups": popups,
            "other_reasons": other_reasons,
            "timeline": timeline,
            "why": why,
            "actions": actions,
            "orders": [
                {
                    "order": o,
                    "end_url": reverse("casework_admin:order_end", args=[o.pk]) + query
                    if access.may(user, "order.end", o)
                    else "",
                }
                for o in active_orders
            ],
            "registrations": [
                {
                    "registration": g,
                    "decide_url": reverse("casework_admin:registration_decide", args=[g.pk]) + query
                    if access.may(user, "registration.decide")
                    else "",
                }
                for g in pending
            ],
        }
    }


# --- the actions ------------------------------------------------------------------------------------


def release(request, ref: str):
    """Release one active popup of the person, after verification (SPEC §5)."""
    person = _visible_person(request, ref, "popup.release")
    why = _why(request)
    status_current(person_id=person.pk)  # popups that have cleared on their own are not offered
    popups = list(Popup.objects.filter(person=person, ended_at__isnull=True).order_by("number"))
    if not popups:
        messages.info(request, _("This person has no active popup to release."))
        return redirect(person_url(person.pk, why))
    choices = [(p, POPUP_TITLE.get(p.number, "")) for p in popups]
    form = PopupReleaseForm(
        request.POST if request.method == "POST" else None,
        request.FILES if request.method == "POST" else None,
        popups=choices,
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                outcome = services.popup_release(
                    actor=request.user,
                    popup_id=data["popup"],
                    reason=data["reason"],
                    checklist=form.checklist(),
                    files=data["files"],
                    origin="admin",
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            except (services.Conflict, services.Busy) as exc:
                form.add_error(None, exc.message)
                status = exc.status_code
            else:
                (after,) = outcome.statuses.values()
                number = next(p.number for p in popups if p.pk == data["popup"])
                message = _("Popup %(popup)s released.") % {"popup": CIRCLED.get(number, number)}
                return _done(request, person.pk, why, f"{message} {_state_after(after)}")
    guidance = " ".join(f"{CIRCLED[p.number]} {POPUP_GUIDANCE.get(p.number, '')}" for p in popups if p.number == 3)
    return _action_page(
        request,
        title=_("Release a popup"),
        person=person,
        form=form,
        submit=_("Release"),
        why=why,
        status=status,
        intro=guidance,
    )


def order_start(request, ref: str):
    """Start home observation (community workers, CDC) or centralised observation (CDC)."""
    user = request.user
    kinds = [k for k in (OrderKind.HOME, OrderKind.CENTRALIZED) if access.may(user, f"order.start.{k}")]
    person = _visible_person(request, ref, "order.start.home" if not kinds else f"order.start.{kinds[0]}")
    why = _why(request)
    wanted = request.GET.get("kind")
    if wanted in kinds:
        kinds = [wanted] + [k for k in kinds if k != wanted]
    form = OrderStartForm(request.POST if request.method == "POST" else None, kinds=kinds)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            starts_at, ends_at = form.period()
            try:
                order, after = services.order_start(
                    actor=user,
                    person=person,
                    kind=form.cleaned_data["kind"],
                    starts_at=starts_at,
                    ends_at=ends_at,
                    reason=form.cleaned_data["reason"],
                    origin="admin",
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                message = _("%(kind)s started.") % {"kind": order.get_kind_display()}
                return _done(request, person.pk, why, f"{message} {_state_after(after)}")
    return _action_page(
        request,
        title=_("Start an observation order"),
        person=person,
        form=form,
        submit=_("Start"),
        why=why,
        status=status,
    )


def order_end(request, order_id: int):
    """End an active observation order early (its issuer's organisation, or the CDC)."""
    user = request.user
    access.require(user, "order.end")
    order = ObservationOrder.objects.visible_to(user).select_related("person", "issuer_org").filter(pk=order_id).first()
    if order is None:
        raise NotFoundInJurisdiction(_("No such order."))
    access.require(user, "order.end", order)
    why = _why(request)
    form = OrderEndForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                order, after = services.order_end(
                    actor=user, order_id=order.pk, reason=form.cleaned_data["reason"], origin="admin"
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            except services.Conflict as exc:
                form.add_error(None, exc.message)
                status = 409
            else:
                message = _("%(kind)s ended.") % {"kind": order.get_kind_display()}
                return _done(request, order.person_id, why, f"{message} {_state_after(after)}")
    starts = order.starts_at.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M")
    ends = order.ends_at.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M") if order.ends_at else "-"
    intro = _("%(kind)s from %(starts)s until %(ends)s, issued by %(issuer)s: %(reason)s") % {
        "kind": order.get_kind_display(),
        "starts": starts,
        "ends": ends,
        "issuer": order.issuer_org.name if order.issuer_org else order.source,
        "reason": order.reason or "-",
    }
    return _action_page(
        request,
        title=_("End an observation order"),
        person=order.person,
        form=form,
        submit=_("End the order"),
        why=why,
        status=status,
        intro=intro,
        danger=True,
    )


def reveal(request, ref: str):
    """The clear name, ID number and phone numbers of one person (to call them, or to check an ID
    card at the door), for a reason that is logged; shown once, on this page only."""
    from apps.people.services import person_identity_clear

    person = _visible_person(request, ref, "person.reveal")
    why = _why(request)
    form = RevealForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            lookup_check(request.user, "full_identity")
        except TooManyLookups as exc:
            form.add_error(None, exc.message)
    if request.method == "POST" and form.is_valid():
        reason = form.cleaned_data["reason"]
        access_log_record(
            actor=request.user,
            person=person,
            why=_("full identity shown: %(reason)s") % {"reason": reason},
            via="reveal",
        )
        response = _render(
            request,
            "admin/casework/identity.html",
            {
                "title": _("Full identity"),
                "person": person,
                "identity": person_identity_clear(person),
                "reason": reason,
                "back_url": person_url(person.pk, why),
            },
        )
        response["Cache-Control"] = "no-store"
        return response
    return _action_page(
        request,
        title=_("Show full identity"),
        person=person,
        form=form,
        submit=_("Show"),
        why=why,
        intro=_("The full name, ID number and phone numbers are shown once, and your reason is logged."),
    )


def verify(request, ref: str):
    """Record an itinerary verification, remotely (the person cannot come in) or in person."""
    person = _visible_person(request, ref, "itinerary.verify")
    why = _why(request)
    declarations = list(
        ItineraryDeclaration.objects.filter(person=person)
        .prefetch_related("places__area")
        .order_by("-submitted_at")[:20]
    )
    labelled = [
        (
            d,
            f"{d.submitted_at.astimezone(LOCAL_TZ):%Y-%m-%d %H:%M} · "
            + "、".join(p.area.full_name for p in d.places.all()),
        )
        for d in declarations
    ]
    form = VerificationForm(request.POST if request.method == "POST" else None, declarations=labelled)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            chosen = form.cleaned_data.get("declaration")
            try:
                services.itinerary_verify(
                    actor=request.user,
                    person=person,
                    note=form.cleaned_data["note"],
                    remote=form.cleaned_data["remote"],
                    declaration=next((d for d in declarations if d.pk == chosen), None),
                    origin="admin",
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                return _done(request, person.pk, why, _("Itinerary verification recorded."))
    return _action_page(
        request,
        title=_("Record an itinerary verification"),
        person=person,
        form=form,
        submit=_("Record"),
        why=why,
        status=status,
        intro=_("Recording a verification does not release anything: it is the first item of a release's checklist."),
    )


def registration_decide(request, registration_id: int):
    """Decide a returnee's registration: home observation, or no isolation (optionally releasing
    the person's active popups with the checklist)."""
    user = request.user
    registration = services.registration_visible(user, registration_id)
    access.require(user, "registration.decide", registration)
    why = _why(request)
    form = RegistrationDecisionForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                decided = services.registration_decide(
                    actor=user,
                    registration_id=registration.pk,
                    decision=data["decision"],
                    note=data["note"],
                    observation_days=data.get("observation_days"),
                    checklist=form.service_checklist(),
                    origin="admin",
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            except services.Conflict as exc:
                form.add_error(None, exc.message)
                status = 409
            else:
                message = _("Registration decided: %(decision)s.") % {"decision": decided.get_status_display()}
                return _done(request, registration.person_id, why, message)
    arriving = registration.arriving_at.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M")
    intro = _("Registered with %(community)s, arriving %(when)s from %(area)s.") % {
        "community": registration.community.name,
        "when": arriving,
        "area": registration.from_area.full_name if registration.from_area_id else "-",
    }
    return _action_page(
        request,
        title=_("Decide a community registration"),
        person=registration.person,
        form=form,
        submit=_("Decide"),
        why=why,
        status=status,
        intro=intro,
    )


def community(request, ref: str):
    """Set a person's community of residence: take them in, or move them away (SPEC §7), a manual
    change with a reason (`services.person_change`)."""
    user = request.user
    person = _visible_person(request, ref, "person.set_community")
    why = _why(request)
    communities = Organisation.objects.filter(kind=OrgKind.COMMUNITY, is_active=True).order_by("code")
    form = CommunityForm(
        request.POST if request.method == "POST" else None,
        communities=communities,
        initial={"community": person.community_id},
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.person_change(
                    actor=user,
                    person=person,
                    community=form.cleaned_data["community"],
                    reason=form.cleaned_data["reason"],
                    origin="admin",
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            except NotPermitted as exc:
                form.add_error("community", exc.message)
            else:
                messages.success(request, _("The community of residence was changed."))
                if Person.objects.visible_to(user).filter(pk=person.pk).exists():
                    return redirect(person_url(person.pk, why))
                return redirect("admin:index")
        status = 400
    return _action_page(
        request,
        title=_("Community of residence"),
        person=person,
        form=form,
        submit=_("Save"),
        why=why,
        status=status,
        intro=_(
            "A community takes in a person who has no community into its own, or moves its own resident away; "
            "the CDC sets any community. The change is audited with your reason."
        ),
    )
