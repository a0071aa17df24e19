"""What ``coffre demo`` prints for a newcomer: full addresses, and a two-factor command that runs
from the checkout (``coffre`` is not on the PATH after ``make run``)."""

import io
import sys

from django.core.management import call_command


def demo_output(monkeypatch, argv0: str, **env) -> str:
    monkeypatch.setattr(sys, "argv", [argv0, "demo"])
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    out = io.StringIO()
    call_command("demo", stdout=out)
    return out.getvalue()


def test_the_portal_and_console_addresses_are_whole(db, monkeypatch, settings):
    settings.COFFRE_BASE_URL = ""
    text = demo_output(monkeypatch, ".venv/bin/coffre", COFFRE_BIND="0.0.0.0:8080")
    assert "Portal: http://127.0.0.1:8080/accounts/login/" in text
    assert "Operator console: http://127.0.0.1:8080/admin/" in text
    outbox = "Outbox (every e-mail Coffre sent, same operator login): http://127.0.0.1:8080/operator/outbox/"
    assert outbox in text
    settings.COFFRE_BASE_URL = "https://coffre.example.be"
    assert "Portal: https://coffre.example.be/accounts/login/" in demo_output(monkeypatch, "coffre")


def test_the_two_factor_command_is_the_one_that_ran(db, monkeypatch):
    text = demo_output(monkeypatch, ".venv/bin/coffre")
    assert "two-factor code: .venv/bin/coffre demo-totp marie.dupont@boulangerie-dupont.example" in text
    assert "member: e-mail luc.peeters@boulangerie-dupont.example, password " in text
    assert "accountant: e-mail sophie.lebrun@fidu-lebrun.example, password " in text
    elsewhere = demo_output(monkeypatch, "/usr/lib/python3/dist-packages/pytest")
    assert "two-factor code: coffre demo-totp " in elsewhere


def test_the_demo_leaves_a_digest_in_the_outbox_and_says_where(db, monkeypatch):
    from coffre.accounts.models import User
    from coffre.notifications.models import Digest
    from coffre.outbox.models import OutgoingMail

    text = demo_output(monkeypatch, ".venv/bin/coffre")
    (mail,) = OutgoingMail.objects.filter(purpose="digest")
    assert mail.to_address == "marie.dupont@boulangerie-dupont.example"
    # The digest speaks the language of the person who signs in with its address: Marie reads French.
    assert User.objects.get(email=mail.to_address).language == "fr"
    # The 5 published documents and the 25 bills the demo's agent brought into Purchases.
    assert "30 nouveaux documents" in mail.text and "Croissant au beurre" in mail.text
    assert Digest.objects.get(mail=mail).enterprise.cbe == "0456789034"
    assert "1 nightly digest e-mail(s) queued now" in text
    assert "/outbox/ (written by `coffre run`'s worker)" in text
    assert "on the outbox page above" in text and "operator/outbox/" in text and "/genuine/" in text
    again = demo_output(monkeypatch, ".venv/bin/coffre")
    assert "no new nightly digest" in again
    assert OutgoingMail.objects.filter(purpose="digest").count() == 1
