"""Sender authentication over SMTP (issue 6, point 4): an address counts as approved, or as the
account's own, only when the mail passes SPF or DKIM aligned with its domain; the verdict of every
mail is in the activity. Real DNS (``dns_server``), real DKIM signatures (dkimpy), real SMTP."""

from coffre.accounts.models import Membership, Role
from coffre.accounts.tests.portal_people import person, world_fixture  # noqa: F401
from coffre.intake.models import IntakeMail, MailOutcome
from coffre.intake.tests.intake_mails import invoice
from coffre.intake.tests.smtp_world import intake  # noqa: F401
from coffre.smtpd.routes import ONLY_OWN_ADDRESS, STORED, TRY_LATER, WAITING


def member_of_a(intake, email: str):
    someone = person(email)
    Membership.objects.create(user=someone, enterprise=intake.world.a, role=Role.MEMBER)
    return someone


def test_a_dkim_signature_aligned_with_the_from_domain_authenticates(intake, dkim_key):
    owner = person("owner@signed.example")
    dkim_key.publish(intake.dns, "signed.example", "s1")  # no SPF: DKIM alone
    raw = dkim_key.sign(invoice("owner@signed.example"), "signed.example", "s1")
    reply = intake.send(raw, intake.address(person=owner), mail_from="bounce@mailer.example")
    assert reply.text == STORED[4:]
    [activity] = intake.activity(person=owner)
    assert activity.verdict["status"] == "pass"
    assert activity.verdict["details"]["code"] == "dkim-aligned-pass"


def test_a_signature_broken_on_the_way_fails_my_documents(intake, dkim_key):
    owner = person("owner@signed.example")
    dkim_key.publish(intake.dns, "signed.example", "s1")
    raw = dkim_key.sign(invoice("owner@signed.example"), "signed.example", "s1").replace(b"Please", b"Pleeze")
    reply = intake.send(raw, intake.address(person=owner), mail_from="bounce@mailer.example")
    assert (reply.code, reply.text) == (550, ONLY_OWN_ADDRESS[4:])
    assert intake.documents(person=owner) == [] and intake.waiting(person=owner) == []
    assert intake.activity(person=owner)[0].verdict_status == "fail"
    assert intake.mails_to("owner@signed.example") == []  # its domain says it is forged: no reply


def test_a_failing_insider_is_held_as_an_unknown_address(intake):
    member_of_a(intake, "boss@strict.example")  # strict.example allows another server only
    reply = intake.send(
        invoice("boss@strict.example"), intake.address(intake.world.a), mail_from="boss@strict.example"
    )
    assert reply.text == WAITING[4:]
    assert intake.documents(intake.world.a) == []
    activity = intake.activity(intake.world.a)[0]
    assert (activity.verdict_status, activity.rule) == ("fail", "authentication-failed")
    assert intake.approval(intake.world.a, "boss@strict.example").approvers == "client_admin"


def test_an_unauthenticated_insider_waits_and_its_own_box_asks_its_owner(intake):
    someone = member_of_a(intake, "owner@nothing.example")  # nothing.example publishes nothing
    raw = invoice("owner@nothing.example")
    reply = intake.send(
        raw, intake.address(intake.world.a), intake.address(person=someone), mail_from="owner@nothing.example"
    )
    assert reply.text == WAITING[4:]
    assert intake.activity(intake.world.a)[0].rule == "unauthenticated"
    assert intake.waiting(person=someone)[0].approvers == "owner"
    assert intake.activity(person=someone)[0].verdict["details"]["code"] == "nothing-published"


def test_a_dns_timeout_is_deferred_and_nothing_is_kept(intake):
    member_of_a(intake, "late@slow.example")
    reply = intake.send(
        invoice("late@slow.example"), intake.address(intake.world.a), mail_from="late@slow.example"
    )
    assert (reply.code, reply.text) == (451, TRY_LATER[4:])
    assert IntakeMail.objects.count() == 0  # the sending server tries again later
    assert intake.documents(intake.world.a) == [] and intake.waiting(intake.world.a) == []


def test_with_sender_authentication_off_every_sender_is_unauthenticated_and_shown_so(intake, settings):
    settings.COFFRE_SENDER_AUTH = False
    world = intake.world
    reply = intake.send(invoice("bob@example.be"), intake.address(world.a), mail_from="bob@example.be")
    assert reply.text == WAITING[4:]  # even a member: nobody can tell it is bob
    assert intake.activity(world.a)[0].verdict_status == "disabled"
    page = intake.client(world.paula).get(f"/e/{world.a.cbe}/email-access/activity/").content.decode()
    assert "Unauthenticated (sender authentication off)" in page


def test_the_verdict_of_every_mail_is_in_the_activity(intake):
    world = intake.world
    to = intake.address(world.a)
    intake.send(invoice("bob@example.be"), to, mail_from="bob@example.be")
    intake.send(invoice("someone@nothing.example"), to, mail_from="someone@nothing.example")
    intake.send(invoice("forger@strict.example"), to, mail_from="forger@strict.example")
    rows = intake.activity(world.a)
    assert [(row.from_address, row.verdict_status, row.outcome) for row in rows] == [
        ("bob@example.be", "pass", MailOutcome.STORED),
        ("someone@nothing.example", "none", MailOutcome.PENDING),
        ("forger@strict.example", "fail", MailOutcome.PENDING),
    ]
    assert rows[0].verdict["details"]["spf"]["result"] == "pass"
    assert rows[0].verdict["details"]["smtp"]["client_ip"] == "127.0.0.1"
    page = intake.client(world.paula).get(f"/e/{world.a.cbe}/email-access/activity/").content.decode()
    for label in ("Authenticated", "Unauthenticated", "Authentication failed"):
        assert label in page
