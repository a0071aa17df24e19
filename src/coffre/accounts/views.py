"""Signing up, confirming the address, signing in (with the second factor) and out, passwords, the
person's settings, and the portal's home page. The rules live in ``services_auth``; these views
parse, call one service, and answer.

Links carrying a token (address confirmation) put it in the session and redirect to a URL
without it, so that the token never reaches the audit trail, logs or a Referer header.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from coffre.accounts import selectors, services_auth, services_two_factor
from coffre.accounts.forms import (
    CodeForm,
    EmailForm,
    LoginForm,
    PasswordForm,
    PasswordResetRequestForm,
    ProfileForm,
    SignUpForm,
    lock_message,
)
from coffre.accounts.models import User
from coffre.accounts.permissions import Action, allowed, enterprises_of, needs_two_factor
from coffre.accounts.views_common import (
    base_url,
    client_ip,
    finish_login,
    safe_next,
    set_language_cookie,
    web_actor,
)
from coffre.notifications.forms import instant_alerts_form

PENDING_LOGIN = "coffre_pending_login"  # a person who gave the right password, before the code
PENDING_LOGIN_SECONDS = 300
VERIFY_TOKEN = "coffre_verify_token"
VERIFY_NEXT = "coffre_verify_next"


def home(request):
    if not request.user.is_authenticated:
        return redirect("accounts:login")
    first = enterprises_of(request.user).first()
    if first is None:
        return render(request, "accounts/no_enterprise.html")
    return redirect("mailbox:list", cbe=first.cbe)


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    form_class = LoginForm
    redirect_authenticated_user = True

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "ip": client_ip(self.request)}

    def form_valid(self, form):
        person = form.get_user()
        services_auth.note_successful_login(person.email)
        next_url = self.get_success_url()
        if services_two_factor.has_two_factor(person):
            self.request.session[PENDING_LOGIN] = {
                "user": person.pk,
                "backend": person.backend,
                "at": timezone.now().timestamp(),
                "next": next_url,
            }
            return redirect("accounts:login_code")
        return finish_login(self.request, person, next_url=next_url, backend=person.backend)


def _pending_person(request) -> tuple[User | None, dict]:
    pending = request.session.get(PENDING_LOGIN) or {}
    if not pending or timezone.now().timestamp() - pending.get("at", 0) > PENDING_LOGIN_SECONDS:
        request.session.pop(PENDING_LOGIN, None)
        return None, {}
    return User.objects.filter(pk=pending.get("user"), is_active=True).first(), pending


def code_refused_message(refused: services_two_factor.CodeRefused) -> str:
    if refused.wait_seconds:
        return ngettext(
            "This code is not valid. Wait %(seconds)d second before trying again.",
            "This code is not valid. Wait %(seconds)d seconds before trying again.",
            refused.wait_seconds,
        ) % {"seconds": refused.wait_seconds}
    return _("This code is not valid.")


@never_cache
@sensitive_post_parameters("code")
@require_http_methods(["GET", "POST"])
def login_code(request):
    """Second step of signing in: a code of the authenticator app, or a recovery code."""
    person, pending = _pending_person(request)
    if person is None:
        messages.error(request, _("Your sign-in took too long. Log in again."))
        return redirect("accounts:login")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device = services_two_factor.verify_second_factor(
                person, form.cleaned_data["code"], ip=client_ip(request)
            )
        except services_two_factor.CodeRefused as refused:
            if services_two_factor.second_factor_locked(person):
                request.session.pop(PENDING_LOGIN, None)
                messages.error(request, _("Too many wrong codes. Log in again later."))
                return redirect("accounts:login")
            form.add_error("code", code_refused_message(refused))
        else:
            request.session.pop(PENDING_LOGIN, None)
            return finish_login(
                request,
                person,
                device=device,
                next_url=pending.get("next", ""),
                backend=pending.get("backend"),
            )
    return render(request, "accounts/login_code.html", {"form": form})


class LogoutView(auth_views.LogoutView):
    pass


# --- signing up -----------------------------------------------------------------------------------


@sensitive_post_parameters("password1", "password2")
@require_http_methods(["GET", "POST"])
def signup(request):
    if request.user.is_authenticated:
        return redirect("home")
    next_url = safe_next(request, request.POST.get("next") or request.GET.get("next"))
    initial = {
        "language": translation.get_language() or settings.LANGUAGE_CODE,
        "email": request.GET.get("email", ""),
    }
    form = SignUpForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        if not services_auth.sign_up_allowed(client_ip(request)):
            form.add_error(None, _("Too many sign-ups from your network. Try again in an hour."))
        else:
            data = form.cleaned_data
            services_auth.sign_up(
                data["email"],
                data["password1"],
                full_name=data["full_name"],
                language=data["language"],
                base_url=base_url(request),
                actor=web_actor(request, data["email"]),
                next_url=next_url,
            )
            request.session["coffre_signup_email"] = services_auth.normalize_email(data["email"])
            return redirect("accounts:signup_done")
    return render(request, "accounts/signup.html", {"form": form, "next": next_url})


def signup_done(request):
    return render(
        request, "accounts/signup_done.html", {"email": request.session.get("coffre_signup_email", "")}
    )


def verify_email(request, token: str):
    """The e-mailed confirmation link: keep its token in the session, out of the URL."""
    request.session[VERIFY_TOKEN] = token
    request.session[VERIFY_NEXT] = safe_next(request, request.GET.get("next"))
    return redirect("accounts:verify_email_confirm")


@never_cache
@sensitive_post_parameters("password")
@require_http_methods(["GET", "POST"])
def verify_email_confirm(request):
    """Confirm the address by giving the password chosen at sign-up; then the person is in."""
    token = request.session.get(VERIFY_TOKEN)
    if not token:
        return render(request, "accounts/verify_invalid.html", {"expired": False}, status=400)
    try:
        person = services_auth.person_for_verification(token)
    except services_auth.ExpiredLink:
        return render(request, "accounts/verify_invalid.html", {"expired": True}, status=400)
    except services_auth.InvalidLink:
        return render(request, "accounts/verify_invalid.html", {"expired": False}, status=400)
    if person.email_verified_at is not None:
        request.session.pop(VERIFY_TOKEN, None)
        messages.info(request, _("Your e-mail address is already confirmed. You can log in."))
        return redirect("accounts:login")
    form = PasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        ip = client_ip(request)
        lock = services_auth.login_lock(person.email, ip)
        if lock is None and not person.check_password(form.cleaned_data["password"]):
            lock = services_auth.note_failed_login(person.email, ip)
            form.add_error("password", _("This is not the password chosen at sign-up."))
        if lock is not None:
            form.add_error(None, lock_message(lock))
        if not form.errors:
            services_auth.confirm_email(person, web_actor(request, person.email))
            services_auth.note_successful_login(person.email)
            request.session.pop(VERIFY_TOKEN, None)
            next_url = request.session.pop(VERIFY_NEXT, "")
            person.refresh_from_db()
            response = finish_login(request, person, next_url=next_url)
            messages.success(request, _("Your e-mail address is confirmed. Welcome!"))
            return response
    return render(request, "accounts/verify_email.html", {"form": form, "person": person})


@require_http_methods(["GET", "POST"])
def resend_verification(request):
    form = EmailForm(request.POST or None, initial={"email": request.GET.get("email", "")})
    if request.method == "POST" and form.is_valid():
        services_auth.resend_verification(form.cleaned_data["email"], base_url=base_url(request))
        messages.info(
            request, _("If an account waits for confirmation at this address, a new link is on its way.")
        )
        return redirect("accounts:login")
    return render(request, "accounts/resend_verification.html", {"form": form})


# --- passwords ------------------------------------------------------------------------------------


class PasswordResetView(auth_views.PasswordResetView):
    """Always the same answer; at most a few e-mails an hour per address and per client."""

    template_name = "accounts/password_reset_form.html"
    form_class = PasswordResetRequestForm
    success_url = reverse_lazy("accounts:password_reset_done")

    def form_valid(self, form):
        if services_auth.password_reset_allowed(form.cleaned_data["email"], client_ip(self.request)):
            form.save(
                request=self.request,
                token_generator=self.token_generator,
                extra_email_context={"base_url": base_url(self.request)},
            )
        return HttpResponseRedirect(self.get_success_url())


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")

    def form_valid(self, form):
        services_auth.set_password_from_reset(
            self.user, form.cleaned_data["new_password1"], web_actor(self.request, self.user.email)
        )
        self.request.session.pop(auth_views.INTERNAL_RESET_SESSION_TOKEN, None)
        return HttpResponseRedirect(self.get_success_url())


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"


@login_required
@sensitive_post_parameters("old_password", "new_password1", "new_password2")
@require_http_methods(["GET", "POST"])
def password_change(request):
    form = PasswordChangeForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        services_auth.change_password(request.user, form.cleaned_data["new_password1"], web_actor(request))
        update_session_auth_hash(request, request.user)
        messages.success(request, _("Your password is changed."))
        return redirect("accounts:settings")
    return render(request, "accounts/password_change.html", {"form": form})


# --- settings -------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def settings_page(request):
    person = request.user
    form = ProfileForm(
        request.POST or None, initial={"full_name": person.full_name, "language": person.language}
    )
    if request.method == "POST" and form.is_valid():
        services_auth.update_profile(
            person,
            full_name=form.cleaned_data["full_name"],
            language=form.cleaned_data["language"],
            actor=web_actor(request),
        )
        translation.activate(person.language)
        messages.success(request, _("Your settings are saved."))
        response = redirect("accounts:settings")
        set_language_cookie(response, person.language)
        return response
    context = {
        "form": form,
        "two_factor": services_two_factor.has_two_factor(person),
        "two_factor_required": needs_two_factor(person),
        "recovery_codes_left": services_two_factor.recovery_codes_left(person),
        "memberships": [
            {
                "membership": membership,
                "manages": allowed(membership.role, Action.MANAGE_MEMBERS),
                "reads_log": allowed(membership.role, Action.VIEW_SECURITY_LOG),
                "hands_over": allowed(membership.role, Action.TRANSFER_PRINCIPAL),
                "may_leave": allowed(membership.role, Action.LEAVE),
            }
            for membership in selectors.memberships_of(person)
        ],
        "register_url": reverse("accounts:register_enterprise"),
        "alerts_form": instant_alerts_form(person),
    }
    return render(request, "accounts/settings.html", context)
