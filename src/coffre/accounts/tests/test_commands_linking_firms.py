"""``coffre business_account`` and ``coffre firm``: idempotent, audited, ``--json`` for scripts."""

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from coffre.accounts.models import (
    AccountingFirm,
    BusinessAccount,
    BusinessContact,
    BusinessContract,
    Collaborator,
)
from coffre.accounts.services import register_enterprise
from coffre.accounts.tests.portal_people import ACTOR, A, person
from coffre.audit.models import AuditRecord

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def run_json(*args):
    return json.loads(run(*args, "--json"))


@pytest.fixture
def enterprise(db):
    return register_enterprise(A, "Alpha SRL", ACTOR).enterprise


def audit_count() -> int:
    return AuditRecord.objects.count()


def test_business_account_add_is_idempotent(enterprise):
    first = run_json(
        "business_account", "add", "100 200", "--enterprise", "0200.000.142", "--postal-code", "1000"
    )
    assert first["created"] and first["client_number"] == "100200" and first["kind"] == "commercial"
    assert first["warnings"] == ["no primary contact: nobody is told when a person links to this account"]
    records = audit_count()
    again = run_json("business_account", "add", "100200", "--enterprise", A, "--postal-code", "1000")
    assert not again["created"] and not again["changed"]
    assert audit_count() == records
    changed = run_json(
        "business_account",
        "add",
        "100200",
        "--enterprise",
        A,
        "--postal-code",
        "1000",
        "--kind",
        "small_business",
    )
    assert changed["changed"] and changed["kind"] == "small_business"
    assert BusinessAccount.objects.get().kind == "small_business"
    assert AuditRecord.objects.filter(action="business_account.update").count() == 1
    assert "unchanged: 100200" in run(
        "business_account", "add", "100200", "--enterprise", A, "--postal-code", "1000"
    )


def test_business_account_contacts_and_contracts(enterprise):
    run("business_account", "add", "100200", "--enterprise", A, "--postal-code", "1000")
    added = run_json(
        "business_account", "contact", "100200", "Anne@Example.be", "--kind", "primary", "--name", "Anne"
    )
    assert added == {
        "client_number": "100200",
        "email": "anne@example.be",
        "kind": "primary",
        "name": "Anne",
        "created": True,
        "changed": True,
    }
    again = run_json("business_account", "contact", "100200", "anne@example.be", "--kind", "primary")
    assert not again["created"] and not again["changed"]
    run("business_account", "contact", "100200", "anne@example.be", "--kind", "billing")
    assert BusinessContact.objects.count() == 2
    assert run_json("business_account", "contract", "100200", "c-42")["created"] is True
    assert run_json("business_account", "contract", "100200", "C-42")["created"] is False
    assert list(BusinessContract.objects.values_list("number", flat=True)) == ["C-42"]

    listing = run_json("business_account", "list")
    assert listing[0]["contracts"] == ["C-42"]
    assert listing[0]["contacts"] == [
        {"kind": "billing", "email": "anne@example.be", "name": ""},
        {"kind": "primary", "email": "anne@example.be", "name": "Anne"},
    ]
    assert listing[0]["linked_people"] == 0
    assert run_json("business_account", "list", "--enterprise", A) == listing

    assert (
        run_json("business_account", "contact", "100200", "anne@example.be", "--kind", "billing", "--remove")[
            "removed"
        ]
        is True
    )
    assert (
        run_json("business_account", "contact", "100200", "anne@example.be", "--kind", "billing", "--remove")[
            "removed"
        ]
        is False
    )
    assert run_json("business_account", "contract", "100200", "C-42", "--remove")["removed"] is True
    assert not BusinessContract.objects.exists()
    assert AuditRecord.objects.filter(action__startswith="business_account.").count() == 6


def test_business_account_errors_are_one_line(enterprise):
    with pytest.raises(CommandError, match="no enterprise"):
        run("business_account", "add", "1", "--enterprise", "0123456789", "--postal-code", "1000")
    with pytest.raises(CommandError, match="no business account"):
        run("business_account", "contract", "404", "C-1")
    other = register_enterprise("0300000214", "Beta BV", ACTOR).enterprise
    run("business_account", "add", "100200", "--enterprise", A, "--postal-code", "1000")
    with pytest.raises(CommandError, match="belongs to another enterprise"):
        run("business_account", "add", "100200", "--enterprise", other.cbe, "--postal-code", "1000")


def test_firm_add_and_collaborators(enterprise):
    person("marc@fidu.example")
    person("julie@fidu.example")
    firm = run_json("firm", "add", "Fidu  Lebrun", "--enterprise", A)
    assert firm["created"] and firm["name"] == "Fidu Lebrun" and firm["cbe"] == A
    records = audit_count()
    again = run_json("firm", "add", "fidu lebrun")
    assert (again["created"], again["changed"], again["id"]) == (False, False, firm["id"])
    assert audit_count() == records

    admin = run_json("firm", "collaborator", "Fidu Lebrun", "MARC@fidu.example", "--admin")
    assert admin == {
        "firm": firm["id"],
        "email": "marc@fidu.example",
        "is_admin": True,
        "created": True,
        "changed": True,
    }
    assert (
        run_json("firm", "collaborator", str(firm["id"]), "marc@fidu.example", "--admin")["changed"] is False
    )
    run("firm", "collaborator", str(firm["id"]), "julie@fidu.example")
    assert run_json("firm", "collaborator", str(firm["id"]), "julie@fidu.example")["changed"] is False
    assert not Collaborator.objects.get(user__email="julie@fidu.example").is_admin

    with pytest.raises(CommandError, match="at least one administrator"):
        run("firm", "collaborator", str(firm["id"]), "marc@fidu.example", "--remove")
    with pytest.raises(CommandError, match="at least one administrator"):
        run("firm", "collaborator", str(firm["id"]), "marc@fidu.example", "--no-admin")
    assert (
        run_json("firm", "collaborator", str(firm["id"]), "julie@fidu.example", "--remove")["removed"] is True
    )
    assert (
        run_json("firm", "collaborator", str(firm["id"]), "julie@fidu.example", "--remove")["removed"]
        is False
    )

    listing = run_json("firm", "list")
    assert listing == [
        {
            **{k: firm[k] for k in ("id", "name", "cbe", "created_at")},
            "collaborators": [{"email": "marc@fidu.example", "is_admin": True}],
            "clients": [],
        }
    ]
    assert "Fidu Lebrun: 1 collaborator(s), 0 client(s)" in run("firm", "list")
    assert AccountingFirm.objects.count() == 1


def test_firm_errors_are_one_line(enterprise):
    with pytest.raises(CommandError, match="no accounting firm"):
        run("firm", "collaborator", "Nobody & Co", "marc@fidu.example")
    run("firm", "add", "Fidu Lebrun")
    with pytest.raises(CommandError, match="the person signs up first"):
        run("firm", "collaborator", "Fidu Lebrun", "ghost@fidu.example", "--admin")
    with pytest.raises(CommandError, match="no enterprise"):
        run("firm", "add", "Fidu Lebrun", "--enterprise", "0123456789")
