"""The notification address and the anti-phishing phrase (coffre.mailbox.services_management)."""

import datetime as dt
import re

import pytest
from django.core import signing

from coffre.audit.models import AuditRecord
from coffre.audit.services import Actor
from coffre.mailbox import services_management as management
from coffre.mailbox.models import Ebox
from coffre.mailbox.tests.conftest import A, B, person

ACTOR = Actor(kind="web", name="alice@example.be", method="POST", url="/e/x/management/address/")
OLD = "boss@alice.example"


def link_for(token: str) -> str:
    return f"https://coffre.example/e/{A}/management/confirm/{token}/"


def token_in(mail) -> str:
    return re.search(r"/management/confirm/([^/\s]+)/", mail.body).group(1)


@pytest.fixture
def ebox(portal) -> Ebox:
    box = portal.ebox_a
    box.notification_email = OLD
    box.notification_status = "verified"
    box.save()
    return box


def ask(ebox: Ebox, email: str, by: str = "alice@example.be"):
    return management.request_address_change(
        ebox, email, requested_by=by, actor=ACTOR, language="en", link_for=link_for
    )


def test_a_new_address_gets_a_link_and_the_old_one_stays_until_confirmed(
    ebox, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        pending = ask(ebox, "team@alice.example")

    assert [mail.to for mail in mailoutbox] == [["team@alice.example"]]
    mail = mailoutbox[0]
    assert "Alice & Co" in mail.subject and "alice@example.be" in mail.body
    token = token_in(mail)
    ebox.refresh_from_db()
    assert (ebox.notification_email, ebox.notification_status) == (OLD, "verified")
    assert ebox.pending_email == pending.email == "team@alice.example"
    assert ebox.pending_token_sha256 and token not in ebox.pending_token_sha256
    assert ebox.pending_expires_at - dt.timedelta(days=7) <= pending.expires_at
    record = AuditRecord.objects.get(action="ebox.notificationAddress.request")
    assert "team@alice.example" not in str(record.details)
    assert record.details["pendingAddressSha256"] == management.email_hash("team@alice.example")


def test_the_link_confirms_once(ebox, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        ask(ebox, "team@alice.example")
    token = token_in(mailoutbox[0])

    assert management.pending_confirmation(token, A).email == "team@alice.example"
    with django_capture_on_commit_callbacks(execute=True):
        confirmed = management.confirm_address(token, A, actor=ACTOR)

    assert (confirmed.notification_email, confirmed.notification_status) == ("team@alice.example", "verified")
    assert (confirmed.pending_email, confirmed.pending_token_sha256, confirmed.pending_expires_at) == (
        "",
        "",
        None,
    )
    with pytest.raises(management.InvalidConfirmation) as refused:
        management.confirm_address(token, A, actor=ACTOR)
    assert refused.value.reason == "invalid"


def test_the_previous_address_is_told_with_the_phrase(ebox, mailoutbox, django_capture_on_commit_callbacks):
    management.set_anti_phishing_phrase(ebox, "Blue heron at dawn", actor=ACTOR)
    with django_capture_on_commit_callbacks(execute=True):
        ask(ebox, "team@alice.example")
    with django_capture_on_commit_callbacks(execute=True):
        management.confirm_address(token_in(mailoutbox[0]), A, actor=ACTOR)
    notice = mailoutbox[1]
    assert notice.to == [OLD]
    assert "team@alice.example" in notice.body and "Blue heron at dawn" in notice.body
    assert "Blue heron at dawn" not in mailoutbox[0].body  # an unconfirmed address never sees it


def test_each_mail_is_in_the_language_of_the_person_who_signs_in_with_its_address(
    ebox, mailoutbox, django_capture_on_commit_callbacks
):
    person("team@alice.example", language="de")
    person(OLD, language="nl")
    with django_capture_on_commit_callbacks(execute=True):
        ask(ebox, "team@alice.example")  # asked from a page in English
    with django_capture_on_commit_callbacks(execute=True):
        management.confirm_address(token_in(mailoutbox[0]), A, actor=ACTOR)
    confirmation, notice = mailoutbox
    assert confirmation.subject == "Bestätigen Sie die Benachrichtigungs-E-Mail-Adresse von Alice & Co"
    assert notice.to == [OLD]
    assert notice.subject == "Het notificatie-e-mailadres van Alice & Co is gewijzigd"


def test_an_address_nobody_signs_in_with_gets_the_language_of_the_request(
    ebox, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        management.request_address_change(
            ebox, "group@alice.example", requested_by="alice@example.be", actor=ACTOR, language="nl",
            link_for=link_for,
        )
    [mail] = mailoutbox
    assert mail.subject == "Bevestig het notificatie-e-mailadres van Alice & Co"


def test_the_link_expires_after_seven_days(ebox, mailoutbox, django_capture_on_commit_callbacks, clock):
    with django_capture_on_commit_callbacks(execute=True):
        ask(ebox, "team@alice.example")
    clock.shift(dt.timedelta(days=7, seconds=1))
    with pytest.raises(management.InvalidConfirmation) as refused:
        management.confirm_address(token_in(mailoutbox[0]), A, actor=ACTOR)
    assert refused.value.reason == "expired"
    ebox.refresh_from_db()
    assert ebox.notification_email == OLD


def test_the_link_still_works_on_its_last_day(ebox, mailoutbox, django_capture_on_commit_callbacks, clock):
    with django_capture_on_commit_callbacks(execute=True):
        ask(ebox, "team@alice.example")
    clock.shift(dt.timedelta(days=7, seconds=-1))
    assert management.confirm_address(token_in(mailoutbox[0]), A, actor=ACTOR).notification_email == (
        "team@alice.example"
    )


def test_resending_replaces_the_link(ebox, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        ask(ebox, "team@alice.example")
        management.resend_confirmation(
            ebox, requested_by="alice@example.be", actor=ACTOR, language="en", link_for=link_for
        )
    first, second = (token_in(mail) for mail in mailoutbox)
    assert [mail.to for mail in mailoutbox] == [["team@alice.example"]] * 2
    with pytest.raises(management.InvalidConfirmation):
        management.confirm_address(first, A, actor=ACTOR)
    assert management.confirm_address(second, A, actor=ACTOR).notification_email == "team@alice.example"


def test_a_cancelled_change_cannot_be_confirmed(ebox, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        ask(ebox, "team@alice.example")
    management.cancel_address_change(ebox, actor=ACTOR)
    with pytest.raises(management.InvalidConfirmation):
        management.confirm_address(token_in(mailoutbox[0]), A, actor=ACTOR)
    ebox.refresh_from_db()
    assert (ebox.notification_email, ebox.pending_email) == (OLD, "")
    with pytest.raises(management.ManagementRefused):
        management.cancel_address_change(ebox, actor=ACTOR)


def test_a_link_is_worth_nothing_elsewhere_or_altered(ebox, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        ask(ebox, "team@alice.example")
    token = token_in(mailoutbox[0])
    forged = signing.dumps({"e": ebox.pk, "n": "guess"}, salt="another salt")
    for candidate, cbe in ((token, B), (token[:-2] + "xx", A), (forged, A), ("", A), ("a:b:c", A)):
        with pytest.raises(management.InvalidConfirmation):
            management.confirm_address(candidate, cbe, actor=ACTOR)
    ebox.refresh_from_db()
    assert ebox.notification_email == OLD


def test_confirming_the_current_address_again_is_refused_once_verified(ebox):
    with pytest.raises(management.ManagementRefused):
        ask(ebox, "Boss@Alice.example")


def test_an_unconfirmed_or_failing_address_can_be_confirmed_anew(
    ebox, mailoutbox, django_capture_on_commit_callbacks
):
    Ebox.objects.filter(pk=ebox.pk).update(
        notification_status="failing", notification_failure="550 no such user"
    )
    ebox.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        ask(ebox, OLD)
    confirmed = management.confirm_address(token_in(mailoutbox[0]), A, actor=ACTOR)
    assert (confirmed.notification_status, confirmed.notification_failure) == ("verified", "")
    assert len(mailoutbox) == 1  # no "changed" notice: the address is the same


def test_confirmation_mails_are_rate_limited(ebox, mailoutbox, django_capture_on_commit_callbacks):
    limit = management.LIMIT_PER_EBOX[0]
    with django_capture_on_commit_callbacks(execute=True):
        for index in range(limit):
            ask(ebox, f"team{index}@alice.example")
        with pytest.raises(management.TooManyRequests):
            ask(ebox, "one-more@alice.example")
    assert len(mailoutbox) == limit
    ebox.refresh_from_db()
    assert ebox.pending_email == f"team{limit - 1}@alice.example"


def test_one_person_is_limited_across_eboxes(
    portal, mailoutbox, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr(management, "LIMIT_PER_EBOX", (100, dt.timedelta(hours=1)))
    limit = management.LIMIT_PER_PERSON[0]
    boxes = [portal.ebox_a, portal.ebox_b]
    with django_capture_on_commit_callbacks(execute=True):
        for index in range(limit):
            ask(boxes[index % 2], f"x{index}@example.be", by="mallory@example.be")
        with pytest.raises(management.TooManyRequests):
            ask(portal.ebox_b, "again@example.be", by="mallory@example.be")
        ask(portal.ebox_b, "other@example.be", by="bob@example.be")
    assert len(mailoutbox) == limit + 1


# --- the anti-phishing phrase ---------------------------------------------------------------------


def test_the_phrase_is_set_changed_and_removed_without_being_audited(ebox):
    management.set_anti_phishing_phrase(ebox, "  Blue   heron at dawn ", actor=ACTOR)
    ebox.refresh_from_db()
    assert ebox.anti_phishing_phrase == "Blue heron at dawn"
    management.set_anti_phishing_phrase(ebox, "Red fox", actor=ACTOR)
    management.set_anti_phishing_phrase(ebox, "", actor=ACTOR)
    ebox.refresh_from_db()
    assert ebox.anti_phishing_phrase == ""
    records = AuditRecord.objects.filter(action__startswith="ebox.antiPhishingPhrase").order_by("seq")
    assert [r.action for r in records] == ["ebox.antiPhishingPhrase.set"] * 2 + [
        "ebox.antiPhishingPhrase.remove"
    ]
    assert not any("heron" in str(r.details) or "fox" in str(r.details) for r in records)


@pytest.mark.parametrize(
    "phrase",
    ["abc", "x" * 61, "<b>bold</b>", "a > b and c", "soft\u00adhyphen", "zero\u200bwidth", "bell\x07rings"],
)
def test_a_bad_phrase_is_refused(ebox, phrase):
    with pytest.raises(management.ManagementRefused):
        management.set_anti_phishing_phrase(ebox, phrase, actor=ACTOR)
    ebox.refresh_from_db()
    assert ebox.anti_phishing_phrase == ""


@pytest.mark.parametrize(
    "phrase, kept",
    [
        ("abcd", "abcd"),
        ("x" * 60, "x" * 60),
        ('Alice & Co\'s "heron"', 'Alice & Co\'s "heron"'),
        ("Frühstück à l'été 2026", "Frühstück à l'été 2026"),
        ("tab\there\n", "tab here"),
    ],
)
def test_a_plain_phrase_is_kept(ebox, phrase, kept):
    management.set_anti_phishing_phrase(ebox, phrase, actor=ACTOR)
    ebox.refresh_from_db()
    assert ebox.anti_phishing_phrase == kept
