"""selectors_rows: the list's rows are what the models hold, whatever the filters."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from coffre.mailbox import selectors, selectors_rows, services
from coffre.mailbox.models import Message
from coffre.mailbox.tests.conftest import PDF, SPF, publish

pytestmark = pytest.mark.django_db


def test_a_listed_message_holds_what_the_models_hold(portal):
    payment = services.PaymentDraft(
        amount=Decimal("1842.17"), vat_amount=Decimal("0.00"), currency="EUR",
        due_date=dt.datetime(2026, 3, 31, tzinfo=dt.UTC), iban="BE68539007547034", bic="GEBABEBB",
        reference={"structured": "+++090/9337/55493+++"},
    )
    message = publish(
        files=[("avis.pdf", PDF, "application/pdf", True), ("annexe.png", b"\x89PNG\r\n\x1a\n", "image/png", False)],
        business_data=[{"key": "period", "values": [{"fr": "T3"}]}],
        for_attention={"id": "42", "name": "Service RH"},
        payment=payment,
    )
    [listed], total = selectors.page_of_messages(portal.ebox_a, selectors.MessageFilters(), 1, 25)
    assert total == 1
    for name in ("message_id", "subject", "receipt_date", "expiration_date", "read_at", "visible",
                 "registered_mail", "for_attention_id", "for_attention_name", "business_data", "reply_authorized"):
        assert getattr(listed, name) == getattr(message, name), name
    codes = (listed.message_type_code, listed.organization_code, listed.application_code)
    assert codes == ("ATTEST", message.sender_organization.organization_id, None)
    stored = message.payment_data
    assert (listed.payment_data.amount, listed.payment_data.due_date, listed.payment_data.reference) == (
        stored.amount, stored.due_date, stored.reference)
    def facts(items):
        return [(a.attachment_id, a.file_name, a.main_content, a.blob.size, a.blob.sha256) for a in items]

    assert facts(listed.attachments) == facts(message.attachments.all())


def test_filters_by_reference_data_code_select_the_same_messages(portal):
    publish(subject={"fr": "ONSS"})
    publish(subject={"fr": "SPF"}, sender=SPF, message_type="REMINDER")
    for filters, expected in (
        (selectors.MessageFilters(sender_organization_id=SPF), [{"fr": "SPF"}]),
        (selectors.MessageFilters(message_type_id="ATTEST"), [{"fr": "ONSS"}]),
        (selectors.MessageFilters(message_type_id="UNKNOWN"), []),
        (selectors.MessageFilters(q="spf", qlang="fr"), [{"fr": "SPF"}]),
    ):
        items, total = selectors.page_of_messages(portal.ebox_a, filters, 1, 25)
        assert ([item.subject for item in items], total) == (expected, len(expected)), filters


def test_deep_pages_are_read_by_their_ids_first_and_match(portal, monkeypatch):
    for number in range(7):
        publish(subject={"fr": f"Avis {number}"})
    shallow = [m.message_id for m in selectors.page_of_messages(portal.ebox_a, selectors.MessageFilters(), 2, 3)[0]]
    monkeypatch.setattr(selectors, "DEEP_OFFSET", 0)
    deep = [m.message_id for m in selectors.page_of_messages(portal.ebox_a, selectors.MessageFilters(), 2, 3)[0]]
    assert deep == shallow and len(deep) == 3


def test_expired_messages_are_never_listed(portal):
    message = publish()
    Message.objects.filter(pk=message.pk).update(expiration_date=timezone.now() - dt.timedelta(seconds=1))
    assert selectors.page_of_messages(portal.ebox_a, selectors.MessageFilters(), 1, 25) == ([], 0)
    assert selectors.listed_message(portal.ebox_a, message.message_id) is None


def test_the_summary_counts_only_messages_still_available(portal):
    alive, gone = publish(), publish(subject={"fr": "Expiré"})
    Message.objects.filter(pk__in=[alive.pk, gone.pk]).update(attachments_size=1000)
    Message.objects.filter(pk=gone.pk).update(
        expiration_date=timezone.now() - dt.timedelta(seconds=1),
        receipt_date=timezone.now() + dt.timedelta(seconds=1),  # would be the last receipt if counted
    )
    summary = selectors.summary(portal.ebox_a)
    assert (summary.number_of_messages, summary.number_of_unread_messages, summary.size_bytes) == (1, 1, 1000)
    assert summary.last_receipt_date == alive.receipt_date


def test_a_message_is_available_until_its_expiration_instant(portal):
    message = publish()
    just_before = message.expiration_date - dt.timedelta(microseconds=1)
    empty = selectors.MessageFilters()
    assert selectors.page_of_messages(portal.ebox_a, empty, 1, 25, now=just_before)[1] == 1
    assert selectors.message_in(portal.ebox_a, message.message_id, now=just_before) is not None
    assert selectors.page_of_messages(portal.ebox_a, empty, 1, 25, now=message.expiration_date) == ([], 0)
    assert selectors.message_in(portal.ebox_a, message.message_id, now=message.expiration_date) is None
    assert selectors.summary(portal.ebox_a, now=message.expiration_date).number_of_messages == 0


def test_filters_that_join_another_table_are_refused():
    with pytest.raises(ValueError, match="subqueries"):
        selectors_rows.where_of(Message.objects.filter(message_type__message_type_id="ATTEST"))


def test_filters_that_match_nothing_read_nothing(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert selectors_rows.where_of(Message.objects.none()) is None
