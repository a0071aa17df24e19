"""Keyset pages, capped counts and the list's filter queries (coffre.mailbox.selectors_web)."""

import datetime as dt

import pytest
from django.db import connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coffre.accounts.models import Membership, Role
from coffre.mailbox import selectors, selectors_web
from coffre.mailbox.models import Ebox, Message, MessageType, SenderOrganization
from coffre.mailbox.selectors_web import Cursor, capped_count, keyset_page, messages_matching
from coffre.mailbox.tests.conftest import ONSS, SPF, A, B, person, setup_reference_data

BASE = dt.datetime(2026, 1, 10, 8, 0, tzinfo=dt.UTC)
FAR = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)


def add_messages(ebox: Ebox, receipts: list[dt.datetime], **fields) -> list[Message]:
    """Rows straight into the table (paging needs many; the content does not matter here)."""
    organization = SenderOrganization.objects.get(organization_id=fields.pop("sender", ONSS))
    message_type = MessageType.objects.get(message_type_id=fields.pop("message_type", "ATTEST"))
    start = Message.objects.count()
    rows = [
        Message(
            message_id=f"m-{start + index}",
            ebox=ebox,
            subject={"fr": f"Message {start + index}"},
            receipt_date=receipt,
            expiration_date=fields.get("expiration_date", FAR),
            read_at=fields.get("read_at"),
            visible=fields.get("visible", True),
            message_type=message_type,
            sender_organization=organization,
        )
        for index, receipt in enumerate(receipts)
    ]
    return Message.objects.bulk_create(rows)


def newest_first(messages) -> list[int]:
    return [m.pk for m in sorted(messages, key=lambda m: (m.receipt_date, m.pk), reverse=True)]


def walk_forward(queryset, size: int) -> list[list[int]]:
    pages, after = [], None
    while True:
        page = keyset_page(queryset, after=after, size=size)
        pages.append([m.pk for m in page.items])
        if page.next_cursor is None:
            return pages
        after = page.next_cursor
        assert len(pages) < 1000


@pytest.fixture
def boxes(db):
    setup_reference_data()
    return Ebox.objects.get(enterprise__cbe=A), Ebox.objects.get(enterprise__cbe=B)


# --- cursors -----------------------------------------------------------------------------------


def test_a_cursor_survives_its_url_form():
    cursor = Cursor(dt.datetime(2026, 3, 4, 5, 6, 7, 891011, tzinfo=dt.UTC), 12345)
    assert Cursor.decode(cursor.encode()) == cursor


@pytest.mark.parametrize(
    "text",
    ["", "abc", "12", "12_", "_12", "1.5_3", "12_-3", "99999999999999999999999_1", "1_" + "9" * 30, "x" * 50],
)
def test_a_malformed_cursor_is_no_cursor(text):
    assert Cursor.decode(text) is None


# --- keyset paging -------------------------------------------------------------------------------


def test_pages_follow_each_other_without_gap_or_repeat_when_receipt_dates_are_equal(boxes):
    ebox, _ = boxes
    receipts = [BASE] * 7 + [BASE + dt.timedelta(seconds=1)] * 5 + [BASE - dt.timedelta(days=1)] * 6
    rows = add_messages(ebox, receipts)
    queryset = selectors.available_messages(ebox)

    pages = walk_forward(queryset, size=5)

    assert [len(page) for page in pages] == [5, 5, 5, 3]
    assert [pk for page in pages for pk in page] == newest_first(rows)


def test_the_previous_page_is_the_page_seen_before(boxes):
    ebox, _ = boxes
    add_messages(ebox, [BASE] * 12)
    queryset = selectors.available_messages(ebox)
    first = keyset_page(queryset, size=5)
    second = keyset_page(queryset, after=first.next_cursor, size=5)
    third = keyset_page(queryset, after=second.next_cursor, size=5)

    back_to_second = keyset_page(queryset, before=third.previous_cursor, size=5)
    back_to_first = keyset_page(queryset, before=back_to_second.previous_cursor, size=5)

    assert [m.pk for m in back_to_second.items] == [m.pk for m in second.items]
    assert [m.pk for m in back_to_first.items] == [m.pk for m in first.items]
    assert first.previous_cursor is None and back_to_first.previous_cursor is None
    assert back_to_second.next_cursor == second.next_cursor
    assert third.next_cursor is None and len(third.items) == 2


def test_a_page_never_holds_another_eboxs_messages(boxes):
    ebox_a, ebox_b = boxes
    add_messages(ebox_a, [BASE] * 3)
    b_rows = add_messages(ebox_b, [BASE] * 3)
    page = keyset_page(selectors.available_messages(ebox_a), after=Cursor(BASE, b_rows[-1].pk + 1), size=10)
    assert {m.ebox_id for m in page.items} == {ebox_a.pk}


def test_a_page_past_the_end_offers_the_way_back(boxes):
    ebox, _ = boxes
    rows = add_messages(ebox, [BASE, BASE + dt.timedelta(hours=1)])
    queryset = selectors.available_messages(ebox)
    oldest = min(rows, key=lambda m: m.receipt_date)

    past = keyset_page(queryset, after=Cursor.of(oldest), size=5)
    assert past.items == [] and past.next_cursor is None
    assert [m.pk for m in keyset_page(queryset, before=past.previous_cursor, size=5).items] == newest_first(
        rows
    )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    offsets=st.lists(st.integers(min_value=0, max_value=4), min_size=0, max_size=40),
    size=st.integers(min_value=1, max_value=7),
)
def test_walking_the_pages_both_ways_shows_every_message_once(boxes, offsets, size):
    ebox, _ = boxes
    with transaction.atomic():
        rows = add_messages(ebox, [BASE + dt.timedelta(seconds=offset) for offset in offsets])
        queryset = selectors.available_messages(ebox)
        expected = newest_first(rows)

        pages = walk_forward(queryset, size)
        assert [pk for page in pages for pk in page] == expected
        assert all(len(page) == size for page in pages[:-1])

        # From the last page back to the first, with the "previous" cursors.
        last = keyset_page(queryset, after=None, size=size)
        cursors = [None]
        while last.next_cursor is not None:
            cursors.append(last.next_cursor)
            last = keyset_page(queryset, after=last.next_cursor, size=size)
        backwards, page = [[m.pk for m in last.items]], last
        while page.previous_cursor is not None:
            page = keyset_page(queryset, before=page.previous_cursor, size=size)
            backwards.append([m.pk for m in page.items])
        assert [pk for page in reversed(backwards) for pk in page] == expected
        transaction.set_rollback(True)


# --- counts and filters ---------------------------------------------------------------------------


def test_the_count_stops_at_the_cap(boxes):
    ebox, _ = boxes
    add_messages(ebox, [BASE] * 12)
    queryset = selectors.available_messages(ebox)
    assert capped_count(queryset, cap=20) == (12, False)
    assert capped_count(queryset, cap=12) == (12, False)
    assert capped_count(queryset, cap=11) == (11, True)


def test_sender_and_type_filters_match_the_api_selector(boxes):
    ebox, _ = boxes
    add_messages(ebox, [BASE] * 3)
    add_messages(ebox, [BASE] * 2, sender=SPF, message_type="REMINDER")
    add_messages(ebox, [BASE] * 1, message_type="REMINDER")
    for filters in (
        selectors.MessageFilters(sender_organization_id=SPF),
        selectors.MessageFilters(message_type_id="REMINDER"),
        selectors.MessageFilters(sender_organization_id=ONSS, message_type_id="REMINDER"),
        selectors.MessageFilters(sender_organization_id="0999999999"),
        selectors.MessageFilters(message_type_id="UNKNOWN"),
    ):
        web = set(messages_matching(ebox, filters).values_list("pk", flat=True))
        api = set(selectors.filtered_messages(ebox, filters).values_list("pk", flat=True))
        assert web == api
    assert messages_matching(ebox, selectors.MessageFilters(sender_organization_id=SPF)).count() == 2


def test_expiring_soon_means_within_thirty_days():
    assert selectors_web.expiring_before(dt.date(2026, 1, 15)) == dt.date(2026, 2, 15)


def test_managers_are_counted_for_the_group_address_tip(boxes):
    ebox, _ = boxes
    enterprise = ebox.enterprise
    for index, role in enumerate((Role.PRINCIPAL, Role.CO_MANAGER, Role.MEMBER, Role.ACCOUNTANT)):
        Membership.objects.create(user=person(f"p{index}@example.be"), enterprise=enterprise, role=role)
    assert selectors_web.manager_count(enterprise) == 2


# --- query plans ----------------------------------------------------------------------------------


def plan_of(queryset) -> str:
    """The database's plan for a query (SQLite: EXPLAIN QUERY PLAN; PostgreSQL: EXPLAIN with
    sequential scans and sorts discouraged, as on a table large enough for the planner to prefer
    reading an index in order)."""
    if connection.vendor == "postgresql":
        with transaction.atomic(), connection.cursor() as cursor:
            # The table is small here: ask whether an index can serve the query in list order.
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("SET LOCAL enable_sort = off")
            sql, params = queryset.query.sql_with_params()
            cursor.execute("EXPLAIN " + sql, params)
            return "\n".join(row[0] for row in cursor.fetchall())
    return queryset.explain()


PAGE_PLANS = [
    ({}, "message_list"),
    ({"read": False}, "message_unread"),
    ({"sender_organization_id": SPF}, "message_by_sender"),
    ({"message_type_id": "REMINDER"}, "message_by_type"),
]


@pytest.mark.parametrize("criteria, index", PAGE_PLANS)
def test_a_page_walks_an_index_in_list_order_without_sorting(boxes, criteria, index):
    ebox, _ = boxes
    add_messages(ebox, [BASE + dt.timedelta(minutes=n) for n in range(300)], read_at=BASE)
    add_messages(ebox, [BASE] * 5, sender=SPF, message_type="REMINDER")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    matching = messages_matching(ebox, selectors.MessageFilters(visible=True, **criteria))
    cursor = Cursor(BASE + dt.timedelta(minutes=100), 10**9)
    for queryset in (
        selectors_web.list_rows(matching).order_by("-receipt_date", "-id")[:51],
        selectors_web.list_rows(matching)
        .filter(selectors_web._older_than(cursor))
        .order_by("-receipt_date", "-id")[:51],
    ):
        plan = plan_of(queryset)
        assert index in plan, plan
        assert "TEMP B-TREE" not in plan and "Sort" not in plan, plan
