"""The shared admin: the site's titles and the bases every app's admin builds on.

The admin is a thin, fast window on the data (STYLE habit 6). It never shows personal data in
clear (SPEC §7): persons appear by their masked name and ID, hashes and ciphertexts are never
displayed, and the history pages hide what the change pages hide. Which persons a user may see is
decided in one place, `Person.objects.visible_to(user)`; every admin of a model that belongs to a
person goes through `apps.people.admin.PersonScopedAdminMixin`. Facts and manual changes are
written by services, so most admins here are view-only; where the admin creates a row it hands the
input to the service (`ServiceCreateMixin`).

Core is the ground of the layers (pyproject.toml): these bases import no other app. A correction
by hand reaches casework through a door (`apps.core.doors.casework_record_corrected`).
"""

import dataclasses
import json

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import flatten_fieldsets, unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.backends.base.operations import BaseDatabaseOperations
from django.http import Http404
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin
from simple_history.template_utils import HistoricalRecordContextHelper
from simple_history.utils import get_history_model_for_model

from . import doors
from .admin_privacy import PrivateListMixin
from .forms import validate_date

admin.site.site_header = _("Health Kit case portal")
admin.site.site_title = _("Health Kit case portal")
admin.site.index_title = _("Case work")

# Never shown anywhere in the admin, whatever a ModelAdmin's fields say: look-up hashes and
# ciphertexts of ID and phone numbers, token digests and password hashes.
SENSITIVE_FIELDS = frozenset(
    {
        "id_hash",
        "id_encrypted",
        "number_hash",
        "number_encrypted",
        "caller_phone_encrypted",
        "phone_hash",
        "digest",
        "password",
    }
)

# Lists of these tables hold millions of rows: no unfiltered COUNT(*), short pages.
BIG_TABLE_PAGE = 50


def pretty_json(value) -> str:
    """A JSON value as readable, escaped text for a read-only field."""
    if value in (None, "", [], {}):
        return "-"
    return format_html('<pre class="portal-json">{}</pre>', json.dumps(value, ensure_ascii=False, indent=2))


def state_dot(status, empty: str = "-"):
    """A person's status (a `PersonStatus`, or None when never computed) as its coloured dot and
    its state's label (classes from portal.css: no inline style, which the Content Security Policy
    refuses)."""
    if status is None or not status.state:
        return empty
    return format_html('<span class="portal-dot dot-{}">● {}</span>', status.state, status.get_state_display())


def key_value(field, raw: str):
    """`raw` (an id from a URL) as a value of the key `field`, or None when no row can have it: not
    of the key's type (`abc` for a number), or a number past the key's column (SQLite's driver
    raises OverflowError on it, a 500)."""
    try:
        value = field.to_python(raw)
    except (ValidationError, ValueError, TypeError):
        return None
    key = field.target_field if field.is_relation else field
    bounds = BaseDatabaseOperations.integer_field_ranges.get(key.get_internal_type())
    if value is None or (bounds and not bounds[0] <= value <= bounds[1]):
        return None
    return value


class BaseAdmin(PrivateListMixin, admin.ModelAdmin):
    """Every admin of the portal: lists filter by their declared filters only, and searches stay
    out of the address (`apps.core.admin_privacy`)."""

    save_on_top = False
    empty_value_display = "-"

    def get_object(self, request, object_id, from_field=None):
        """None (the admin's "does not exist") for an id no row can have, before any query."""
        field = self.model._meta.pk if from_field is None else self.model._meta.get_field(from_field)
        if key_value(field, object_id) is None:
            return None
        return super().get_object(request, object_id, from_field)

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        """Every date and time a model form takes is bounded (`apps.core.forms`): a year 9999
        saved by hand would overflow the first window computed from it."""
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if field is not None and isinstance(db_field, models.DateField):  # DateTimeField too
            field.validators.append(validate_date)
        return field


class BigTableMixin:
    """Tables with millions of rows (persons, phones, stays, lab results, events, statuses): no
    second, unfiltered count, shorter pages, newest first by primary key (indexed)."""

    show_full_result_count = False
    # Facet counts ("show counts") are one COUNT per filter choice over the whole table.
    show_facets = admin.ShowFacets.NEVER
    list_per_page = BIG_TABLE_PAGE
    ordering = ("-pk",)
    # Sorting millions of rows by an unindexed column is what makes a list slow: newest first only.
    sortable_by = ()


class ViewOnlyMixin:
    """Nobody adds, changes or deletes these rows in the admin: they are computed, or written by
    a service that records who, when and why."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class AppendOnlyMixin(ViewOnlyMixin):
    """Append-only records (the audit, releases, status transitions, appeal events): they can
    never be edited or deleted, by anyone (SPEC §5)."""


class SuperuserWritesMixin:
    """Facts come through feeds and services; only a superuser may correct a row by hand, and a
    correction is a manual change (SPEC §5): it needs a written reason, is audited, and makes the
    statuses it can affect recompute (`apps.casework.services.record_corrected`, through the door
    `casework_record_corrected`). Nothing accepted is ever deleted."""

    def has_add_permission(self, request):
        return request.user.is_superuser and super().has_add_permission(request)

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    def get_form(self, request, obj=None, change=False, **kwargs):
        if request.user.is_superuser:
            base = kwargs.get("form", self.form)
            kwargs["form"] = type(
                f"Correction{base.__name__}",
                (base,),
                {
                    "correction_reason": forms.CharField(
                        label=_("reason for this correction"),
                        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
                        help_text=_("Required: the change is audited with this reason."),
                    )
                },
            )
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fieldsets(self, request, obj=None):
        fieldsets = list(super().get_fieldsets(request, obj))
        if request.user.is_superuser and "correction_reason" not in flatten_fieldsets(fieldsets):
            fieldsets.append((_("Correction"), {"fields": ["correction_reason"]}))
        return fieldsets

    def save_model(self, request, obj, form, change):
        reason = (form.cleaned_data.get("correction_reason") or "").strip()
        obj._change_reason = reason
        previous = form.initial.get("person") if change else None
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            doors.casework_record_corrected(
                actor=request.user,
                obj=obj,
                reason=reason,
                fields=[f for f in form.changed_data if f != "correction_reason"],
                created=not change,
                previous_person_id=previous if isinstance(previous, int) else None,
            )


class NoDeleteMixin:
    def has_delete_permission(self, request, obj=None):
        return False


class ServiceCreateMixin:
    """The add form only collects the input; `create_with_service` hands it to the service that
    writes the row (and its audit event, ingestion and fan-out). Such rows are never changed."""

    def create_with_service(self, request, form):  # pragma: no cover - every subclass defines it
        raise NotImplementedError

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if change:
            raise PermissionDenied
        created = self.create_with_service(request, form)
        # The admin goes on with `obj` (the log entry, the redirect): make it the created row.
        for field in obj._meta.concrete_fields:
            setattr(obj, field.attname, getattr(created, field.attname))
        obj._state.adding = False
        obj._state.db = created._state.db


class _ShownFieldsHelper(HistoricalRecordContextHelper):
    """Formats a history entry's changes, keeping only the fields the admin shows."""

    def __init__(self, model, historical_record, *, shown):
        super().__init__(model, historical_record)
        self.shown = shown

    def context_for_delta_changes(self, delta):
        changes = [change for change in delta.changes if change.field in self.shown]
        return super().context_for_delta_changes(dataclasses.replace(delta, changes=changes))


class HistoryAdmin(SimpleHistoryAdmin, BaseAdmin):
    """The admin of a model with row history. The history pages show only the fields the change
    page shows (never a clear name, a hash or a ciphertext), honour the same visibility, and
    never revert: going back is a manual change, made through a service with a reason.

    An id in a history URL that the model's key cannot be (`abc` for a number) finds nothing (404),
    as the change page does, instead of failing in the query (500). A proxy model (a screen on
    another model's rows: current guests, the hotels overview) shows its rows' history, which
    django-simple-history records on the concrete model only."""

    def __init__(self, model, admin_site):
        super().__init__(model, admin_site)
        opts, concrete = model._meta, model._meta.concrete_model._meta
        if opts.proxy and not hasattr(opts, "simple_history_manager_attribute"):
            opts.simple_history_manager_attribute = concrete.simple_history_manager_attribute

    def revert_disabled(self, request, obj=None):
        return True

    @staticmethod
    def _readable_key(field, value: str) -> None:
        """Http404 unless `value` can be a value of the key `field`."""
        if key_value(field, value) is None:
            raise Http404

    def _shown_fields(self, request, obj) -> set[str]:
        fields = set(flatten_fieldsets(self.get_fieldsets(request, obj)))
        return fields - SENSITIVE_FIELDS

    def set_history_delta_changes(self, request, historical_records, foreign_keys_are_objs=True):
        records = list(historical_records)
        obj = records[0].instance if records else None
        request._history_shown_fields = self._shown_fields(request, obj)
        super().set_history_delta_changes(request, historical_records, foreign_keys_are_objs)

    def get_historical_record_context_helper(self, request, historical_record):
        shown = getattr(request, "_history_shown_fields", None)
        if shown is None:
            shown = self._shown_fields(request, historical_record.instance)
        return _ShownFieldsHelper(self.model, historical_record, shown=shown)

    def _ensure_visible(self, request, object_id) -> None:
        if request.user.is_superuser:
            return
        if not self.get_queryset(request).filter(pk=unquote(object_id)).exists():
            raise Http404

    def history_view(self, request, object_id, extra_context=None):
        self._readable_key(self.model._meta.pk, unquote(object_id))
        self._ensure_visible(request, object_id)
        try:
            return super().history_view(request, object_id, extra_context)
        except self.model._meta.concrete_model.DoesNotExist:
            # A proxy's list may hold its concrete model's rows (current guests are hotel stays):
            # their DoesNotExist is not the proxy's, which django-simple-history expects.
            raise Http404 from None

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method == "POST":
            raise PermissionDenied
        self._readable_key(self.model._meta.pk, unquote(object_id))
        self._readable_key(get_history_model_for_model(self.model)._meta.pk, version_id)
        self._ensure_visible(request, object_id)
        return super().history_form_view(request, object_id, version_id, extra_context)


class ReadOnlyInline(admin.TabularInline):
    """A read-only table of related rows inside a change page."""

    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
