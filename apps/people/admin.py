"""Admin of persons and their phone numbers: masked, searchable by the full ID number, and
limited to the persons the user may see (SPEC §7)."""

from collections.abc import Callable

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from apps.accounts import access
from apps.accounts.throttling import lookup_check
from apps.audit.services import access_log_record
from apps.core.admin import BigTableMixin, HistoryAdmin, ReadOnlyInline, SuperuserWritesMixin, state_dot
from apps.core.clock import local_date, now
from apps.core.errors import TooManyLookups

from .models import Person, Phone
from .selectors import person_id_hashes
from .services import phone_hash

# What other apps add to the person page, the one place staff look at a person: each panel is a
# callable `(request, person, why) -> dict` merged into the page's context (casework adds the
# status with its reasons, the evidence timeline and the actions; see apps.casework.admin). The
# people app stays unaware of the apps that build on it.
PERSON_PAGE_PANELS: list[Callable[..., dict]] = []


class PersonIdSearchMixin:
    """Search also finds rows by their person's full ID number (through its look-up hash) or
    reference. `person_path` is the lookup from the model to its person."""

    person_path = "person"

    def get_search_results(self, request, queryset, search_term):
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        term = (search_term or "").strip()
        if not term:
            return results, may_have_duplicates
        match = Q(ref=term)
        hashes = person_id_hashes(term)
        if hashes:
            try:  # testing ID numbers is rate-limited like every other door (SPEC §7)
                lookup_check(request.user, "person_search")
            except TooManyLookups as exc:
                messages.error(request, exc.message)
                return queryset.none(), False
            match |= Q(id_hash__in=hashes)
        by_person = queryset.filter(**{f"{self.person_path}__in": Person.objects.filter(match).values("pk")})
        return results | by_person, may_have_duplicates


class PersonScopedAdminMixin(PersonIdSearchMixin):
    """The one mixin for every admin of a model that belongs to a person (stays, lab results,
    events, arrivals, orders, associations, declarations, statuses, popups, releases,
    registrations, hotel stays, appeals…): a user other than a superuser sees only the rows of
    the persons `Person.objects.visible_to(user)` lets them see (SPEC §7)."""

    # Rows that are part of the audit (releases and their files are manual changes): auditors
    # read every one of them (SPEC §5, §7), whoever the person.
    audit_record = False

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if self.audit_record and access.may(request.user, "audit.read"):
            return queryset
        return access.visible_to(request.user, queryset, person_path=self.person_path)


class PhoneInline(ReadOnlyInline):
    model = Phone
    fields = ("display_number", "channel", "bound_at", "unbound_at")
    readonly_fields = fields


@admin.register(Person)
class PersonAdmin(BigTableMixin, HistoryAdmin):
    """Persons come from feeds and services, never from an add form; nobody edits or deletes one
    here (a community of residence is changed on the person page's "Community of residence"
    action, through `apps.casework.services.person_change`). The name and ID number appear
    masked only; the full ID number finds a person by its hash, and the first characters of the
    name only for the roles that see names in clear (SPEC §7)."""

    list_display = ("display_name", "display_id", "id_type", "state", "community", "ref", "created_at")
    list_display_links = ("display_name", "display_id")
    list_filter = ("id_type", "status__state", ("community", admin.EmptyFieldListFilter))
    search_fields = ("ref__exact", "name__startswith")
    search_help_text = _("The full ID number, the first characters of the name, or the reference.")
    list_select_related = ("community", "status")
    autocomplete_fields = ("community",)
    readonly_fields = (
        "display_name",
        "display_id",
        "id_type",
        "age",
        "state",
        "ref",
        "community",
        "created_at",
        "updated_at",
    )
    inlines = (PhoneInline,)

    def get_fieldsets(self, request, obj=None):
        main = ["display_name", "display_id", "id_type", "age", "ref", "state", "community"]
        return (
            (None, {"fields": main}),
            (_("timestamps"), {"fields": ("created_at", "updated_at"), "classes": ("collapse",)}),
        )

    def get_queryset(self, request):
        return super().get_queryset(request).visible_to(request.user)

    def get_object(self, request, object_id, from_field=None):
        # As in the API, role first (403), then jurisdiction: a person outside it is not found
        # (404), where the admin would otherwise redirect to the index with a message.
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            if not self.has_view_or_change_permission(request):
                raise PermissionDenied
            raise Http404(_("No such person."))
        return obj

    def get_search_results(self, request, queryset, search_term):
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        hashes = person_id_hashes(search_term or "")
        if hashes:
            # Testing ID numbers is rate-limited like every other door (SPEC §7).
            try:
                lookup_check(request.user, "person_search")
            except TooManyLookups as exc:
                messages.error(request, exc.message)
                return queryset.none(), False
            results = results | queryset.filter(id_hash__in=hashes)
        return results, may_have_duplicates

    def get_search_fields(self, request):
        # A masked name must not be recoverable one prefix at a time (`?q=王小`): only the roles
        # that see names in clear search by them.
        if access.may(request.user, "person.reveal"):
            return self.search_fields
        return ("ref__exact",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("status"))
    def state(self, obj):
        return state_dot(getattr(obj, "status", None))  # None when never computed

    @admin.display(description=_("age"))
    def age(self, obj):
        if obj.birth_date is None:
            return None
        today = local_date(now())
        born = obj.birth_date
        return today.year - born.year - ((today.month, today.day) < (born.month, born.day))

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and change:
            why = (request.GET.get("why") or "").strip()
            if request.method == "GET":
                access_log_record(actor=request.user, person=obj, why=why or "admin: person page", via="admin")
            context["person_records"] = self._record_links(request, obj)
            for panel in PERSON_PAGE_PANELS:
                context.update(panel(request, obj, why))
        return super().render_change_form(request, context, add, change, form_url, obj)

    def _record_links(self, request, obj) -> list[tuple[str, str]]:
        """Links to the lists of this person's records the user may open (stays, tests, orders…)."""
        links = []
        for model, model_admin in self.admin_site._registry.items():
            if not isinstance(model_admin, PersonScopedAdminMixin) or model_admin.person_path != "person":
                continue
            if not model_admin.has_view_or_change_permission(request):
                continue
            opts = model._meta
            try:
                url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
            except NoReverseMatch:
                continue
            links.append((str(opts.verbose_name_plural), f"{url}?person__id__exact={obj.pk}"))
        return sorted(links)


@admin.register(Phone)
class PhoneAdmin(PersonScopedAdminMixin, SuperuserWritesMixin, BigTableMixin, HistoryAdmin):
    """Numbers are bound through the services (only their hash and ciphertext are stored)."""

    list_display = ("display_number", "person", "channel", "bound_at", "unbound_at")
    list_filter = ("channel", ("unbound_at", admin.EmptyFieldListFilter))
    search_fields = ("person__ref__exact",)
    search_help_text = _("The full phone number, or the person's full ID number or reference.")
    list_select_related = ("person",)
    autocomplete_fields = ("person",)
    fields = ("person", "display_number", "channel", "bound_at", "unbound_at", "created_at", "updated_at")
    readonly_fields = ("person", "display_number", "created_at", "updated_at")

    def has_add_permission(self, request):
        return False

    def get_search_results(self, request, queryset, search_term):
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        try:
            digest = phone_hash(search_term or "")
        except ValidationError:
            return results, may_have_duplicates
        return results | queryset.filter(number_hash=digest), may_have_duplicates
