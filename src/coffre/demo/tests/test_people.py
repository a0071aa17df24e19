"""The demo's portal people: created once with their roles, credentials kept in var/demo/, and
the principal's authenticator codes printed by ``coffre demo-totp``."""

import io
import json
import os
import stat
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django_otp.plugins.otp_totp.models import TOTPDevice

from coffre.accounts.models import Membership, User
from coffre.accounts.services_two_factor import current_code
from coffre.demo.people import PEOPLE
from coffre.mailbox.models import Ebox

BAKERY = "0456789034"
PRINCIPAL, MEMBER, ACCOUNTANT = (email for email, *_ in PEOPLE)


def run_demo() -> dict:
    out = io.StringIO()
    call_command("demo", "--json", stdout=out)
    return json.loads(out.getvalue())


def test_the_demo_bakery_has_a_principal_with_an_authenticator_a_member_and_an_accountant(db, client):
    summary = run_demo()
    people = {person["email"]: person for person in summary["people"]}
    roles = dict(Membership.objects.filter(enterprise__cbe=BAKERY).values_list("user__email", "role"))
    assert roles == {PRINCIPAL: "principal", MEMBER: "member", ACCOUNTANT: "accountant"}
    kept = Path(settings.VAR_DIR) / "demo" / "people.json"
    assert stat.S_IMODE(os.stat(kept).st_mode) == 0o600
    device = TOTPDevice.objects.get(user__email=PRINCIPAL, confirmed=True)
    assert people[PRINCIPAL]["totp_secret"] and "totp_secret" not in people[MEMBER]
    assert Ebox.objects.get(enterprise__cbe=BAKERY).notification_email == PRINCIPAL

    # Idempotent: the same people, passwords and secret.
    again = {person["email"]: person for person in run_demo()["people"]}
    assert again == people
    assert TOTPDevice.objects.get(user__email=PRINCIPAL).pk == device.pk
    assert User.objects.filter(email__in=[PRINCIPAL, MEMBER, ACCOUNTANT], is_active=True).count() == 3

    # A newcomer logs in as the principal with the printed code.
    response = client.post(
        "/accounts/login/", {"username": PRINCIPAL, "password": people[PRINCIPAL]["password"]}
    )
    assert response["Location"] == "/accounts/login/code/"
    out = io.StringIO()
    call_command("demo-totp", PRINCIPAL, stdout=out)
    code = out.getvalue().strip()
    assert code == current_code(device) and len(code) == 6
    assert client.post("/accounts/login/code/", {"code": code}).status_code == 302
    assert client.get(f"/accounts/e/{BAKERY}/people/").status_code == 200

    client.post("/accounts/logout/")
    member = client.post("/accounts/login/", {"username": MEMBER, "password": people[MEMBER]["password"]})
    assert member["Location"] == "/"
    assert client.get("/accounts/settings/").status_code == 200  # no second factor asked of a member


def test_demo_totp_serves_the_demos_people_only(db):
    run_demo()
    with pytest.raises(CommandError):
        call_command("demo-totp", MEMBER)
    with pytest.raises(CommandError):
        call_command("demo-totp", "someone@example.be")


def test_the_accountant_runs_a_firm_with_the_bakery_in_its_portfolio(db, client):
    summary = run_demo()
    run_demo()  # idempotent
    accountant = next(person for person in summary["people"] if person["email"] == ACCOUNTANT)
    client.post("/accounts/login/", {"username": ACCOUNTANT, "password": accountant["password"]})
    portfolio = client.get("/accounts/portfolio/")
    assert portfolio.status_code == 200
    assert "Boulangerie Dupont" in portfolio.content.decode()
