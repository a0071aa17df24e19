"""Bad input over SMTP (issue 6, point 8): what a mail holds never crashes the server; a file that
is refused (a program, an archive bomb, a document with macros) is named in the activity with its
reason, and the rest of the mail is taken; a malformed mail is taken as far as it can be read."""

from coffre.accounts.tests.portal_people import world_fixture  # noqa: F401
from coffre.intake.models import MailOutcome
from coffre.intake.tests import samples
from coffre.intake.tests.intake_mails import PDF, invoice
from coffre.intake.tests.smtp_world import intake  # noqa: F401
from coffre.smtpd.routes import STORED


def activity_page(intake) -> str:
    world = intake.world
    return intake.client(world.paula).get(f"/e/{world.a.cbe}/email-access/activity/").content.decode()


def test_refused_files_are_named_in_the_activity_and_the_rest_is_stored(intake):
    world = intake.world
    raw = invoice(
        "bob@example.be",
        attachments=[
            ("invoice.pdf", "application/pdf", PDF),
            ("setup.exe", "application/octet-stream", samples.pe()),
            ("archive.zip", "application/zip", samples.zip_bomb(megabytes=60)),
            ("contract.docm", "application/octet-stream", samples.docx(macro=True)),
        ],
    )
    reply = intake.send(raw, intake.address(world.a), mail_from="bob@example.be")
    assert (reply.code, reply.text) == (250, STORED[4:])
    [document] = intake.documents(world.a)
    assert [attachment.file_name for attachment in document.attachments.all()] == ["invoice.pdf"]
    [activity] = intake.activity(world.a)
    assert activity.attachments == ["invoice.pdf"]
    assert [item["file"] for item in activity.details["refused"]] == ["setup.exe", "archive.zip", "contract.docm"]
    page = activity_page(intake)
    assert "Not stored: setup.exe (a program)" in page
    assert "Not stored: archive.zip (an archive that unpacks to too much)" in page
    assert "Not stored: contract.docm (an office document with macros)" in page


def test_a_mail_of_refused_files_only_stores_nothing_and_says_why(intake):
    world = intake.world
    raw = invoice("bob@example.be", attachments=[("tool.exe", "application/x-msdownload", samples.pe())])
    reply = intake.send(raw, intake.address(world.a), mail_from="bob@example.be")
    assert reply.code == 250
    assert intake.documents(world.a) == []
    [activity] = intake.activity(world.a)
    assert activity.outcome == MailOutcome.STORED and activity.attachments == []
    assert "Not stored: tool.exe (a program)" in activity_page(intake)


def test_a_malformed_mail_is_taken_as_far_as_it_can_be_read(intake):
    world = intake.world
    broken = (
        b"From: bob@example.be\r\nTo: x@y\r\nSubject: =?utf-8?B?broken?=\r\nMessage-ID: <m1@client>\r\n"
        b'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="never-closed"\r\n\r\n'
        b"--never-closed\r\nContent-Type: text/plain; charset=x-unknown-charset\r\n\r\n"
        b"Voici la facture \xe9\xe8\r\n"
        b"--never-closed\r\nContent-Type: application/pdf; name=invoice.pdf\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n" + b"JVBERi0xLjQK!!!not base64 at all" + b"\r\n"
    )
    reply = intake.send(broken, intake.address(world.a), mail_from="bob@example.be")
    assert reply.code == 250
    [activity] = intake.activity(world.a)
    assert activity.outcome == MailOutcome.STORED
    # The server is still answering.
    again = intake.send(invoice("bob@example.be"), intake.address(world.a), mail_from="bob@example.be")
    assert again.text == STORED[4:]
