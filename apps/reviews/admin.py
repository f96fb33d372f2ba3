"""The auditors' review queue in the admin (SPEC §5): every release's review, filtered by status,
finding, whether it awaits a decision, who released and when; a flagged review is confirmed or
referred to the CDC with a reason (one at a time from its page, or the selected ones at once), and
a CDC officer closes a referral once handled — the screens of `admin_views.py`, each a service
call (`apps.reviews.services`); nothing here writes a row. The release's own page shows its review (an inline added to the
release admin here, so the status app's admin needs nothing of this one)."""

from django.contrib import admin, messages
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from apps.accounts import access
from apps.accounts.models import User
from apps.core.admin import BaseAdmin, ReadOnlyInline, ViewOnlyMixin, pretty_json
from apps.core.admin_actions import admin_action
from apps.status.models import Release

from .admin_views import MAX_SELECTED, ReferralCloseView, ReviewDecideView, decisions_html, findings_html
from .choices import DecisionKind, FindingCode
from .models import ReleaseReview, ReviewDecision
from .selectors import decisions_of


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
        return findings_html(obj)

    @admin.display(description=_("decisions"))
    def decisions_display(self, obj):
        return decisions_html(obj)

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
        return findings_html(obj)

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
