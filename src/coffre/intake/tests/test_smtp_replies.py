"""Mails to senders over SMTP (issue 6, point 7): in the sender's likely language, never to
blacklisted senders, never in reply to bounces or automatic mail, never to Coffre's own intake
addresses, always marked ``Auto-Submitted: auto-replied``, rate-limited per address; and the
approvers told (portal notice and e-mail)."""

import pytest

from coffre.accounts.tests.portal_people import world_fixture  # noqa: F401
from coffre.intake import replies
from coffre.intake.tests.intake_mails import PDF, invoice
from coffre.intake.tests.smtp_world import INTAKE_DOMAIN, intake  # noqa: F401
from coffre.smtpd.routes import WAITING

UNKNOWN = "accounts@supplier.be"


def numbered(number: int, **kwargs) -> bytes:
    return invoice(
        UNKNOWN, attachments=[(f"i{number}.pdf", "application/pdf", PDF + str(number).encode())], **kwargs
    )


def test_the_reply_is_marked_automatic_and_refers_to_the_mail(intake):
    raw = invoice(UNKNOWN, message_id="<invoice-77@supplier.be>")
    intake.send(raw, intake.address(intake.world.a), mail_from=UNKNOWN)
    [told] = intake.mails_to(UNKNOWN)
    assert told.purpose == "intake_pending"
    assert told.headers["Auto-Submitted"] == "auto-replied"
    assert told.headers["In-Reply-To"] == "<invoice-77@supplier.be>"
    assert "Invoice January" in told.subject


@pytest.mark.parametrize(
    "headers, enterprise, language",
    [
        ({"Content-Language": "nl-BE"}, "a", "nl"),
        ({"Accept-Language": "de-DE, fr;q=0.5"}, "a", "de"),
        ({"Content-Language": "es", "Accept-Language": "es, en;q=0.7"}, "a", "en"),  # the first Coffre speaks
        ({}, "a", "fr"),  # A reads French
        ({}, "b", "nl"),  # B reads Dutch
    ],
)
def test_the_sender_is_answered_in_their_likely_language(intake, headers, enterprise, language):
    target = getattr(intake.world, enterprise)
    intake.send(invoice(UNKNOWN, headers=headers), intake.address(target), mail_from=UNKNOWN)
    [told] = intake.mails_to(UNKNOWN)
    assert told.headers["Content-Language"] == language


@pytest.mark.parametrize(
    "mail_from, headers",
    [
        ("", {}),  # a bounce: MAIL FROM:<>
        (UNKNOWN, {"Auto-Submitted": "auto-replied"}),
        (UNKNOWN, {"Auto-Submitted": "auto-generated; owner-email=x@supplier.be"}),
        (UNKNOWN, {"Precedence": "bulk"}),
        (UNKNOWN, {"Precedence": "list"}),
        (UNKNOWN, {"Precedence": "junk"}),
    ],
)
def test_no_reply_to_bounces_and_automatic_mail(intake, mail_from, headers):
    world = intake.world
    reply = intake.send(invoice(UNKNOWN, headers=headers), intake.address(world.a), mail_from=mail_from)
    assert reply.text == WAITING[4:]
    assert intake.mails_to(UNKNOWN) == []
    assert len(intake.mails_to("paula@example.be", "intake_approver")) == 1  # the approver still is


def test_the_language_of_the_text_part_counts_too(intake):
    raw = invoice(UNKNOWN).replace(
        b"Content-Type: text/plain", b"Content-Language: de\r\nContent-Type: text/plain", 1
    )
    intake.send(raw, intake.address(intake.world.a), mail_from=UNKNOWN)
    assert intake.mails_to(UNKNOWN)[0].headers["Content-Language"] == "de"


def test_auto_submitted_no_is_a_person_writing(intake):
    intake.send(
        invoice(UNKNOWN, headers={"Auto-Submitted": "no"}), intake.address(intake.world.a), mail_from=UNKNOWN
    )
    assert len(intake.mails_to(UNKNOWN, "intake_pending")) == 1


def test_no_reply_to_one_of_coffres_own_intake_addresses(intake):
    own = intake.address(intake.world.b)
    intake.send(invoice(own), intake.address(person=intake.world.bob), mail_from=own)
    assert intake.mails_to(own) == []
    assert intake.activity(person=intake.world.bob)[0].outcome == "refused"
    assert replies.is_own_address(f"anything@{INTAKE_DOMAIN}")


def test_no_reply_to_a_blacklisted_sender_not_even_the_refusal(intake):
    world = intake.world
    intake.send(numbered(1), intake.address(world.a), mail_from=UNKNOWN)
    approval = intake.approval(world.a, UNKNOWN)
    intake.client(world.paula).post(
        f"/e/{world.a.cbe}/email-access/senders/{approval.pk}/", {"decision": "blacklist"}
    )
    intake.send(numbered(2), intake.address(world.a), mail_from=UNKNOWN)
    intake.send(numbered(3), intake.address(world.a, "purchases"), mail_from=UNKNOWN)
    assert [mail.purpose for mail in intake.mails_to(UNKNOWN)] == ["intake_pending"]  # the first mail's only


def test_replies_are_rate_limited_per_address(intake):
    world = intake.world
    for number in range(replies.REPLIES_PER_HOUR + 3):
        assert intake.send(numbered(number), intake.address(world.a), mail_from=UNKNOWN).text == WAITING[4:]
    assert len(intake.waiting(world.a)) == replies.REPLIES_PER_HOUR + 3  # every mail is kept
    assert len(intake.mails_to(UNKNOWN)) == replies.REPLIES_PER_HOUR  # the replies are not
    assert len(intake.mails_to("paula@example.be", "intake_approver")) == replies.REPLIES_PER_HOUR + 3


def test_the_approvers_get_a_portal_notice_and_an_e_mail(intake, settings):
    settings.COFFRE_BASE_URL = "https://coffre.example"
    world = intake.world
    intake.send(
        invoice(UNKNOWN, subject="Invoice 88"), intake.address(world.a, "purchases"), mail_from=UNKNOWN
    )
    [notice] = intake.mails_to("paula@example.be", "intake_approver")
    assert notice.headers["Auto-Submitted"] == "auto-generated"
    assert notice.headers["Content-Language"] == "fr"  # paula reads French
    assert f"https://coffre.example/e/{world.a.cbe}/email-access/" in notice.text
    assert UNKNOWN in notice.text and "Invoice 88" in notice.text
    page = intake.client(world.paula).get(f"/e/{world.a.cbe}/").content.decode()
    assert "E-mails wait for your decision:" in page
    assert f'href="/e/{world.a.cbe}/email-access/"' in page
    # Not a notice for those who do not decide.
    assert (
        "E-mails wait for your decision:"
        not in intake.client(world.alice).get(f"/e/{world.a.cbe}/").content.decode()
    )
