"""The casework screens of the admin (SPEC §5–7): the work queue with bulk release, the casework
panel of the person page (status and reasons, evidence timeline, actions) and one small form per
manual change.

Every action is an `apps.core.admin_actions.ActionView`: the access layer decides who may act on
whom (role → 403, jurisdiction → 404, role first) when the page loads, the service makes the
change and writes its audit, its field errors land next to the fields with the typed input kept.
Every look-up of a person's page is logged with why (the work item it came from), which the
action pages carry through their POST back to the person page."""

import datetime as dt
from collections import Counter
from urllib.parse import urlencode

from django.contrib import admin, messages
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from apps.accounts import access
from apps.accounts.choices import OrgKind, Role
from apps.accounts.models import Organisation
from apps.accounts.throttling import lookup_check
from apps.audit.services import access_log_record
from apps.core.admin_actions import ActionView, Done
from apps.core.clock import LOCAL_TZ
from apps.core.errors import NotFoundInJurisdiction, NotPermitted
from apps.evidence.choices import OrderKind
from apps.evidence.models import ItineraryDeclaration, ObservationOrder
from apps.people.models import Person
from apps.people.services import person_identity_clear
from apps.status.engine.registry import circled, manual_numbers
from apps.status.models import Popup
from apps.status.presentation import STATE_LABEL
from apps.status.selectors import status_payload
from apps.status.services import status_current

from . import services
from .choices import RegistrationStatus
from .forms import (
    BulkReleaseForm,
    CommunityForm,
    OrderEndForm,
    OrderStartForm,
    PopupReleaseForm,
    RegistrationDecisionForm,
    RevealForm,
    VerificationForm,
)
from .models import CommunityRegistration
from .selectors import EVIDENCE_KINDS, QUEUE_LABEL, QUEUE_POPUPS, person_timeline, work_queue

# The queue is the work list of those who release popups: community workers and the CDC.
QUEUE_ACTION = "popup.release"
QUEUE_KINDS = ("popup", "registration", "appeal", "review")


# --- shared -------------------------------------------------------------------------------------


def person_url(person_id: int, why: str = "") -> str:
    """The person page; `why` is logged as the reason of the look-up."""
    url = reverse("admin:people_person_change", args=[person_id])
    return f"{url}?{urlencode({'why': why})}" if why else url


def visible_person(user, ref: str, action: str) -> Person:
    """The person `ref`, when the user's role may take `action` (403) on them (404)."""
    access.require(user, action)
    person = Person.objects.visible_to(user).filter(ref=ref).first()
    if person is None:
        raise NotFoundInJurisdiction(_("No such person."))
    return person


def _state_after(status: dict) -> str:
    return _("Status now: %(label)s.") % {"label": status["label"]}


class PersonAction(ActionView):
    """An action on one person's case, opened from their page: the form under the person's masked
    identity and status. Opening it is a look-up of the person, logged (SPEC §7) with the work
    item it came from, or the action; done, it goes back to the person page with that why."""

    template_name = "admin/casework/action_form.html"
    submit = ""
    intro = ""
    danger = False
    person: Person

    def opened(self):
        access_log_record(actor=self.request.user, person=self.person, why=self.why or str(self.title), via="admin")

    def success_url(self) -> str:
        return person_url(self.person.pk, self.why)

    def get_intro(self) -> str:
        return self.intro

    def get_context_data(self, form) -> dict:
        row = status_current(person_id=self.person.pk)
        return {
            **super().get_context_data(form),
            "person": self.person,
            "state": row.state,
            "state_label": STATE_LABEL[row.state],
            "submit": self.submit,
            "intro": self.get_intro(),
            "danger": self.danger,
            "back_url": person_url(self.person.pk, self.why),
        }


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
        return _("work queue: popup %(number)s #%(id)s") % {"number": item.label, "id": item.id}
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


class QueueView(ActionView):
    """The work queue (SPEC §5–7): persons with popup ③, pending registrations and appeals routed
    to the user's organisation, oldest first, with counts; tick popup rows to release them in
    bulk with one reason and the checklist (one release and one audit event per person)."""

    form_class = BulkReleaseForm
    template_name = "admin/casework/queue.html"
    title = gettext_lazy("Work queue")

    def load(self):
        access.require(self.request.user, QUEUE_ACTION)

    def perform(self, form) -> Done:
        outcome = services.popups_release(
            actor=self.request.user,
            person_ids=form.cleaned_data["person"],
            reason=form.cleaned_data["reason"],
            checklist=form.checklist(),
            numbers=QUEUE_POPUPS,
            origin="admin",
        )
        released = outcome.released_persons
        return Done(
            ngettext(
                "Popup %(popup)s released for %(count)d person.",
                "Popup %(popup)s released for %(count)d persons.",
                released,
            )
            % {"popup": QUEUE_LABEL, "count": released},
            level=messages.SUCCESS if released else messages.WARNING,
            also=((messages.WARNING, _skipped_message(outcome.skipped)),) if outcome.skipped else (),
        )

    def get_context_data(self, form) -> dict:
        request = self.request
        kind = request.GET.get("kind") if request.GET.get("kind") in QUEUE_KINDS else ""
        work = work_queue(request.user)
        rows = [
            {
                "item": item,
                "url": reverse("admin:reviews_releasereview_change", args=[item.id])
                if item.kind == "review"  # a referred release review (apps.reviews): its own page
                else person_url(item.person_id, _queue_why(item)),
            }
            for item in work.items
            if not kind or item.kind == kind
        ]
        return {
            **super().get_context_data(form),
            "rows": rows,
            "counts": work.counts,
            "kind": kind,
            "ticked": set(form.data.getlist("person")) if form.is_bound else set(),
            "popup_label": QUEUE_LABEL,
            "kinds": [
                ("", _("All"), sum(work.counts[k] for k in QUEUE_KINDS)),
                ("popup", _("Popup %(popup)s") % {"popup": QUEUE_LABEL}, work.counts["popup"]),
                ("registration", _("Registrations"), work.counts["registration"]),
                ("appeal", _("Appeals"), work.counts["appeal"]),
                *((("review", _("Referred reviews"), work.counts["review"]),) if work.counts["review"] else ()),
            ],
        }


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
            "circled": circled(p["number"]),
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


class ReleaseView(PersonAction):
    """Release one active popup of the person, after verification (SPEC §5)."""

    form_class = PopupReleaseForm
    title = gettext_lazy("Release a popup")
    submit = gettext_lazy("Release")

    def load(self, ref: str):
        self.person = person = visible_person(self.request.user, ref, "popup.release")
        # Popups that have cleared on their own are not offered; titles and guidance as the API shows them.
        shown = status_payload(person, status_current(person_id=person.pk))["popups"]
        self.shown = {p["number"]: p for p in shown}
        self.popups = popups = list(Popup.objects.filter(person=person, ended_at__isnull=True).order_by("number"))
        if not popups:
            messages.info(self.request, _("This person has no active popup to release."))
            return redirect(person_url(person.pk, self.why))
        return None

    def get_form_kwargs(self) -> dict:
        return {"popups": [(p, self.shown.get(p.number, {}).get("title", "")) for p in self.popups]}

    def perform(self, form) -> str:
        data = form.cleaned_data
        outcome = services.popup_release(
            actor=self.request.user,
            popup_id=data["popup"],
            reason=data["reason"],
            checklist=form.checklist(),
            files=data["files"],
            origin="admin",
        )
        (after,) = outcome.statuses.values()
        number = next(p.number for p in self.popups if p.pk == data["popup"])
        message = _("Popup %(popup)s released.") % {"popup": circled(number)}
        return f"{message} {_state_after(after)}"

    def get_intro(self) -> str:
        popups = self.popups
        manual = manual_numbers()
        return " ".join(
            f"{circled(p.number)} {self.shown[p.number]['guidance']}"
            for p in popups
            if p.number in manual and p.number in self.shown
        )


class OrderStartView(PersonAction):
    """Start home observation (community workers, CDC) or centralised observation (CDC)."""

    form_class = OrderStartForm
    title = gettext_lazy("Start an observation order")
    submit = gettext_lazy("Start")
    # The form asks how many days; the service checks the end they make.
    service_fields = {"ends_at": "days"}

    def load(self, ref: str):
        user = self.request.user
        kinds = [k for k in (OrderKind.HOME, OrderKind.CENTRALIZED) if access.may(user, f"order.start.{k}")]
        self.person = visible_person(user, ref, "order.start.home" if not kinds else f"order.start.{kinds[0]}")
        wanted = self.request.GET.get("kind")
        if wanted in kinds:
            kinds = [wanted] + [k for k in kinds if k != wanted]
        self.kinds = kinds

    def get_form_kwargs(self) -> dict:
        return {"kinds": self.kinds}

    def perform(self, form) -> str:
        starts_at, ends_at = form.period()
        order, after = services.order_start(
            actor=self.request.user,
            person=self.person,
            kind=form.cleaned_data["kind"],
            starts_at=starts_at,
            ends_at=ends_at,
            reason=form.cleaned_data["reason"],
            origin="admin",
        )
        message = _("%(kind)s started.") % {"kind": order.get_kind_display()}
        return f"{message} {_state_after(after)}"


class OrderEndView(PersonAction):
    """End an active observation order early (its issuer's organisation, or the CDC)."""

    form_class = OrderEndForm
    title = gettext_lazy("End an observation order")
    submit = gettext_lazy("End the order")
    danger = True

    def load(self, order_id: int):
        user = self.request.user
        access.require(user, "order.end")
        order = (
            ObservationOrder.objects.visible_to(user).select_related("person", "issuer_org").filter(pk=order_id).first()
        )
        if order is None:
            raise NotFoundInJurisdiction(_("No such order."))
        access.require(user, "order.end", order)
        self.order, self.person = order, order.person

    def perform(self, form) -> str:
        order, after = services.order_end(
            actor=self.request.user, order_id=self.order.pk, reason=form.cleaned_data["reason"], origin="admin"
        )
        message = _("%(kind)s ended.") % {"kind": order.get_kind_display()}
        return f"{message} {_state_after(after)}"

    def get_intro(self) -> str:
        order = self.order
        starts = order.starts_at.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M")
        ends = order.ends_at.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M") if order.ends_at else "-"
        return _("%(kind)s from %(starts)s until %(ends)s, issued by %(issuer)s: %(reason)s") % {
            "kind": order.get_kind_display(),
            "starts": starts,
            "ends": ends,
            "issuer": order.issuer_org.name if order.issuer_org else order.source,
            "reason": order.reason or "-",
        }


class RevealView(PersonAction):
    """The clear name, ID number and phone numbers of one person (to call them, or to check an ID
    card at the door), for a reason that is logged; shown once, on this page only."""

    form_class = RevealForm
    title = gettext_lazy("Show full identity")
    submit = gettext_lazy("Show")
    intro = gettext_lazy("The full name, ID number and phone numbers are shown once, and your reason is logged.")

    def load(self, ref: str):
        self.person = visible_person(self.request.user, ref, "person.reveal")

    def perform(self, form) -> TemplateResponse:
        person, reason = self.person, form.cleaned_data["reason"]
        lookup_check(self.request.user, "full_identity")
        access_log_record(
            actor=self.request.user,
            person=person,
            why=_("full identity shown: %(reason)s") % {"reason": reason},
            via="reveal",
        )
        response = TemplateResponse(
            self.request,
            "admin/casework/identity.html",
            {
                **admin.site.each_context(self.request),
                "title": _("Full identity"),
                "person": person,
                "identity": person_identity_clear(person),
                "reason": reason,
                "back_url": person_url(person.pk, self.why),
            },
        )
        response["Cache-Control"] = "no-store"
        return response


class VerifyView(PersonAction):
    """Record an itinerary verification, remotely (the person cannot come in) or in person."""

    form_class = VerificationForm
    title = gettext_lazy("Record an itinerary verification")
    submit = gettext_lazy("Record")
    intro = gettext_lazy(
        "Recording a verification does not release anything: it is the first item of a release's checklist."
    )

    def load(self, ref: str):
        self.person = person = visible_person(self.request.user, ref, "itinerary.verify")
        self.declarations = list(
            ItineraryDeclaration.objects.filter(person=person)
            .prefetch_related("places__area")
            .order_by("-submitted_at")[:20]
        )

    def get_form_kwargs(self) -> dict:
        return {
            "declarations": [
                (
                    d,
                    f"{d.submitted_at.astimezone(LOCAL_TZ):%Y-%m-%d %H:%M} · "
                    + "、".join(p.area.full_name for p in d.places.all()),
                )
                for d in self.declarations
            ]
        }

    def perform(self, form) -> str:
        chosen = form.cleaned_data.get("declaration")
        services.itinerary_verify(
            actor=self.request.user,
            person=self.person,
            note=form.cleaned_data["note"],
            remote=form.cleaned_data["remote"],
            declaration=next((d for d in self.declarations if d.pk == chosen), None),
            origin="admin",
        )
        return _("Itinerary verification recorded.")


class RegistrationDecideView(PersonAction):
    """Decide a returnee's registration: home observation, or no isolation (optionally releasing
    the person's active popups with the checklist)."""

    form_class = RegistrationDecisionForm
    title = gettext_lazy("Decide a community registration")
    submit = gettext_lazy("Decide")

    def load(self, registration_id: int):
        user = self.request.user
        self.registration = registration = services.registration_visible(user, registration_id)
        access.require(user, "registration.decide", registration)
        self.person = registration.person

    def perform(self, form) -> str:
        data = form.cleaned_data
        decided = services.registration_decide(
            actor=self.request.user,
            registration_id=self.registration.pk,
            decision=data["decision"],
            note=data["note"],
            observation_days=data.get("observation_days"),
            checklist=form.service_checklist(),
            origin="admin",
        )
        return _("Registration decided: %(decision)s.") % {"decision": decided.get_status_display()}

    def get_intro(self) -> str:
        registration = self.registration
        arriving = registration.arriving_at.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M")
        return _("Registered with %(community)s, arriving %(when)s from %(area)s.") % {
            "community": registration.community.name,
            "when": arriving,
            "area": registration.from_area.full_name if registration.from_area_id else "-",
        }


class CommunityView(PersonAction):
    """Set a person's community of residence: take them in, or move them away (SPEC §7), a manual
    change with a reason (`services.person_change`). A refusal of the community chosen is said
    on that field."""

    form_class = CommunityForm
    title = gettext_lazy("Community of residence")
    submit = gettext_lazy("Save")
    intro = gettext_lazy(
        "A community takes in a person who has no community into its own, or moves its own resident away; "
        "the CDC sets any community. The change is audited with your reason."
    )
    invalid_status = 400

    def load(self, ref: str):
        self.person = visible_person(self.request.user, ref, "person.set_community")

    def get_form_kwargs(self) -> dict:
        communities = Organisation.objects.filter(kind=OrgKind.COMMUNITY, is_active=True).order_by("code")
        return {"communities": communities, "initial": {"community": self.person.community_id}}

    def perform(self, form) -> Done:
        user, person = self.request.user, self.person
        services.person_change(
            actor=user,
            person=person,
            community=form.cleaned_data["community"],
            reason=form.cleaned_data["reason"],
            origin="admin",
        )
        # Moved away from the user's own community, the person is no longer theirs to see.
        still_seen = Person.objects.visible_to(user).filter(pk=person.pk).exists()
        return Done(
            _("The community of residence was changed."),
            url=person_url(person.pk, self.why) if still_seen else reverse("admin:index"),
        )

    def refused(self, exc, form=None):
        if form is not None and isinstance(exc, NotPermitted):
            form.add_error("community", exc.message)
            return self.show(form, status=self.invalid_status)
        return super().refused(exc, form)
