"""The auditors' review queue in the admin (SPEC §5): every release's review, filtered by status,
finding, whether it awaits a decision, who released and when; a flagged review is confirmed or
referred to the CDC with a reason (one at a time from its page, or the selected ones at once), and
a CDC officer closes a referral once handled. Each is a service call (`apps.reviews.services`);
nothing here writes a row. The release's own page shows its review (an inline added to the
release admin here, so the status app's admin needs nothing of this one)."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from apps.accounts import access
from apps.accounts.models import User
from apps.core.admin import BaseAdmin, ReadOnlyInline, ViewOnlyMixin, pretty_json
from apps.core.admin_actions import ActionView, Done, admin_action, error_text
from apps.core.errors import DomainError
from apps.status.models import Release

from . import services
from .choices import AUDITOR_DECISIONS, DecisionKind, FindingCode
from .models import ReleaseReview, ReviewDecision
from .selectors import decisions_of, finding_message

MAX_SELECTED = 200  # reviews decided at once from the list


class FindingCodeFilter(admin.SimpleListFilter):
    title = _("finding")
    parameter_name = "code"

    def lookups(self, request, model_admin):
        return FindingCode.choices

    def queryset(self, request, queryset):
        if self.value() in FindingCode.values:
            return queryset.filter(codes__contains=f",{self.value()},")
        return queryset


class ReleasedByFilter(admin.SimpleListFilter):
    title = _("released by")
    parameter_name = "actor"

    def lookups(self, request, model_admin):
        actors = User.objects.filter(pk__in=Release.objects.values("actor_id")).order_by("username")
        return [(u.username, u.username) for u in actors[:200]]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(release__actor__username=self.value())
        return queryset


def _findings_html(review: ReleaseReview):
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


def _decisions_html(review: ReleaseReview):
    decisions = list(review.decisions.select_related("actor").order_by("at", "pk"))
    if not decisions:
        return "-"
    return format_html(
        "<ul class='review-decisions'>{}</ul>",
        format_html_join(
            "",
            "<li data-kind='{}'>{} · {} · {:%Y-%m-%d %H:%M} · {}</li>",
            ((d.kind, d.get_kind_display(), d.actor.get_username(), d.at, d.reason) for d in decisions),
        ),
    )


@admin.register(ReleaseReview)
class ReleaseReviewAdmin(ViewOnlyMixin, BaseAdmin):
    change_form_template = "reviews/admin/change_form.html"
    list_display = (
        "release_link",
        "person",
        "popup",
        "released_by",
        "released_at",
        "status",
        "finding_names",
        "awaiting_decision",
        "referral_open",
    )
    list_filter = (
        "status",
        "awaiting_decision",
        "referral_open",
        FindingCodeFilter,
        ReleasedByFilter,
        ("release__created_at", admin.DateFieldListFilter),
    )
    list_select_related = ("release", "release__person", "release__actor")
    show_full_result_count = False
    fields = (
        "release_link",
        "person",
        "popup",
        "released_by",
        "released_at",
        "status",
        "findings_display",
        "decisions_display",
        "awaiting_decision",
        "referral_open",
        "reviewed_at",
        "rechecked_at",
        "reraised_at",
        "reviewed_against_display",
    )
    readonly_fields = fields
    actions = ("decide_selected",)

    # --- who sees what: the access layer ---

    def get_queryset(self, request):
        return access.visible_to(request.user, super().get_queryset(request))

    def has_module_permission(self, request):
        return access.may(request.user, "release_review.view")

    def has_view_permission(self, request, obj=None):
        return access.may(request.user, "release_review.view")

    def has_decide_permission(self, request):
        return access.may(request.user, "release_review.decide")

    # --- columns ---

    @admin.display(description=_("release"), ordering="release")
    def release_link(self, obj):
        url = reverse("admin:status_release_change", args=[obj.release_id])
        return format_html('<a href="{}">#{}</a>', url, obj.release_id)

    @admin.display(description=_("person"))
    def person(self, obj):
        person = obj.release.person
        return f"{person.display_name or '-'} {person.display_id}"

    @admin.display(description=_("popup"), ordering="release__popup_number")
    def popup(self, obj):
        return obj.release.popup_number

    @admin.display(description=_("released by"), ordering="release__actor__username")
    def released_by(self, obj):
        return obj.release.actor.get_username()

    @admin.display(description=_("released at"), ordering="release__created_at")
    def released_at(self, obj):
        return obj.release.created_at

    @admin.display(description=_("findings"))
    def finding_names(self, obj):
        return ", ".join(str(FindingCode(c).label) for c in obj.finding_codes if c in FindingCode.values) or "-"

    @admin.display(description=_("findings"))
    def findings_display(self, obj):
        return _findings_html(obj)

    @admin.display(description=_("decisions"))
    def decisions_display(self, obj):
        return _decisions_html(obj)

    @admin.display(description=_("reviewed against"))
    def reviewed_against_display(self, obj):
        return pretty_json(obj.reviewed_against)

    # --- deciding ---

    @admin.action(description=_("Confirm or refer the selected reviews"), permissions=["decide"])
    def decide_selected(self, request, queryset):
        ids = list(queryset.filter(awaiting_decision=True).values_list("pk", flat=True)[:MAX_SELECTED])
        if not ids:
            self.message_user(request, _("None of the selected reviews awaits a decision."), messages.WARNING)
            return None
        from django.shortcuts import redirect

        return redirect(
            reverse("admin:reviews_releasereview_decide") + "?" + urlencode({"ids": ",".join(map(str, ids))})
        )

    def get_urls(self):
        urls = [
            path("decide/", admin_action(ReviewDecideView, model_admin=self), name="reviews_releasereview_decide"),
            path(
                "<int:release_id>/close/",
                admin_action(ReferralCloseView, model_admin=self),
                name="reviews_releasereview_close",
            ),
        ]
        return urls + super().get_urls()

    def change_view(self, request, object_id, form_url="", extra_context=None):
        review = self.get_object(request, object_id)
        extra = dict(extra_context or {})
        if review is not None:
            user = request.user
            if review.awaiting_decision and access.may(user, "release_review.decide"):
                extra["decide_url"] = reverse("admin:reviews_releasereview_decide") + f"?ids={review.pk}"
            if review.referral_open and access.may(user, "release_review.close"):
                extra["close_url"] = reverse("admin:reviews_releasereview_close", args=[review.pk])
        return super().change_view(request, object_id, form_url, extra_context=extra)


@admin.register(ReviewDecision)
class ReviewDecisionAdmin(ViewOnlyMixin, BaseAdmin):
    """Every decision on a review, as it was taken (append-only)."""

    list_display = ("at", "review", "kind", "actor", "actor_org", "reason")
    list_filter = ("kind", ("at", admin.DateFieldListFilter))
    list_select_related = ("review", "actor", "actor_org")
    fields = ("review", "kind", "actor", "actor_org", "reason", "codes", "at")
    readonly_fields = fields

    def get_queryset(self, request):
        seen = access.visible_to(request.user, ReleaseReview.objects.all())
        return super().get_queryset(request).filter(review__in=seen)

    def has_module_permission(self, request):
        return access.may(request.user, "release_review.view")

    def has_view_permission(self, request, obj=None):
        return access.may(request.user, "release_review.view")


# --- the decision screens ------------------------------------------------------------------------


class DecisionForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Decision"),
        choices=[(k.value, k.label) for k in AUDITOR_DECISIONS],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)
    ids = forms.CharField(widget=forms.HiddenInput, required=False)


class CloseForm(forms.Form):
    reason = forms.CharField(label=_("What the CDC did"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)


class ReviewDecideView(ActionView):
    """Confirm the selected flagged reviews, or refer them to the CDC, with one reason: one
    decision and one audit event each. A review decided meanwhile is reported, not decided twice."""

    form_class = DecisionForm
    template_name = "reviews/admin/decide.html"
    title = _("Decide release reviews")

    def load(self, **kwargs):
        access.require(self.request.user, "release_review.decide")
        raw = self.request.POST.get("ids") or self.request.GET.get("ids") or ""
        ids = [int(x) for x in raw.split(",") if x.strip().isdigit()][:MAX_SELECTED]
        self.reviews = list(
            access.visible_to(self.request.user, ReleaseReview.objects.all())
            .filter(pk__in=ids)
            .select_related("release", "release__person", "release__actor")
            .order_by("pk")
        )
        if not self.reviews:
            from apps.core.errors import NotFoundInJurisdiction

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
        rows = [{"review": r, "findings": _findings_html(r)} for r in self.reviews]
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
            from apps.core.errors import NotFoundInJurisdiction

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
        rows = [{"review": self.review, "findings": _findings_html(self.review), "decision": decision}]
        return {**super().get_context_data(form), "rows": rows, "back_url": self._back(), "decide": False}


# --- the release's own page shows its review -------------------------------------------------------


class ReleaseReviewInline(ReadOnlyInline):
    model = ReleaseReview
    fk_name = "release"
    verbose_name = _("review")
    verbose_name_plural = _("review")
    fields = ("review_link", "status", "findings_display", "decision_display")
    readonly_fields = fields
    can_delete = False

    def has_view_permission(self, request, obj=None):
        return access.may(request.user, "release_review.view")

    @admin.display(description=_("review"))
    def review_link(self, obj):
        url = reverse("admin:reviews_releasereview_change", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, obj.get_status_display())

    @admin.display(description=_("findings"))
    def findings_display(self, obj):
        return _findings_html(obj)

    @admin.display(description=_("decision"))
    def decision_display(self, obj):
        decision, closed = decisions_of(obj)
        if decision is None:
            return _("awaiting an auditor") if obj.awaiting_decision else "-"
        text = f"{decision.get_kind_display()} · {decision.actor.get_username()} · {decision.reason}"
        if closed is not None:
            text += f" · {DecisionKind.CLOSED.label}: {closed.reason}"
        return text


_release_admin = admin.site._registry.get(Release)
if _release_admin is not None and ReleaseReviewInline not in _release_admin.inlines:
    _release_admin.inlines = (*_release_admin.inlines, ReleaseReviewInline)
