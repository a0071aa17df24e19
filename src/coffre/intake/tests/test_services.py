"""The intake's services (coffre.intake.services): the addresses of the spaces, decisions that do
not apply, and the expiry of the mails that waited 30 days."""

import datetime as dt
import re

import pytest
from django.utils.module_loading import import_string

from coffre.accounts.permissions import SenderApprover
from coffre.accounts.tests.portal_people import ACTOR, world_fixture  # noqa: F401
from coffre.audit.models import AuditRecord
from coffre.intake import services
from coffre.intake.models import IntakeMail, MailOutcome, PendingMail, SenderApproval, SenderStatus
from coffre.intake.tests.intake_mails import invoice, receive, space_address
from coffre.mailbox import store
from coffre.mailbox.models import Blob, Ebox
from coffre.mailbox.services_spaces import personal_box

CLIENT_ADMIN = frozenset({SenderApprover.CLIENT_ADMIN})


def test_an_address_is_readable_and_unguessable(world):
    box = Ebox.objects.get(enterprise=world.a)
    address = services.address_for(box, "purchases", ACTOR)
    assert re.fullmatch(r"alpha-srl\.purchases\.[a-km-np-z2-9]{10}", address.local_part)
    assert len(services.RANDOM_ALPHABET) ** services.RANDOM_LENGTH >= 2**50
    assert services.address_for(box, "purchases", ACTOR) == address  # made once
    person = personal_box(world.felix)
    assert services.address_for(person, "documents", ACTOR).local_part.startswith("felix.documents.")
    with pytest.raises(ValueError):
        services.address_for(person, "purchases", ACTOR)
    assert AuditRecord.objects.filter(action="intake.address.created").count() == 2


def test_regenerating_gives_another_random_part(world):
    box = Ebox.objects.get(enterprise=world.a)
    before = services.address_for(box, "documents", ACTOR).local_part
    after = services.regenerate_address(box, "documents", ACTOR).local_part
    assert after != before and after.startswith("alpha-srl.documents.")


@pytest.fixture
def waiting(world, settings):
    settings.COFFRE_SENDER_AUTH = False
    box = Ebox.objects.get(enterprise=world.a)
    receive(invoice("stranger@elsewhere.example"), space_address(box), mail_from="stranger@elsewhere.example")
    return PendingMail.objects.get(ebox=box)


def test_a_decision_that_does_not_apply_changes_nothing(world, waiting):
    approval = waiting.approval
    with pytest.raises(services.DecisionRefused):
        services.decide_sender(approval, services.LIFT, by=world.paula, kinds=CLIENT_ADMIN, actor=ACTOR)
    with pytest.raises(services.DecisionRefused):  # an attached collaborator does not decide this one
        services.decide_sender(
            approval,
            services.ACCEPT,
            by=world.felix,
            kinds=frozenset({SenderApprover.ATTACHED_COLLABORATORS}),
            actor=ACTOR,
        )
    approval.refresh_from_db()
    assert approval.status == SenderStatus.PENDING
    assert PendingMail.objects.filter(pk=waiting.pk).exists()


def test_the_decisions_offered_follow_the_status(world, waiting):
    approval = SenderApproval.objects.get(pk=waiting.approval_id)
    assert services.decisions_for(approval) == ["accept", "refuse", "blacklist"]
    approval.status = SenderStatus.AUTHORIZED
    approval.waiting_count = 0
    assert services.decisions_for(approval) == ["refuse", "blacklist"]
    approval.status = SenderStatus.BLACKLISTED
    assert services.decisions_for(approval) == ["lift"]


def test_a_mail_waiting_30_days_expires_with_its_encrypted_copy(
    world, waiting, clock, django_capture_on_commit_callbacks
):
    blob = waiting.blob
    clock.move_to(waiting.expires_at - dt.timedelta(minutes=1))
    assert services.expire_pending_mails() == 0
    clock.shift(dt.timedelta(minutes=2))
    with django_capture_on_commit_callbacks(execute=True):
        assert services.expire_pending_mails() == 1
    assert not PendingMail.objects.exists()
    assert not Blob.objects.filter(pk=blob.pk).exists()
    assert not store.blob_storage().exists(blob.storage_name)
    assert IntakeMail.objects.get().outcome == MailOutcome.EXPIRED
    assert AuditRecord.objects.filter(action="intake.mail.expired").count() == 1


def test_the_expiry_runs_periodically(world, waiting, settings, clock):
    entry = settings.COFFRE_PERIODIC_TASKS["expire-pending-mails"]
    task = import_string(entry["task"])
    assert entry["every"] <= 24 * 3600
    clock.move_to(waiting.expires_at)
    assert task.call() == 1
    assert not PendingMail.objects.exists()
