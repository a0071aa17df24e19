"""Every rule of seed 002 (issue 6, point 3), spoken over SMTP to the running server: the reply,
what is stored or kept waiting, the approvals in the portal, the activity.

People (portal_people's world): A's principal paula (its client admin), alice (manager), bob
(member); Fidu Lebrun has A in its portfolio, fanny (its admin) and felix (collaborator) work for
it. Their addresses at example.be are authenticated (SPF for 127.0.0.1).
"""

import pytest

from coffre.accounts import services_firms
from coffre.accounts.models import Favourite
from coffre.accounts.tests.portal_people import ACTOR, world_fixture  # noqa: F401
from coffre.intake.models import MailOutcome, SenderStatus
from coffre.intake.tests.intake_mails import PDF, invoice, mail
from coffre.intake.tests.smtp_world import intake  # noqa: F401
from coffre.smtpd.routes import ONLY_OWN_ADDRESS, STORED, WAITING

UNKNOWN = "accounts@supplier.be"  # authenticated, nobody's


def decide(intake, person, enterprise, approval, decision: str):
    return intake.client(person).post(
        f"/e/{enterprise.cbe}/email-access/senders/{approval.pk}/", {"decision": decision}
    )


# --- My documents ---------------------------------------------------------------------------------


def test_my_documents_from_the_accounts_own_address_is_stored(intake):
    bob = intake.world.bob
    to = intake.address(person=bob)
    reply = intake.send(invoice("Bob <bob@example.be>"), to, mail_from="bob@example.be")
    assert (reply.code, reply.text) == (250, STORED[4:])
    [document] = intake.documents(person=bob)
    assert document.sender_address == "bob@example.be"
    assert document.subject == {"en": "Invoice January"}  # bob reads English
    assert document.attachments.get().file_name == "invoice-2026-001.pdf"
    assert intake.mails_to("bob@example.be") == []  # nothing to approve, nothing to tell


def test_my_documents_from_the_own_but_unauthenticated_address_waits_for_the_owners_click(intake, settings):
    settings.COFFRE_SENDER_AUTH = False  # every sender unauthenticated ("disabled")
    bob = intake.world.bob
    reply = intake.send(
        invoice("bob@example.be", subject="Scan"), intake.address(person=bob), mail_from="bob@example.be"
    )
    assert (reply.code, reply.text) == (250, WAITING[4:])
    assert intake.documents(person=bob) == []
    [waiting] = intake.waiting(person=bob)
    [notice] = intake.mails_to("bob@example.be", "intake_approver")  # the owner is told
    assert "My documents" in notice.subject

    page = intake.client(bob).get("/my-documents/").content.decode()
    assert "E-mails waiting for your approval" in page and "Scan" in page
    response = intake.client(bob).post(f"/my-documents/waiting/{waiting.pk}/", {"decision": "accept"})
    assert response.status_code == 302
    [document] = intake.documents(person=bob)
    assert document.attachments.get().blob.owner_id == bob.pk
    assert intake.waiting(person=bob) == []
    assert intake.activity(person=bob)[0].outcome == MailOutcome.ACCEPTED


def test_my_documents_discarded_by_the_owner(intake, settings):
    settings.COFFRE_SENDER_AUTH = False
    bob = intake.world.bob
    intake.send(invoice("bob@example.be"), intake.address(person=bob), mail_from="bob@example.be")
    [waiting] = intake.waiting(person=bob)
    # Somebody else cannot decide about bob's mail: it is not in their box.
    assert (
        intake.client(intake.world.alice)
        .post(f"/my-documents/waiting/{waiting.pk}/", {"decision": "accept"})
        .status_code
        == 404
    )
    intake.client(bob).post(f"/my-documents/waiting/{waiting.pk}/", {"decision": "discard"})
    assert intake.documents(person=bob) == [] and intake.waiting(person=bob) == []
    assert intake.activity(person=bob)[0].outcome == MailOutcome.DISCARDED


def test_my_documents_from_another_address_is_refused_and_the_sender_told(intake):
    bob = intake.world.bob
    reply = intake.send(
        invoice("Alice <alice@example.be>"), intake.address(person=bob), mail_from="alice@example.be"
    )
    assert (reply.code, reply.text) == (550, ONLY_OWN_ADDRESS[4:])
    assert "only the e-mail address of the account" in reply.text
    assert intake.documents(person=bob) == [] and intake.waiting(person=bob) == []
    [told] = intake.mails_to("alice@example.be")
    assert told.purpose == "intake_wrong_address"
    assert "only the e-mail address of the account that owns" in told.text
    assert "bob@example.be" not in told.text  # the owner's address is not disclosed
    [activity] = intake.activity(person=bob)
    assert (activity.outcome, activity.rule) == (MailOutcome.REFUSED, "not-own-address")


# --- an enterprise's Documents and Purchases --------------------------------------------------------


@pytest.mark.parametrize("folder", ["documents", "purchases"])
def test_a_person_of_the_enterprise_goes_straight_in(intake, folder):
    a = intake.world.a
    reply = intake.send(invoice("bob@example.be"), intake.address(a, folder), mail_from="bob@example.be")
    assert reply.code == 250 and reply.text == STORED[4:]
    [document] = intake.documents(a, folder)
    assert document.folder == folder and document.sender_address == "bob@example.be"
    assert intake.activity(a)[0].rule == "role-in-enterprise"


def test_a_collaborator_with_the_enterprise_in_favourites_goes_straight_in(intake):
    world = intake.world
    felix = world.felix.collaborations.get()
    Favourite.objects.create(collaborator=felix, client_file=world.fidu_a)
    reply = intake.send(
        invoice("felix@example.be"), intake.address(world.a, "purchases"), mail_from="felix@example.be"
    )
    assert reply.text == STORED[4:]
    assert len(intake.documents(world.a, "purchases")) == 1
    assert intake.activity(world.a)[0].rule == "collaborator-favourite"


def test_a_collaborator_without_the_favourite_waits_for_a_collaborator_attached(intake):
    world = intake.world
    services_firms.attach(world.fidu_a, world.fanny_c, actor=ACTOR)  # fanny handles A's file
    to = intake.address(world.a)
    # felix's mail says it is in English: the notice to him is in English.
    english = {"Content-Language": "en"}
    reply = intake.send(
        invoice("felix@example.be", subject="Bank statements", headers=english),
        to,
        mail_from="felix@example.be",
    )
    assert reply.text == WAITING[4:]
    approval = intake.approval(world.a, "felix@example.be")
    assert (approval.status, approval.approvers) == (SenderStatus.PENDING, "attached_collaborators")
    [pending_notice] = intake.mails_to("felix@example.be", "intake_pending")
    assert pending_notice.headers["Content-Language"] == "en"
    assert "A collaborator attached to this enterprise's file decides." in pending_notice.text
    assert len(intake.mails_to("fanny@example.be", "intake_approver")) == 1
    assert intake.mails_to("paula@example.be", "intake_approver") == []

    # The client admin is not the approver the seed names for a collaborator: refused.
    assert decide(intake, world.paula, world.a, approval, "accept").status_code == 403
    assert decide(intake, world.fanny, world.a, approval, "accept").status_code == 302
    approval.refresh_from_db()
    assert approval.status == SenderStatus.AUTHORIZED
    [document] = intake.documents(world.a)
    assert document.subject == {"fr": "Bank statements"}  # A reads French
    [accepted] = intake.mails_to("felix@example.be", "intake_accepted")
    assert "Bank statements" in accepted.text

    # Approval is needed once per address: the next mail goes straight in.
    assert (
        intake.send(
            invoice("felix@example.be", attachments=[("b.pdf", "application/pdf", PDF + b"2")]),
            to,
            mail_from="felix@example.be",
        ).text
        == STORED[4:]
    )
    assert len(intake.documents(world.a)) == 2


def test_an_unknown_address_waits_for_the_client_admin(intake):
    world = intake.world
    services_firms.attach(world.fidu_a, world.felix_c, actor=ACTOR)
    to = intake.address(world.a, "purchases")
    reply = intake.send(invoice(UNKNOWN, subject="Invoice 77"), to, mail_from=UNKNOWN)
    assert reply.text == WAITING[4:]
    assert intake.documents(world.a, "purchases") == []
    approval = intake.approval(world.a, UNKNOWN)
    assert approval.approvers == "client_admin"
    assert len(intake.mails_to(UNKNOWN, "intake_pending")) == 1
    assert len(intake.mails_to("paula@example.be", "intake_approver")) == 1

    # felix is attached, but only the client admin decides about an unknown address.
    assert decide(intake, world.felix, world.a, approval, "accept").status_code == 403
    assert (
        decide(intake, world.alice, world.a, approval, "accept").status_code == 403
    )  # a manager, not the admin
    assert decide(intake, world.charlie, world.a, approval, "accept").status_code == 404
    assert decide(intake, world.paula, world.a, approval, "accept").status_code == 302
    [document] = intake.documents(world.a, "purchases")
    assert document.sender_address == UNKNOWN
    assert intake.activity(world.a)[0].outcome == MailOutcome.ACCEPTED
    assert len(intake.mails_to(UNKNOWN, "intake_accepted")) == 1
    again = intake.send(
        invoice(UNKNOWN, attachments=[("c.pdf", "application/pdf", PDF + b"3")]), to, mail_from=UNKNOWN
    )
    assert again.text == STORED[4:]


def test_the_client_admin_chosen_by_the_managers_decides(intake):
    world = intake.world
    world.a.client_admin = world.bob
    world.a.save(update_fields=["client_admin"])
    intake.send(invoice(UNKNOWN), intake.address(world.a), mail_from=UNKNOWN)
    approval = intake.approval(world.a, UNKNOWN)
    assert decide(intake, world.paula, world.a, approval, "accept").status_code == 403
    assert decide(intake, world.bob, world.a, approval, "accept").status_code == 302
    assert len(intake.documents(world.a)) == 1


def test_approval_is_per_enterprise(intake):
    world = intake.world
    intake.send(invoice(UNKNOWN), intake.address(world.a), mail_from=UNKNOWN)
    decide(intake, world.paula, world.a, intake.approval(world.a, UNKNOWN), "accept")
    reply = intake.send(invoice(UNKNOWN), intake.address(world.b), mail_from=UNKNOWN)
    assert reply.text == WAITING[4:]
    assert intake.approval(world.b, UNKNOWN).status == SenderStatus.PENDING


def test_refused_discards_the_waiting_mail_tells_the_sender_and_asks_again_next_time(intake):
    world = intake.world
    to = intake.address(world.a)
    intake.send(invoice(UNKNOWN, subject="Spam offer"), to, mail_from=UNKNOWN)
    approval = intake.approval(world.a, UNKNOWN)
    assert decide(intake, world.paula, world.a, approval, "refuse").status_code == 302
    approval.refresh_from_db()
    assert approval.status == SenderStatus.REFUSED
    assert intake.waiting(world.a) == [] and intake.documents(world.a) == []
    assert intake.activity(world.a)[0].outcome == MailOutcome.DISCARDED
    [refused] = intake.mails_to(UNKNOWN, "intake_refused")
    assert "Spam offer" in refused.text
    # A refused address asks again (seed 002: "sauf en cas de refus").
    assert intake.send(invoice(UNKNOWN), to, mail_from=UNKNOWN).text == WAITING[4:]
    approval.refresh_from_db()
    assert approval.status == SenderStatus.PENDING


def test_blacklisted_is_dropped_without_reply_listed_in_the_activity_and_can_be_lifted(intake):
    world = intake.world
    to = intake.address(world.a)
    intake.send(invoice(UNKNOWN), to, mail_from=UNKNOWN)
    approval = intake.approval(world.a, UNKNOWN)
    assert decide(intake, world.paula, world.a, approval, "blacklist").status_code == 302
    assert intake.waiting(world.a) == []
    replies_before = len(intake.mails_to(UNKNOWN))

    reply = intake.send(invoice(UNKNOWN, subject="Again"), to, mail_from=UNKNOWN)
    assert reply.code == 250  # dropped silently: no bounce either
    assert intake.documents(world.a) == [] and intake.waiting(world.a) == []
    assert len(intake.mails_to(UNKNOWN)) == replies_before
    last = intake.activity(world.a)[-1]
    assert (last.subject, last.outcome) == ("Again", MailOutcome.BLACKLISTED)
    page = intake.client(world.paula).get(f"/e/{world.a.cbe}/email-access/activity/").content.decode()
    assert "Dropped: blacklisted sender" in page and "Again" in page

    assert decide(intake, world.paula, world.a, approval, "lift").status_code == 302
    approval.refresh_from_db()
    assert approval.status == SenderStatus.REFUSED
    assert intake.send(invoice(UNKNOWN), to, mail_from=UNKNOWN).text == WAITING[4:]


def test_a_mail_without_a_usable_sender_waits_for_the_client_admin(intake):
    world = intake.world
    reply = intake.send(
        invoice(None, subject="Anonymous scan"), intake.address(world.a), mail_from="scanner@example.be"
    )
    assert reply.text == WAITING[4:]
    [waiting] = intake.waiting(world.a)
    assert waiting.approval is None
    page = intake.client(world.paula).get(f"/e/{world.a.cbe}/email-access/").content.decode()
    assert "Anonymous scan" in page
    url = f"/e/{world.a.cbe}/email-access/waiting/{waiting.pk}/"
    assert intake.client(world.alice).post(url, {"decision": "accept"}).status_code == 403
    assert intake.client(world.paula).post(url, {"decision": "accept"}).status_code == 302
    assert len(intake.documents(world.a)) == 1


def test_an_authorized_address_goes_straight_in_only_while_authenticated(intake):
    world = intake.world
    to = intake.address(world.a)
    intake.send(invoice(UNKNOWN), to, mail_from=UNKNOWN)
    decide(intake, world.paula, world.a, intake.approval(world.a, UNKNOWN), "accept")
    # The same From, now from a server its domain does not allow: held as unknown.
    intake.dns.remove("supplier.be")
    intake.dns.txt("supplier.be", "v=spf1 ip4:192.0.2.99 -all")
    reply = intake.send(
        invoice(UNKNOWN, attachments=[("x.pdf", "application/pdf", PDF + b"x")]), to, mail_from=UNKNOWN
    )
    assert reply.text == WAITING[4:]
    assert intake.approval(world.a, UNKNOWN).status == SenderStatus.AUTHORIZED
    assert intake.activity(world.a)[-1].rule == "authentication-failed"
    # The first mail's notice only: a failing verdict gets no reply (the From is probably forged).
    assert len(intake.mails_to(UNKNOWN, "intake_pending")) == 1


def test_a_mail_to_two_spaces_is_decided_for_each(intake):
    world = intake.world
    reply = intake.send(
        invoice("bob@example.be"),
        intake.address(world.a),
        intake.address(world.b, "purchases"),
        mail_from="bob@example.be",
    )
    assert reply.code == 250
    assert len(intake.documents(world.a)) == 1  # bob is a member of A
    assert intake.approval(world.b, "bob@example.be").status == SenderStatus.PENDING  # unknown to B


def test_a_mail_received_again_is_not_stored_twice(intake):
    world = intake.world
    raw = invoice("bob@example.be")
    to = intake.address(world.a)
    assert intake.send(raw, to, mail_from="bob@example.be").text == STORED[4:]
    assert intake.send(raw, to, mail_from="bob@example.be").text == STORED[4:]  # a redelivery
    assert len(intake.documents(world.a)) == 1
    assert len(intake.activity(world.a)) == 1


def test_a_document_already_in_the_space_is_noted_not_stored(intake):
    world = intake.world
    to = intake.address(world.a)
    intake.send(invoice("bob@example.be"), to, mail_from="bob@example.be")
    intake.send(invoice("bob@example.be", subject="Same invoice, forwarded"), to, mail_from="bob@example.be")
    assert len(intake.documents(world.a)) == 1
    second = intake.activity(world.a)[-1]
    assert second.outcome == MailOutcome.STORED and second.details["stored"] == []
    assert second.details["duplicates"][0]["file_name"] == "invoice-2026-001.pdf"
    page = intake.client(world.paula).get(f"/e/{world.a.cbe}/email-access/activity/").content.decode()
    assert "Already in the space, not stored again: invoice-2026-001.pdf" in page


def test_a_mail_without_attachment_is_stored_as_its_text(intake):
    world = intake.world
    intake.send(
        mail("bob@example.be", subject="Note", body="Meeting on Monday."),
        intake.address(world.a),
        mail_from="bob@example.be",
    )
    [document] = intake.documents(world.a)
    attachment = document.attachments.get()
    assert (attachment.file_name, attachment.media_type) == ("Note.txt", "text/plain")  # named after the subject
