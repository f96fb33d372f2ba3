"""The review screens of the admin (`apps.core.admin_actions.ActionView`s, wired by
`ReleaseReviewAdmin.get_urls`): an auditor confirms the selected flagged reviews or refers them to
the CDC with one reason, a CDC officer closes a referral; each calls its service. And the HTML of a
review's findings and decisions, which the list, the page and the release's inline show."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from apps.accounts import access
from apps.core.admin_actions import ActionView, Done, error_text
from apps.core.clock import LOCAL_TZ
from apps.core.errors import DomainError, NotFoundInJurisdiction

from . import services
from .choices import FindingCode
from .forms import CloseForm, DecisionForm
from .models import ReleaseReview
from .selectors import MAX_ID, decisions_of, finding_message

MAX_SELECTED = 200  # reviews decided at once from the list


def local(moment) -> str:
    return moment.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M")


def findings_html(review: ReleaseReview):
    if not review.findings:
        return "-"
    return format_html(
        "<ul class='review-findings'>{}</ul>",
        format_html_join(
            "",
            "<li data-code='{}'><strong>{}</strong>: {} <span class='quiet'>{}</span></li>",
            (
                (
                    f["code"],
                    FindingCode(f["code"]).label if f["code"] in FindingCode.values else f["code"],
                    finding_message(f),
                    ", ".join(f"{e['kind']} #{e['id']}" for e in f.get("evidence", [])),
                )
                for f in review.findings
            ),
        ),
    )


def decisions_html(review: ReleaseReview):
    decisions = list(review.decisions.select_related("actor").order_by("at", "pk"))
    if not decisions:
        return "-"
    return format_html(
        "<ul class='review-decisions'>{}</ul>",
        format_html_join(
            "",
            "<li data-kind='{}'>{} · {} · {} · {}</li>",
            ((d.kind, d.get_kind_display(), d.actor.get_username(), local(d.at), d.reason) for d in decisions),
        ),
    )


class ReviewDecideView(ActionView):
    """Confirm the selected flagged reviews, or refer them to the CDC, with one reason: one
    decision and one audit event each. A review decided meanwhile is reported, not decided twice."""

    form_class = DecisionForm
    template_name = "reviews/admin/decide.html"
    title = _("Decide release reviews")

    def load(self, **kwargs):
        access.require(self.request.user, "release_review.decide")
        raw = self.request.POST.get("ids") or self.request.GET.get("ids") or ""
        ids = [int(x) for x in raw.split(",") if x.strip().isdigit() and 0 < int(x) <= MAX_ID][:MAX_SELECTED]
        self.reviews = list(
            access.visible_to(self.request.user, ReleaseReview.objects.all())
            .filter(pk__in=ids)
            .select_related("release", "release__person", "release__actor")
            .order_by("pk")
        )
        if not self.reviews:
            raise NotFoundInJurisdiction(_("No such release review."))
        return None

    def get_form(self):
        form = super().get_form()
        if not form.is_bound:
            form.initial["ids"] = ",".join(str(r.pk) for r in self.reviews)
        return form

    def perform(self, form):
        kind, reason = form.cleaned_data["kind"], form.cleaned_data["reason"]
        user = self.request.user
        if len(self.reviews) == 1:  # one review: the service's refusal goes on the form
            services.review_decide(actor=user, release_id=self.reviews[0].pk, kind=kind, reason=reason)
            return Done(_("Review of release #%(id)s decided.") % {"id": self.reviews[0].pk}, url=self._back())
        done, refused = 0, []
        for review in self.reviews:
            try:
                services.review_decide(actor=user, release_id=review.pk, kind=kind, reason=reason)
                done += 1
            except (DomainError, ValidationError) as exc:
                refused.append(f"#{review.pk}: {error_text(exc)}")
        also = ((messages.WARNING, "; ".join(refused)),) if refused else ()
        message = ngettext("%(count)d review decided.", "%(count)d reviews decided.", done) % {"count": done}
        return Done(message, url=self._back(), level=messages.SUCCESS if done else messages.WARNING, also=also)

    def _back(self) -> str:
        if len(self.reviews) == 1:
            return reverse("admin:reviews_releasereview_change", args=[self.reviews[0].pk])
        return reverse("admin:reviews_releasereview_changelist")

    def get_context_data(self, form):
        rows = [{"review": r, "findings": findings_html(r)} for r in self.reviews]
        return {**super().get_context_data(form), "rows": rows, "back_url": self._back(), "decide": True}


class ReferralCloseView(ActionView):
    """A CDC officer closes a referred review, saying what was done."""

    form_class = CloseForm
    template_name = "reviews/admin/decide.html"
    title = _("Close a referred release review")

    def load(self, release_id: int):
        access.require(self.request.user, "release_review.close")
        self.review = (
            access.visible_to(self.request.user, ReleaseReview.objects.all())
            .select_related("release", "release__person", "release__actor")
            .filter(pk=release_id)
            .first()
        )
        if self.review is None:
            raise NotFoundInJurisdiction(_("No such release review."))
        return None

    def perform(self, form):
        services.review_referral_close(
            actor=self.request.user, release_id=self.review.pk, reason=form.cleaned_data["reason"]
        )
        return Done(_("Referral of release #%(id)s closed.") % {"id": self.review.pk}, url=self._back())

    def _back(self) -> str:
        return reverse("admin:reviews_releasereview_change", args=[self.review.pk])

    def get_context_data(self, form):
        decision, _closed = decisions_of(self.review)
        rows = [{"review": self.review, "findings": findings_html(self.review), "decision": decision}]
        return {**super().get_context_data(form), "rows": rows, "back_url": self._back(), "decide": False}
