"""Each status has its sentence and the action the person can take (coffre.agents.statuses)."""

from django.utils import translation

from coffre.agents.models import Status
from coffre.agents.sdk import UserAction
from coffre.agents.statuses import Remedy, explain


def test_every_status_says_what_it_means_and_what_to_do():
    with translation.override("en"):
        remedies = {status: explain(status).remedy for status in Status}
        texts = {explain(status).text for status in Status}
    assert remedies == {
        Status.PENDING: Remedy.WAIT,
        Status.OK: Remedy.NONE,
        Status.LOGIN_FAILED: Remedy.REPLACE_CREDENTIALS,
        Status.USER_ACTION_NEEDED: Remedy.CONFIRM_DONE,
        Status.VENDOR_DOWN: Remedy.WAIT,
        Status.MAINTENANCE: Remedy.WAIT,
        Status.UNKNOWN_ERROR: Remedy.REPORT,
    }
    assert len(texts) == len(Status)


def test_the_action_the_provider_asks_for_comes_first():
    with translation.override("en"):
        terms = explain(Status.USER_ACTION_NEEDED, UserAction.ACCEPT_TERMS)
        password = explain(Status.USER_ACTION_NEEDED, UserAction.CHANGE_PASSWORD)
    assert terms.text.startswith("Sign in on the provider's site and accept its new terms")
    assert terms.remedy == Remedy.CONFIRM_DONE
    assert password.remedy == Remedy.REPLACE_CREDENTIALS  # the new password is entered here
    assert terms.title == "Action needed on the provider's site"
