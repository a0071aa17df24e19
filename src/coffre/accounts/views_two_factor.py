"""Two-factor authentication pages: set up (QR code and secret), confirm, recovery codes, verify
a signed-in session, remove. Rules in ``services_two_factor``; compulsory for access managers
(``coffre.accounts.middleware``).

Pages that show a secret (the setup page, recovery codes) are never cached.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login

from coffre.accounts import services_two_factor as two_factor
from coffre.accounts.forms import AuthenticatorCodeForm, CodeForm, DisableTwoFactorForm
from coffre.accounts.permissions import needs_two_factor
from coffre.accounts.views import code_refused_message
from coffre.accounts.views_common import client_ip, safe_next, web_actor


def _next(request) -> str:
    return safe_next(request, request.POST.get("next") or request.GET.get("next"))


@never_cache
@login_required
@sensitive_post_parameters("code")
@require_http_methods(["GET", "POST"])
def setup(request):
    """Scan the QR code (or type the secret), then confirm with a code the app shows."""
    person = request.user
    if two_factor.has_two_factor(person) and not person.is_verified():
        return redirect("accounts:two_factor_verify")
    device = two_factor.pending_authenticator(person)
    form = AuthenticatorCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            confirmed = two_factor.confirm_authenticator(
                person, device.pk, form.cleaned_data["code"], web_actor(request), ip=client_ip(request)
            )
        except two_factor.CodeRefused as refused:
            form.add_error("code", code_refused_message(refused))
        else:
            otp_login(request, confirmed.device)
            return render(
                request,
                "accounts/two_factor/recovery_codes.html",
                {"codes": confirmed.recovery_codes, "next": _next(request), "just_enabled": True},
            )
    context = {
        "form": form,
        "qr_data_uri": two_factor.qr_data_uri(device),
        "secret": two_factor.secret_text(device),
        "replacing": two_factor.has_two_factor(person),
        "required": needs_two_factor(person),
        "next": _next(request),
    }
    return render(request, "accounts/two_factor/setup.html", context)


@never_cache
@login_required
@sensitive_post_parameters("code")
@require_http_methods(["GET", "POST"])
def verify(request):
    """A signed-in person with an authenticator whose session is not verified gives a code."""
    person = request.user
    next_url = _next(request)
    if person.is_verified():
        return redirect(next_url or "home")
    if not two_factor.has_two_factor(person):
        return redirect("accounts:two_factor_setup")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device = two_factor.verify_second_factor(person, form.cleaned_data["code"], ip=client_ip(request))
        except two_factor.CodeRefused as refused:
            form.add_error("code", code_refused_message(refused))
        else:
            otp_login(request, device)
            return redirect(next_url or "home")
    return render(request, "accounts/two_factor/verify.html", {"form": form, "next": next_url})


@never_cache
@login_required
@sensitive_post_parameters("code")
@require_http_methods(["GET", "POST"])
def recovery_codes(request):
    """New recovery codes (the former ones stop working), against a code of the app."""
    person = request.user
    if not two_factor.has_two_factor(person):
        return redirect("accounts:two_factor_setup")
    form = AuthenticatorCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            codes = two_factor.renew_recovery_codes(
                person, form.cleaned_data["code"], web_actor(request), ip=client_ip(request)
            )
        except two_factor.CodeRefused as refused:
            form.add_error("code", code_refused_message(refused))
        else:
            return render(request, "accounts/two_factor/recovery_codes.html", {"codes": codes})
    return render(request, "accounts/two_factor/renew.html", {"form": form})


@never_cache
@login_required
@sensitive_post_parameters("password", "code")
@require_http_methods(["GET", "POST"])
def disable(request):
    """Remove the authenticator and recovery codes: password and a current code again."""
    person = request.user
    if not two_factor.has_two_factor(person):
        return redirect("accounts:settings")
    required = needs_two_factor(person)
    form = DisableTwoFactorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            two_factor.disable_two_factor(
                person,
                form.cleaned_data["password"],
                form.cleaned_data["code"],
                web_actor(request),
                ip=client_ip(request),
            )
        except two_factor.PasswordRefused:
            form.add_error("password", _("This password is not correct."))
        except two_factor.CodeRefused as refused:
            form.add_error("code", code_refused_message(refused))
        else:
            if required:
                messages.warning(
                    request,
                    _(
                        "Two-factor authentication is compulsory for access managers: set up your new device now."
                    ),
                )
                return redirect("accounts:two_factor_setup")
            messages.success(request, _("Two-factor authentication is turned off."))
            return redirect("accounts:settings")
    return render(request, "accounts/two_factor/disable.html", {"form": form, "required": required})
