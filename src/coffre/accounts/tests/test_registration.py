"""Registering an enterprise by its CBE number (seed 000: the e-Box exists at once, with the
person's address as notification address)."""

import pytest

from coffre.accounts import services_roles
from coffre.accounts.models import Enterprise, Membership, Role, SecurityEvent
from coffre.accounts.testing import authenticator_for, make_person, sign_in
from coffre.audit.models import AuditRecord
from coffre.audit.services import Actor
from coffre.core.cbe import make_cbe
from coffre.mailbox.models import Ebox

NEW = make_cbe(4000003)
DOTTED = f"{NEW[:4]}.{NEW[4:7]}.{NEW[7:]}"


@pytest.fixture
def gaston(db, fast_hashing, client):
    person = make_person("gaston@example.be", language="fr")
    sign_in(client, person)
    return person


def test_registering_makes_the_person_principal_and_opens_the_e_box(client, gaston):
    response = client.post("/accounts/register/", {"cbe": DOTTED, "name": "Gamma SA", "language": "nl"})
    assert response.status_code == 302 and response["Location"] == f"/e/{NEW}/"
    enterprise = Enterprise.objects.get(cbe=NEW)
    assert enterprise.name == "Gamma SA" and enterprise.language == "nl" and enterprise.client_admin == gaston
    assert Membership.objects.get(enterprise=enterprise).role == Role.PRINCIPAL
    ebox = Ebox.objects.get(enterprise=enterprise)
    assert ebox.notification_email == "gaston@example.be"
    assert ebox.notification_status == "verified" and ebox.notification_verified_at is not None
    event = SecurityEvent.objects.get(kind="role_changed", enterprise=enterprise)
    assert event.user == gaston and event.details == {
        "change": "registered",
        "person": gaston.email,
        "to": "principal",
    }
    assert AuditRecord.objects.filter(action="enterprise.register", details__cbe=NEW).exists()
    assert AuditRecord.objects.filter(action="enterprise.principal", actor="gaston@example.be").exists()
    # Now an access manager: two-factor authentication comes first.
    assert client.get(response["Location"])["Location"].startswith("/accounts/two-factor/setup/")


def test_nine_digits_are_accepted(client, gaston):
    client.post("/accounts/register/", {"cbe": NEW[1:], "name": "Gamma SA", "language": "fr"})
    assert Enterprise.objects.filter(cbe=NEW).exists()


def test_an_enterprise_already_registered_is_not_taken_over_and_nothing_leaks(client, gaston):
    services_roles.register_enterprise_for(
        make_person("owner@gamma.example"), NEW, "Gamma Secret Name", language="fr", actor=Actor.cli("test")
    )
    response = client.post("/accounts/register/", {"cbe": NEW, "name": "Mine now", "language": "fr"})
    assert response.status_code == 200
    html = response.content.decode()
    # gaston reads French
    assert "Cette entreprise est déjà enregistrée. Demandez à l’un de ses gestionnaires d’accès" in html
    assert "Gamma Secret Name" not in html and "owner@gamma.example" not in html
    enterprise = Enterprise.objects.get(cbe=NEW)
    assert enterprise.name == "Gamma Secret Name"
    assert not Membership.objects.filter(user=gaston).exists()


def test_a_wrong_number_is_refused_next_to_the_field(client, gaston):
    response = client.post("/accounts/register/", {"cbe": "0123.456.789", "name": "Gamma", "language": "fr"})
    assert response.status_code == 200 and response.context["form"].errors["cbe"]
    assert not Enterprise.objects.exists()


def test_five_registrations_a_day_at_most(client, gaston):
    sign_in(client, gaston, authenticator_for(gaston))
    for number in range(5):
        client.post("/accounts/register/", {"cbe": make_cbe(5000000 + number), "name": "E", "language": "fr"})
    response = client.post("/accounts/register/", {"cbe": make_cbe(5000009), "name": "E", "language": "fr"})
    assert response.status_code == 200 and "Réessayez demain" in response.content.decode()  # in French
    assert Enterprise.objects.count() == 5


def test_a_person_created_by_the_operator_has_an_unconfirmed_notification_address(db):
    person = make_person("op-made@example.be", verified=False)
    person.is_active = True
    person.save()
    enterprise = services_roles.register_enterprise_for(
        person, NEW, "Gamma", language="fr", actor=Actor.cli("t")
    )
    assert Ebox.objects.get(enterprise=enterprise).notification_status == "pending"


def test_an_account_waiting_for_confirmation_cannot_register(db):
    person = make_person("waiting@example.be", verified=False)
    with pytest.raises(services_roles.RoleChangeRefused):
        services_roles.register_enterprise_for(person, NEW, "Gamma", language="fr", actor=Actor.cli("t"))
    assert not Enterprise.objects.exists()


def test_anonymous_visitors_are_sent_to_log_in(client, db):
    assert client.get("/accounts/register/")["Location"].startswith("/accounts/login/")
