"""What a standing gets from a page of the portal, and how one attempt is made (test_matrix.py).

An expected outcome is a status (200, 400, 403, 404, 405), ``LOGIN`` (a redirect to the sign-in
page), ``DONE`` (an action done: a redirect elsewhere than the sign-in or two-factor pages) or a
``Redirect`` to a given place. A ``Rule`` maps a standing to its outcome: ``matrix(action)`` and
``firm(action)`` follow the permission matrices; ``personal``, ``public``, ``managers`` and ``only``
describe the person's own pages and those of the e-mailed links. Each rule carries the text that
docs/permissions.md shows for it (``rule.text``).
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import transaction
from django.test import Client
from django.urls import reverse

from coffre.accounts.permissions import FIRM_MATRIX, Action, FirmAction, allowed
from coffre.accounts.tests.standings import IN_A, IN_FIDU, MANAGERS, PEOPLE

LOGIN = "login"  # a redirect to the sign-in page
DONE = 302  # the action was done: a redirect elsewhere than the sign-in or two-factor pages


@dataclass(frozen=True)
class Redirect:
    """A redirect to a URL that starts with ``to`` (or is ``to``, when ``exact``)."""

    to: str
    exact: bool = False


HOME = Redirect("/", exact=True)  # a signed-in person on a visitor's page is sent home


# --- expected outcomes ---------------------------------------------------------------------------

Rule = Callable[[str], object]


def described(text: str, rule: Rule) -> Rule:
    """The rule, with what docs/permissions.md says of it (its pages table)."""
    rule.text = text
    return rule


def matrix(action: Action, ok=200) -> Rule:
    """A page or action of enterprise A: ``permissions.MATRIX`` decides."""

    def rule(standing: str):
        if standing == "anonymous":
            return LOGIN
        in_a = IN_A[standing]
        if in_a is None:
            return 404
        return ok if allowed(in_a, action) else 403

    return described(action.value, rule)


def firm(action: FirmAction, ok=200) -> Rule:
    """A page or action of the firm Fidu Lebrun: ``permissions.FIRM_MATRIX`` decides."""

    def rule(standing: str):
        if standing == "anonymous":
            return LOGIN
        in_fidu = IN_FIDU.get(standing)
        if in_fidu is None:
            return 404
        return ok if in_fidu in FIRM_MATRIX[action] else 403

    return described(f"firm: {action.value}", rule)


def personal(ok=200, **exceptions) -> Rule:
    """The person's own page: every signed-in person gets ``ok`` (or their exception)."""
    return described(
        "signed in: own data",
        lambda standing: LOGIN if standing == "anonymous" else exceptions.get(standing, ok),
    )


def public(ok=200, *, signed_in=None, text: str = "") -> Rule:
    """A page for visitors and e-mailed links: everyone gets ``ok`` (signed-in people ``signed_in``)."""
    return described(
        text or ("anyone" if ok != 405 else "(POST only)"),
        lambda standing: ok if standing == "anonymous" or signed_in is None else signed_in,
    )


def managers(ok, others) -> Rule:
    """The person's own page, depending on whether they have an authenticator (managers must)."""
    return personal(ok, **{standing: others for standing in PEOPLE if standing not in MANAGERS})


def only(standing_ok: str, ok, others=404) -> Rule:
    """One standing's own object (bob's business-account link); nobody else's."""
    return described(
        "signed in: own link only",
        lambda standing: LOGIN if standing == "anonymous" else (ok if standing == standing_ok else others),
    )


def approvers(action: Action, deciders: set[str], text: str, ok=200) -> Rule:
    """A page or action of E-mail access (seed 002): ``permissions.MATRIX`` first, then only the
    approvers of senders it names (``deciders``: A's client admin is paula, the principal; felix,
    the firm collaborator, is attached to A); another standing in A gets 403."""

    def rule(standing: str):
        if standing == "anonymous":
            return LOGIN
        in_a = IN_A[standing]
        if in_a is None:
            return 404
        return ok if allowed(in_a, action) and standing in deciders else 403

    return described(f"{action.value}: {text}", rule)


def own_box(standing_ok: str, ok, others=404) -> Rule:
    """A document or a waiting mail of one person's "My documents" (bob's); nobody else's."""
    return described(
        "signed in: own My documents only",
        lambda standing: LOGIN if standing == "anonymous" else (ok if standing == standing_ok else others),
    )


POST_ONLY = described("(POST only)", personal(405))  # a GET on a signed-in POST-only view
SETUP = Redirect("/accounts/two-factor/setup/")
LOGIN_PAGE = Redirect("/accounts/login/")


@dataclass(frozen=True)
class Try:
    rule: Rule
    data: dict = field(default_factory=dict)  # values "{key}" are taken from the objects


@dataclass(frozen=True)
class Route:
    kwargs: dict  # URL arguments; values "{key}" are taken from the objects
    get: Try
    post: Try | None = None
    foreign: tuple[str, ...] = ()  # the keys whose B value must never reach A's data
    foreign_outcome: object = 404  # what an allowed standing gets with B's values
    foreign_rule: Rule | None = None  # or what each standing gets with them
    foreign_post_rule: Rule | None = None  # the same for a POST, when it differs from the GET's


# --- running one attempt --------------------------------------------------------------------------


def fill(value, values: dict):
    if isinstance(value, str):
        return re.sub(r"\{(\w+)\}", lambda match: str(values[match.group(1)]), value)
    return value


def url_of(name: str, route: Route, values: dict) -> str:
    return reverse(name, kwargs={key: fill(value, values) for key, value in route.kwargs.items()})


def attempt(client: Client, method: str, url: str, data: dict, values: dict):
    payload = {fill(key, values): fill(value, values) for key, value in data.items()}
    return client.post(url, payload) if method == "post" else client.get(url)


def mismatch(response, want) -> str | None:
    """Why ``response`` is not the expected outcome, or None when it is."""
    status, location = response.status_code, response.get("Location", "")
    if want == LOGIN:
        ok = status == 302 and location.startswith(reverse("accounts:login"))
    elif isinstance(want, Redirect):
        ok = status == 302 and (location == want.to if want.exact else location.startswith(want.to))
    elif want == DONE:
        ok = status == 302 and not location.startswith(("/accounts/login/", "/accounts/two-factor/"))
    else:
        ok = status == want
    if ok:
        return None
    return f"{status} {location}".strip()


def run_in_savepoint(callable_):
    """Call, then undo everything it wrote: every standing meets the same world."""
    with transaction.atomic():
        result = callable_()
        transaction.set_rollback(True)
    return result
