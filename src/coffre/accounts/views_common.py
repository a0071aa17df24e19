"""What the portal's account views share: who acts (for the audit trail), the client's address,
absolute links for e-mails, safe redirects, signing a person in, and the enterprise of a URL.
"""

from django.conf import settings
from django.contrib import auth
from django.shortcuts import get_object_or_404, redirect
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme

from coffre.accounts.models import Enterprise
from coffre.accounts.permissions import Action, require
from coffre.audit.services import Actor

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


def web_actor(request, name: str | None = None) -> Actor:
    """The person acting through a page (``name`` for a visitor not signed in yet)."""
    if name is None:
        name = request.user.email if request.user.is_authenticated else ""
    return Actor(kind="web", name=name, method=request.method, url=request.path)


def client_ip(request) -> str | None:
    """The client's address; behind our reverse proxy, the last one it added to X-Forwarded-For."""
    if getattr(settings, "COFFRE_BEHIND_PROXY", False):
        forwarded = [
            part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()
        ]
        if forwarded:
            return forwarded[-1]
    return request.META.get("REMOTE_ADDR") or None


def base_url(request) -> str:
    """Scheme and host for links in e-mails: ``COFFRE_BASE_URL`` when set, else the request's."""
    return settings.COFFRE_BASE_URL or f"{request.scheme}://{request.get_host()}"


def safe_next(request, value: str | None) -> str:
    """``value`` when it is a local URL of ours, else an empty string."""
    if value and url_has_allowed_host_and_scheme(
        value, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return value
    return ""


def set_language_cookie(response, language: str) -> None:
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )


def finish_login(request, person, *, device=None, next_url: str = "", backend: str = MODEL_BACKEND):
    """Sign the person in (with the second factor that verified them), in their language."""
    from django_otp import login as otp_login

    auth.login(request, person, backend=backend)
    if device is not None:
        otp_login(request, device)
    translation.activate(person.language)
    response = redirect(next_url or settings.LOGIN_REDIRECT_URL)
    set_language_cookie(response, person.language)
    return response


def enterprise_for(request, cbe: str, action: Action) -> Enterprise:
    """The enterprise of the URL, when the person may do ``action`` there (else 404/403)."""
    enterprise = get_object_or_404(Enterprise, cbe=cbe, active=True)
    request.standing = require(request.user, action, enterprise)
    return enterprise
