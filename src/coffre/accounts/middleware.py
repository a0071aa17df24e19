"""The person's language and two-factor authentication on every portal page.

``PersonLanguageMiddleware``: a signed-in person reads the portal in the language of their
settings (``User.language``), whatever their browser asks for, unless this browser chose another
one with the language switch (the language cookie, which signing in also sets). Goes after
``AuthenticationMiddleware``, and after ``LocaleMiddleware`` whose choice it overrides.

``TwoFactorRequiredMiddleware``:
- A signed-in person with an authenticator whose session is not verified (signed in before
  setting it up, or before becoming an access manager) is asked a code first.
- An access manager (``permissions.needs_two_factor``) without an authenticator is sent to the
  setup page, for every page, until it is done.

The machine interfaces (API, OAuth2) and static files are not concerned; logging out, switching
the language and the pages that get the person through are always reachable. Goes after
``django_otp.middleware.OTPMiddleware`` (which tells whether the session is verified).
"""

from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import translation

from coffre.accounts.permissions import needs_two_factor
from coffre.accounts.services_two_factor import has_two_factor
from coffre.core.errors import is_machine_path

ALWAYS_REACHABLE = {"accounts:logout", "set_language", "accounts:login", "accounts:login_code"}
WHILE_UNVERIFIED = ALWAYS_REACHABLE | {"accounts:two_factor_verify"}
WHILE_SETTING_UP = ALWAYS_REACHABLE | {"accounts:two_factor_setup"}


class PersonLanguageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        languages = dict(settings.LANGUAGES)
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        if chosen not in languages and not is_machine_path(request.path):
            person = getattr(request, "user", None)
            if person is not None and person.is_authenticated and person.language in languages:
                translation.activate(person.language)
                request.LANGUAGE_CODE = person.language
        return self.get_response(request)


class TwoFactorRequiredMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        path = request.path
        static = "/" + settings.STATIC_URL.lstrip("/")
        if is_machine_path(path) or path.startswith(static):
            return None
        person = getattr(request, "user", None)
        if person is None or not person.is_authenticated or person.is_verified():
            return None
        view_name = request.resolver_match.view_name if request.resolver_match else ""
        if has_two_factor(person):
            if view_name in WHILE_UNVERIFIED:
                return None
            return self._redirect(request, "accounts:two_factor_verify")
        if needs_two_factor(person) and view_name not in WHILE_SETTING_UP:
            return self._redirect(request, "accounts:two_factor_setup")
        return None

    @staticmethod
    def _redirect(request, view_name: str):
        target = reverse(view_name)
        if request.method == "GET":
            target += "?" + urlencode({"next": request.get_full_path()})
        if getattr(request, "htmx", False):  # htmx would follow a 302 inside the page
            response = HttpResponse(status=204)
            response["HX-Redirect"] = target
            return response
        return HttpResponseRedirect(target)
