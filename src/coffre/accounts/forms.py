"""Forms of the account pages: every label and message in the person's language.

The sign-in form applies the rate limits of ``services_auth``: a locked address answers like a
wrong password, plus the time to wait.
"""

from typing import ClassVar

from django import forms
from django.contrib.auth import forms as auth_forms
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from coffre.accounts import services_auth
from coffre.accounts.models import LANGUAGES, Role, User
from coffre.core.cbe import InvalidCBE, normalize_cbe
from coffre.core.mail import send_templated_mail

INVALID_LOGIN = _("Please enter a correct e-mail address and password.")


def lock_message(lock: services_auth.LoginLock) -> str:
    return ngettext(
        "Too many attempts. Try again in %(minutes)d minute.",
        "Too many attempts. Try again in %(minutes)d minutes.",
        lock.minutes,
    ) % {"minutes": lock.minutes}


class LoginForm(auth_forms.AuthenticationForm):
    """E-mail address and password, within the limits of wrong attempts (per address and client)."""

    username = forms.EmailField(
        label=_("E-mail address"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "username", "autofocus": True}),
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    error_messages: ClassVar[dict] = {"invalid_login": INVALID_LOGIN, "inactive": INVALID_LOGIN}

    def __init__(self, request=None, *args, ip: str | None = None, **kwargs):
        super().__init__(request, *args, **kwargs)
        self.ip = ip
        self.awaiting_confirmation = False

    def clean(self):
        email = services_auth.normalize_email(self.cleaned_data.get("username") or "")
        password = self.cleaned_data.get("password")
        if not email or not password:
            return self.cleaned_data
        lock = services_auth.login_lock(email, self.ip)
        if lock is not None:
            raise ValidationError([INVALID_LOGIN, lock_message(lock)], code="locked")
        self.cleaned_data["username"] = email  # addresses are kept in lower case
        try:
            return super().clean()
        except ValidationError:
            if services_auth.awaiting_confirmation(email, password):
                self.awaiting_confirmation = True
                raise ValidationError(
                    _(
                        "Your e-mail address is not confirmed yet. Follow the link we sent you, "
                        "or ask for a new one below."
                    ),
                    code="unconfirmed",
                ) from None
            lock = services_auth.note_failed_login(email, self.ip)
            errors = [INVALID_LOGIN] + ([lock_message(lock)] if lock is not None else [])
            raise ValidationError(errors, code="invalid_login") from None


class SignUpForm(forms.Form):
    email = forms.EmailField(
        label=_("E-mail address"), max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    full_name = forms.CharField(
        label=_("Your name"),
        max_length=150,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    language = forms.ChoiceField(label=_("Language"), choices=LANGUAGES)
    password1 = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("At least 10 characters; not only digits, not a common password."),
    )
    password2 = forms.CharField(
        label=_("Password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        cleaned = super().clean()
        first, second = cleaned.get("password1"), cleaned.get("password2")
        if first and second and first != second:
            self.add_error("password2", _("The two passwords differ."))
        elif first:
            candidate = User(email=cleaned.get("email") or "", full_name=cleaned.get("full_name") or "")
            try:
                password_validation.validate_password(first, candidate)
            except ValidationError as error:
                self.add_error("password1", error)
        return cleaned


class PasswordForm(forms.Form):
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class EmailForm(forms.Form):
    email = forms.EmailField(
        label=_("E-mail address"), max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )


class PasswordResetRequestForm(auth_forms.PasswordResetForm):
    """Django's reset form, also for accounts waiting for confirmation (the reset confirms the
    address), mailing in the person's language once the request's transaction commits."""

    email = forms.EmailField(
        label=_("E-mail address"), max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )

    def get_users(self, email):
        people = User.objects.filter(email__iexact=services_auth.normalize_email(email))
        return (
            person
            for person in people
            if person.has_usable_password() and (person.is_active or person.email_verified_at is None)
        )

    def send_mail(
        self,
        subject_template_name,
        email_template_name,
        context,
        from_email,
        to_email,
        html_email_template_name=None,
    ):
        person = context["user"]
        link = context["base_url"] + reverse(
            "accounts:password_reset_confirm", kwargs={"uidb64": context["uid"], "token": context["token"]}
        )
        send_templated_mail(
            [to_email], "accounts/mail/password_reset", {"person": person, "link": link}, person.language
        )


class ProfileForm(forms.Form):
    full_name = forms.CharField(
        label=_("Your name"),
        max_length=150,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    language = forms.ChoiceField(
        label=_("Language"),
        choices=LANGUAGES,
        help_text=_("The pages and the e-mails you receive are in this language."),
    )


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code"),
        max_length=32,
        help_text=_("The 6-digit code of your authenticator app, or one of your recovery codes."),
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autocapitalize": "none", "spellcheck": "false"}
        ),
    )


class AuthenticatorCodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code shown by the app"),
        max_length=12,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


class DisableTwoFactorForm(forms.Form):
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    code = CodeForm.base_fields["code"]


class RegisterEnterpriseForm(forms.Form):
    cbe = forms.CharField(
        label=_("Enterprise number (CBE)"),
        max_length=20,
        help_text=_("10 digits, for example 0123.456.749."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    name = forms.CharField(label=_("Name of the enterprise"), max_length=200)
    language = forms.ChoiceField(label=_("Language of the enterprise"), choices=LANGUAGES)

    def clean_cbe(self):
        try:
            return normalize_cbe(self.cleaned_data["cbe"], lenient=True)
        except InvalidCBE:
            raise ValidationError(
                _(
                    "This is not a valid enterprise number: 10 digits starting with 0 or 1, with a valid check."
                ),
                code="invalid_cbe",
            ) from None

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if not name:
            raise ValidationError(_("Give the name of the enterprise."), code="required")
        return name


def _role_choices(roles):
    return [(role, Role(role).label) for role in roles]


class InviteForm(forms.Form):
    email = forms.EmailField(
        label=_("E-mail address"), max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "off"})
    )
    role = forms.ChoiceField(
        label=_("Role"),
        help_text=_("An accountant is external and free: reads and downloads documents, nothing else."),
    )

    def __init__(self, *args, roles, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = _role_choices(roles)
        if Role.MEMBER in roles:
            self.fields["role"].initial = Role.MEMBER


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"))

    def __init__(self, *args, roles, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = _role_choices(roles)


class HandOverForm(forms.Form):
    successor = forms.TypedChoiceField(label=_("New principal access manager"), coerce=int)

    def __init__(self, *args, candidates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["successor"].choices = [
            (membership.pk, f"{membership.user.full_name or membership.user.email} ({membership.user.email})")
            for membership in candidates
        ]
