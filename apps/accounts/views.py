"""The second factor of a staff login (TOTP, django-otp): enrol an authenticator app, and enter its
code after the password. Both pages sit inside the admin's look and need a logged-in session; the
services in services.py do the work."""

import segno
from django import forms
from django.contrib import admin, messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django_otp import devices_for_user
from django_otp import login as otp_login

from . import services


class CodeForm(forms.Form):
    otp_token = forms.RegexField(
        label=gettext_lazy("Six-digit code"),
        regex=r"^\s*\d{6}\s*$",
        error_messages={"invalid": gettext_lazy("Enter the six digits your authenticator app shows.")},
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
    )


def _next(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return "admin:index"


def _page(request, template: str, context: dict) -> TemplateResponse:
    # No sidebar: nothing in it opens before the second factor is passed.
    return TemplateResponse(
        request, template, {**admin.site.each_context(request), "is_nav_sidebar_enabled": False, **context}
    )


@never_cache
@sensitive_post_parameters("otp_token")
@login_required(login_url="admin:login")
def setup(request):
    """Enrol an authenticator: scan the QR code, enter the code it shows."""
    user = request.user
    if any(devices_for_user(user, confirmed=True)) and not user.is_verified():
        return redirect("second_factor:verify")  # replacing a device needs the old one first
    device = services.second_factor_pending_device(user=user)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if services.second_factor_confirm(user=user, device=device, token=form.cleaned_data["otp_token"].strip()):
            otp_login(request, device)
            messages.success(request, _("Your authenticator is set up. It will ask for a code at each login."))
            return redirect(_next(request))
        form.add_error(
            "otp_token",
            _(
                "That code is not right, or came too soon after a wrong one: check the time on your phone, wait a moment and try again."
            ),
        )
    url = device.config_url
    return _page(
        request,
        "accounts/second_factor.html",
        {
            "title": _("Set up your second factor"),
            "form": form,
            "enrol": True,
            "qr_svg": segno.make(url, error="m").svg_inline(scale=4, dark="#1f2937"),
            "secret": _base32(device.bin_key),
            "next": request.GET.get("next", ""),
        },
    )


@never_cache
@sensitive_post_parameters("otp_token")
@login_required(login_url="admin:login")
def verify(request):
    """After the password: the code of the enrolled authenticator."""
    user = request.user
    devices = list(devices_for_user(user, confirmed=True))
    if not devices:
        return redirect("second_factor:setup")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        token = form.cleaned_data["otp_token"].strip()
        device = next((d for d in devices if d.verify_token(token)), None)
        if device is not None:
            otp_login(request, device)
            return redirect(_next(request))
        form.add_error("otp_token", _("That code is not right, or too many tries: wait a moment and try again."))
    return _page(
        request,
        "accounts/second_factor.html",
        {"title": _("Enter your one-time code"), "form": form, "enrol": False, "next": request.GET.get("next", "")},
    )


def _base32(key: bytes) -> str:
    from base64 import b32encode

    text = b32encode(key).decode().rstrip("=")
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))
