"""Admin of organisations, staff users, partner systems and API tokens."""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from apps.core.admin import BaseAdmin, HistoryAdmin, NoDeleteMixin
from apps.core.clock import now

from . import services
from .choices import Scope
from .models import ApiToken, Organisation, PartnerSystem, User


@admin.register(Organisation)
class OrganisationAdmin(HistoryAdmin):
    list_display = ("name", "code", "kind", "area", "parent", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("code__exact", "name")
    list_select_related = ("area", "parent")
    autocomplete_fields = ("area", "parent")
    fieldsets = (
        (None, {"fields": ("code", "kind", "name", "area", "parent", "is_active")}),
        (_("timestamps"), {"fields": ("created_at", "updated_at"), "classes": ("collapse",)}),
    )
    readonly_fields = ("created_at", "updated_at")


class StaffCreationForm(AdminUserCreationForm):
    class Meta(AdminUserCreationForm.Meta):
        model = User
        fields = ("username", "role", "organisation")


class StaffChangeForm(UserChangeForm):
    class Meta(UserChangeForm.Meta):
        model = User


@admin.register(User)
class UserAdmin(HistoryAdmin, DjangoUserAdmin):
    """Staff users: one role and one organisation each (SPEC §6–7)."""

    form = StaffChangeForm
    add_form = StaffCreationForm
    list_display = (
        "username",
        "role",
        "organisation",
        "last_name",
        "first_name",
        "is_staff",
        "is_active",
        "last_login",
    )
    list_filter = ("role", "organisation__kind", "is_staff", "is_superuser", "is_active")
    search_fields = ("username", "first_name", "last_name", "email", "organisation__code__exact")
    list_select_related = ("organisation",)
    autocomplete_fields = ("organisation",)
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("role"), {"fields": ("role", "organisation")}),
        (_("Personal info"), {"fields": ("first_name", "last_name", "email")}),
        (
            _("Permissions"),
            {
                "fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions"),
                "classes": ("collapse",),
            },
        ),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username", "usable_password", "password1", "password2")}),
        (_("role"), {"fields": ("role", "organisation")}),
    )
    readonly_fields = ("last_login", "date_joined")
    actions = ("unlock_logins", "reset_second_factor")

    def has_security_permission(self, request):
        return request.user.is_superuser

    @admin.action(description=_("Unlock login after failed attempts"), permissions=["security"])
    def unlock_logins(self, request, queryset):
        count = services.login_lockout_reset(users=list(queryset), actor=request.user)
        self.message_user(
            request,
            ngettext("%(count)d locked login lifted.", "%(count)d locked logins lifted.", count) % {"count": count},
            messages.SUCCESS,
        )

    @admin.action(description=_("Reset second factor (lost phone)"), permissions=["security"])
    def reset_second_factor(self, request, queryset):
        for user in queryset:
            services.second_factor_reset(user=user, actor=request.user)
        self.message_user(
            request,
            _("Their authenticators are removed; they set up a new one at their next login."),
            messages.SUCCESS,
        )


class PartnerSystemForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        label=_("scopes"), choices=Scope.choices, widget=forms.CheckboxSelectMultiple, required=False
    )

    class Meta:
        model = PartnerSystem
        fields = ("name", "scopes", "is_active")


@admin.register(PartnerSystem)
class PartnerSystemAdmin(NoDeleteMixin, HistoryAdmin):
    """Partner systems are created with their service user and first token by the
    `create_partner` command (the token is shown once, there); here their scopes are kept."""

    form = PartnerSystemForm
    list_display = ("name", "scope_list", "user", "is_active", "updated_at")
    list_filter = ("is_active",)
    search_fields = ("name",)
    list_select_related = ("user",)
    fields = ("name", "scopes", "is_active", "user", "created_at", "updated_at")
    readonly_fields = ("name", "user", "created_at", "updated_at")

    def has_add_permission(self, request):
        return False

    @admin.display(description=_("scopes"))
    def scope_list(self, obj):
        labels = dict(Scope.choices)
        return ", ".join(str(labels.get(s, s)) for s in obj.scopes) or "-"


@admin.register(ApiToken)
class ApiTokenAdmin(BaseAdmin):
    """Tokens are issued by the commands; here they are seen and revoked. The digest is never shown."""

    list_display = ("prefix", "user", "is_usable", "created_at", "expires_at", "revoked_at", "last_used_at")
    list_filter = (("revoked_at", admin.EmptyFieldListFilter), "created_at")
    search_fields = ("prefix__exact", "user__username")
    list_select_related = ("user",)
    fields = ("prefix", "user", "created_at", "expires_at", "revoked_at", "last_used_at")
    readonly_fields = fields
    actions = ("revoke",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_revoke_permission(self, request):
        return request.user.has_perm("accounts.change_apitoken")

    @admin.display(description=_("usable"), boolean=True)
    def is_usable(self, obj):
        return obj.is_usable(now())

    @admin.action(description=_("Revoke the selected tokens"), permissions=["revoke"])
    def revoke(self, request, queryset):
        count = services.api_tokens_revoke(tokens=queryset, actor=request.user, origin="admin")
        self.message_user(
            request,
            ngettext("%(count)d token revoked.", "%(count)d tokens revoked.", count) % {"count": count},
            messages.SUCCESS,
        )
