"""The notification tests' world: the mailbox tests' portal (A with alice, bob, ann and the firm's
carl; B with charlie) where each e-Box has a confirmed notification address; A's has an
anti-phishing phrase. The notification addresses are nobody's account, so their mails speak the
enterprise's language: A writes English, B writes Dutch."""

import datetime as dt

import pytest

from coffre.events.services import BRUSSELS
from coffre.mailbox.models import Ebox
from coffre.mailbox.tests.conftest import portal  # noqa: F401  (the fixture)
from coffre.notifications import services
from coffre.outbox.models import OutgoingMail

A_ADDRESS = "info@alice-co.be"
B_ADDRESS = "bureau@charlie-srl.be"
PHRASE = "Blue heron at dawn"


@pytest.fixture
def world(portal, clock):  # noqa: F811
    clock.move_to("2026-03-01T12:00:00+01:00")  # a Sunday
    Ebox.objects.filter(enterprise=portal.a).update(
        notification_email=A_ADDRESS, notification_status="verified", anti_phishing_phrase=PHRASE
    )
    Ebox.objects.filter(enterprise=portal.b).update(notification_email=B_ADDRESS, notification_status="verified")
    portal.a.language = "en"
    portal.a.save(update_fields=["language"])
    portal.b.language = "nl"
    portal.b.save(update_fields=["language"])
    return portal


def brussels(text: str) -> dt.datetime:
    """``"2026-03-03 02:00"`` read as Brussels wall-clock time."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=BRUSSELS)


def night(clock, text: str, **options) -> services.NightReport:
    """Move the clock to ``text`` (Brussels) and do the night's work there."""
    clock.move_to(brussels(text))
    return services.run_nightly(**options)


def digests(**filters) -> list[OutgoingMail]:
    return list(OutgoingMail.objects.filter(purpose="digest", **filters).order_by("id"))
