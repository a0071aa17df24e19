"""The world of the outbox tests: enterprise A whose e-Box notifies a verified address, and a real
relay (aiosmtpd, coffre.testing.smtp) that Django's SMTP backend hands the mail to."""

import pytest

from coffre.accounts.services import register_enterprise
from coffre.audit.services import Actor
from coffre.core.cbe import make_cbe
from coffre.mailbox.models import Ebox
from coffre.outbox import services
from coffre.testing.smtp import ScriptedRelay, relay_server, relay_settings

A = make_cbe(2000001)
NOTIFIED = "boss@alice.example"
PREFIX = "accounts/mail/verify_email"
CONTEXT = {
    "link": "https://coffre.example/verify/abc",
    "reset_link": "https://coffre.example/reset",
    "days": 3,
}


@pytest.fixture
def ebox(db) -> Ebox:
    enterprise = register_enterprise(A, "Alice & Co", Actor.cli("test")).enterprise
    box = Ebox.objects.get(enterprise=enterprise)
    box.notification_email = NOTIFIED
    box.notification_status = "verified"
    box.save()
    return box


def queue(key="k1", to="alice@example.be", ebox=None, **extra):
    return services.queue_mail(
        key=key, purpose="test", to=to, prefix=PREFIX, context=CONTEXT, language="fr", ebox=ebox, **extra
    )[0]


@pytest.fixture
def relay(settings):
    """``relay(rcpt=[...], data=[...], auth=False)``: a running relay answering from those scripts,
    and Django's SMTP backend pointed at it."""
    running = []

    def start(*, rcpt=None, data=None, auth=False, user="", password=""):
        handler = ScriptedRelay(rcpt=rcpt, data=data)
        server = relay_server(handler, auth=auth).__enter__()
        running.append(server)
        relay_settings(settings, server.port, user=user, password=password)
        return handler

    yield start
    for server in running:
        server.__exit__(None, None, None)
