"""What each status of a connection means to the person, and what they can do about it (seed 004,
issue 7): one translated sentence and the action, for the portal and the mail that tells of a
change. Never names a document or a credential.
"""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from coffre.agents.models import Status
from coffre.agents.sdk import UserAction


class Remedy:
    """The action the person can take (the portal shows the matching button)."""

    NONE = ""
    WAIT = "wait"
    REPLACE_CREDENTIALS = "replace-credentials"
    CONFIRM_DONE = "confirm-done"
    REPORT = "report-to-support"


@dataclass(frozen=True)
class Explanation:
    status: str
    title: str
    text: str
    remedy: str


_TEXTS = {
    Status.PENDING: (
        _("The agent will fetch the documents in a moment."),
        Remedy.WAIT,
    ),
    Status.OK: (
        _("The agent fetches the new documents at its usual frequency."),
        Remedy.NONE,
    ),
    Status.LOGIN_FAILED: (
        _(
            "The provider refused the login: the credentials are no longer valid. The agent waits "
            "until you enter the current ones (it does not try again by itself, so that the "
            "provider does not lock the account)."
        ),
        Remedy.REPLACE_CREDENTIALS,
    ),
    Status.USER_ACTION_NEEDED: (
        _(
            "The provider asks you to do something on its site before the agent can go on. The "
            "agent waits until you tell it that it is done."
        ),
        Remedy.CONFIRM_DONE,
    ),
    Status.VENDOR_DOWN: (
        _("The provider's site is unavailable. The agent tries again later by itself."),
        Remedy.WAIT,
    ),
    Status.MAINTENANCE: (
        _("This agent is being repaired. It starts again by itself once it is fixed."),
        Remedy.WAIT,
    ),
    Status.UNKNOWN_ERROR: (
        _(
            "The agent met an unexpected error. It tries again later by itself; you can report "
            "the error to support, who receive its technical details (never your credentials)."
        ),
        Remedy.REPORT,
    ),
}

ACTIONS = {
    UserAction.ACCEPT_TERMS: _("Sign in on the provider's site and accept its new terms of use."),
    UserAction.CHANGE_PASSWORD: _(
        "Sign in on the provider's site, change your password, then enter the new one here."
    ),
    UserAction.TWO_FACTOR: _(
        "The provider asks for a second factor (a code) at sign-in: turn it off for this account or "
        "give the agent another way in, as the provider allows."
    ),
    UserAction.CONTACT_PROVIDER: _("Contact the provider: it blocks the access to your account."),
}


def explain(status: str, user_action: str = "") -> Explanation:
    """The translated title, sentence and remedy of a status (and of the action the provider asks)."""
    status = Status(status)
    text, remedy = _TEXTS[status]
    sentence = str(text)
    if status == Status.USER_ACTION_NEEDED and user_action in {item.value for item in UserAction}:
        sentence = f"{ACTIONS[UserAction(user_action)]} {sentence}"
        if user_action == UserAction.CHANGE_PASSWORD:
            remedy = Remedy.REPLACE_CREDENTIALS
    return Explanation(str(status), str(status.label), sentence, remedy)
