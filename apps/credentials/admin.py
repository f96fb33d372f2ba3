"""The trust list in the admin (互认, SPEC §11): policy administrators add other regions and their
public keys, and end a key by its `valid_to`; auditors may read it, with its history. Every
change goes through the services (validated, audited); nothing is deleted."""

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _

from apps.core.admin import HistoryAdmin

from .models import TrustedIssuer, TrustedKey
from .services import trusted_issuer_save, trusted_key_add, trusted_key_end
from .signing import public_key_check


def _copy(obj, saved) -> None:
    """The admin goes on with `obj` (the log entry, the redirect): make it the saved row."""
    for field in obj._meta.concrete_fields:
        setattr(obj, field.attname, getattr(saved, field.attname))
    obj._state.adding = False
    obj._state.db = saved._state.db


class NoDeleteMixin:
    def has_delete_permission(self, request, obj=None):
        return False


class TrustedKeyInline(admin.TabularInline):
    model = TrustedKey
    fields = ("kid", "alg", "valid_from", "valid_to")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(TrustedIssuer)
class TrustedIssuerAdmin(NoDeleteMixin, HistoryAdmin):
    list_display = ("region", "name", "note", "updated_at")
    search_fields = ("region", "name")
    fields = ("region", "name", "note")
    inlines = [TrustedKeyInline]

    def get_readonly_fields(self, request, obj=None):
        return ("region",) if obj is not None else ()

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        saved = trusted_issuer_save(actor=request.user, region=obj.region, name=data["name"], note=data.get("note", ""))
        _copy(obj, saved)


class TrustedKeyForm(forms.ModelForm):
    class Meta:
        model = TrustedKey
        fields = ("issuer", "kid", "alg", "public_key", "valid_from", "valid_to")

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk is None and cleaned.get("public_key") and cleaned.get("alg"):
            try:
                cleaned["public_key"] = public_key_check(cleaned["public_key"], cleaned["alg"])
            except ValueError as error:
                self.add_error("public_key", _("Not a usable public key: %(error)s.") % {"error": error})
        start = cleaned.get("valid_from") or self.instance.valid_from
        end = cleaned.get("valid_to")
        if start and end and end <= start:
            self.add_error("valid_to", _("The end must come after the start."))
        return cleaned


@admin.register(TrustedKey)
class TrustedKeyAdmin(NoDeleteMixin, HistoryAdmin):
    form = TrustedKeyForm
    list_display = ("issuer", "kid", "alg", "valid_from", "valid_to")
    list_filter = ("issuer", "alg", ("valid_to", admin.EmptyFieldListFilter))
    search_fields = ("kid", "issuer__region", "issuer__name")
    list_select_related = ("issuer",)

    def get_readonly_fields(self, request, obj=None):
        # A stored key is what was trusted: only its end may move.
        return ("issuer", "kid", "alg", "public_key", "valid_from") if obj is not None else ()

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            if not self.has_change_permission(request, obj):
                raise PermissionDenied
            stored = TrustedKey.objects.select_related("issuer").get(pk=obj.pk)  # as before the form
            saved = trusted_key_end(actor=request.user, key=stored, valid_to=data.get("valid_to"))
        else:
            saved = trusted_key_add(
                actor=request.user,
                issuer=data["issuer"],
                kid=data["kid"],
                alg=data["alg"],
                public_key=data["public_key"],
                valid_from=data["valid_from"],
                valid_to=data.get("valid_to"),
            )
        _copy(obj, saved)
