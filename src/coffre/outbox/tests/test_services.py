"""The outbox: a mail is queued once per key, in the transaction that decided it, and delivered once."""

import pytest
from django.db import transaction

from coffre.outbox import services
from coffre.outbox.models import MailStatus, OutgoingMail

PREFIX = "accounts/mail/verify_email"
CONTEXT = {"link": "https://coffre.example/verify/abc", "reset_link": "https://coffre.example/reset", "days": 3}


def queue(key="k1", to="alice@example.be"):
    return services.queue_mail(key=key, purpose="test", to=to, prefix=PREFIX, context=CONTEXT, language="fr")


@pytest.mark.django_db(transaction=True)
def test_a_key_is_queued_once_and_delivered_once(mailoutbox):
    with transaction.atomic():
        mail, created = queue()
    again, created_again = queue()
    assert (created, created_again) == (True, False)
    assert again.pk == mail.pk
    assert services.deliver(mail.pk) == MailStatus.SENT
    assert services.deliver(mail.pk) == MailStatus.SENT  # a repeated task hands nothing over again
    assert len(mailoutbox) == 1
    sent = mailoutbox[0]
    assert sent.to == ["alice@example.be"]
    assert sent.extra_headers["Message-ID"] == mail.message_id
    mail.refresh_from_db()
    assert (mail.status, mail.attempts) == (MailStatus.SENT, 1)


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_change_queues_nothing(mailoutbox):
    with pytest.raises(RuntimeError), transaction.atomic():
        queue()
        raise RuntimeError("the change failed")
    assert not OutgoingMail.objects.exists()
    assert mailoutbox == []
