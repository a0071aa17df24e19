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
