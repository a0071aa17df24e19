"""The addresses of the spaces at the SMTP server: known ones are taken, unknown and replaced ones
refused at RCPT TO with a clear answer, and the size limit holds (552)."""

from coffre.accounts.tests.portal_people import ACTOR, world_fixture  # noqa: F401
from coffre.intake import services
from coffre.intake.models import IntakeMail
from coffre.intake.tests.intake_mails import invoice
from coffre.intake.tests.smtp_world import INTAKE_DOMAIN, intake  # noqa: F401
from coffre.smtpd.routes import STORED, UNKNOWN_SPACE


def test_an_unknown_address_of_the_intake_domain_is_refused_at_rcpt(intake):
    reply = intake.send(
        invoice("bob@example.be"),
        f"alpha-srl.documents.aaaaaaaaaa@{INTAKE_DOMAIN}",
        mail_from="bob@example.be",
    )
    [(code, text)] = reply.refused.values()
    assert (code, text) == (550, UNKNOWN_SPACE[4:])
    assert "not (or no longer) the address of a space" in text
    assert IntakeMail.objects.count() == 0


def test_another_domain_is_refused_at_rcpt(intake):
    reply = intake.send(invoice("bob@example.be"), "documents@elsewhere.example", mail_from="bob@example.be")
    [(code, text)] = reply.refused.values()
    assert code == 550 and "5.1.1" in text


def test_a_replaced_address_is_refused_and_the_new_one_taken(intake):
    box = intake.box(intake.world.a)
    old = intake.address(intake.world.a)
    services.regenerate_address(box, "documents", ACTOR)
    new = intake.address(intake.world.a)
    assert new != old and new.endswith(f"@{INTAKE_DOMAIN}")
    refused = intake.send(invoice("bob@example.be"), old, mail_from="bob@example.be")
    assert refused.refused[old][0] == 550
    taken = intake.send(invoice("bob@example.be"), new, mail_from="bob@example.be")
    assert taken.text == STORED[4:]


def test_the_address_is_case_insensitive(intake):
    address = intake.address(intake.world.a)
    reply = intake.send(invoice("bob@example.be"), address.upper(), mail_from="bob@example.be")
    assert reply.text == STORED[4:]


def test_a_message_too_large_is_refused_with_552(intake, settings):
    settings.COFFRE_SMTPD_MAX_MESSAGE_SIZE = 64 * 1024
    raw = invoice("bob@example.be", attachments=[("big.pdf", "application/pdf", b"%PDF" + b"x" * 70_000)])
    reply = intake.send(raw, intake.address(intake.world.a), mail_from="bob@example.be")
    assert reply.code == 552
    assert IntakeMail.objects.count() == 0


def test_the_size_limit_is_25_mb_by_default(monkeypatch):
    monkeypatch.delenv("COFFRE_SMTPD_MAX_MESSAGE_SIZE", raising=False)
    from coffre import settings as coffre_settings

    assert coffre_settings.COFFRE_SMTPD_MAX_MESSAGE_SIZE == 25 * 1024 * 1024
