"""coffre.core.rows: the same rows and values as the ORM, on SQLite and PostgreSQL."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from coffre.accounts.services import register_enterprise
from coffre.audit.services import Actor
from coffre.core import rows
from coffre.core.cbe import make_cbe
from coffre.mailbox.models import Blob, Ebox, Message, MessageType, PaymentData, SenderOrganization

pytestmark = pytest.mark.django_db


@pytest.fixture
def ebox():
    enterprise = register_enterprise(make_cbe(1234567), "Scope SA", Actor.cli("test")).enterprise
    return Ebox.objects.get(enterprise=enterprise)


@pytest.fixture
def message(ebox):
    organization = SenderOrganization.objects.create(organization_id=make_cbe(7654321), short_name={"fr": "SPF"})
    kind = MessageType.objects.create(message_type_id="TAX", name={"fr": "Impôt"}, validity_number=1,
                                      validity_unit="year")
    now = dt.datetime(2026, 3, 2, 10, 20, 30, 123456, tzinfo=dt.UTC)
    return Message(
        message_id="m-1", ebox=ebox, subject={"fr": "Avertissement-extrait", "nl": "Aanslagbiljet"},
        receipt_date=now, expiration_date=now + dt.timedelta(days=365), message_type=kind,
        sender_organization=organization, business_data=[{"key": "ref", "values": [{"fr": "é"}]}],
        body=None, reply_authorized=True,
    )


def test_inserted_rows_read_back_as_the_orm_saved_them(message):
    assert rows.insert([message]) == 1
    assert message.pk is not None and not message._state.adding
    stored = Message.objects.get(pk=message.pk)
    for field in Message._meta.concrete_fields:
        assert getattr(stored, field.attname) == getattr(message, field.attname), field.name


def test_several_rows_in_one_statement_get_their_own_keys(message):
    rows.insert([message])
    payments = [
        PaymentData(message=message, payment_data_id="p", amount=Decimal("12.30"), vat_amount=Decimal("0"),
                    currency="EUR", due_date=message.receipt_date, iban="BE68539007547034", reference={"a": 1}),
    ]
    blobs = [Blob(scope_id=message.ebox.enterprise_id, sha256=f"{n:064x}", size=n, storage_name=f"b/{n}")
             for n in range(3)]
    assert rows.insert(blobs) == 3
    assert [blob.pk for blob in blobs] == list(Blob.objects.order_by("storage_name").values_list("pk", flat=True))
    assert rows.insert(payments) == 1
    assert PaymentData.objects.get().amount == Decimal("12.30")


def test_a_conflict_on_the_named_constraint_inserts_nothing(ebox):
    first = Blob(scope_id=ebox.enterprise_id, sha256="a" * 64, size=1, storage_name="x/1")
    twin = Blob(scope_id=ebox.enterprise_id, sha256="a" * 64, size=1, storage_name="x/2")
    assert rows.insert([first], ignore_conflicts_on=("scope", "sha256")) == 1
    assert rows.insert([twin], ignore_conflicts_on=("scope", "sha256")) == 0
    assert twin.pk is None
    assert Blob.objects.get().storage_name == "x/1"
    with pytest.raises(IntegrityError), transaction.atomic():  # any other constraint still holds
        rows.insert([Blob(scope_id=ebox.enterprise_id, sha256="b" * 64, size=1, storage_name="x/1")],
                    ignore_conflicts_on=("scope", "sha256"))


def test_fetched_columns_are_converted_as_their_fields(message):
    rows.insert([message])
    row = rows.fetch_one(
        'SELECT "subject", "receipt_date", "reply_authorized", "registered_mail", "body", "id" '
        'FROM "mailbox_message" WHERE "message_id" = %s',
        ["m-1"],
        [rows.field(Message, name) for name in ("subject", "receipt_date", "reply_authorized", "registered_mail",
                                                "body")] + [None],
    )
    assert row == (message.subject, message.receipt_date, True, False, None, message.pk)
    assert rows.fetch_one('SELECT "id" FROM "mailbox_message" WHERE "message_id" = %s', ["none"], [None]) is None
    assert rows.fetch_all('SELECT "message_id" FROM "mailbox_message"', [], [rows.field(Message, "message_id")]) == [
        ("m-1",)
    ]
