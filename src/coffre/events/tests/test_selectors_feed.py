"""The feed's pages (coffre.events.selectors_feed): one enterprise, sequence order, keyset."""

import datetime as dt

from django.db import connection
from django.test.utils import CaptureQueriesContext

from coffre.events import selectors_feed
from coffre.events.models import Event, EventType
from coffre.mailbox.tests.conftest import publish


def test_a_page_is_one_enterprises_events_after_the_given_number(portal):
    ours = [publish().message_id for _ in range(3)]
    publish(portal.b.cbe)
    first = selectors_feed.feed_page(portal.a.id, 0, 2)
    assert [event.message_id for event in first.events] == ours[:2] and first.has_next
    rest = selectors_feed.feed_page(portal.a.id, first.events[-1].sequence, 2)
    assert [event.message_id for event in rest.events] == ours[2:] and not rest.has_next


def test_filters_apply_together(portal, clock):
    clock.move_to("2026-03-02T10:00:00+01:00")
    early = publish()
    clock.move_to("2026-03-02T12:00:00+01:00")
    late = publish()
    page = selectors_feed.feed_page(
        portal.a.id,
        0,
        10,
        since=dt.datetime(2026, 3, 2, 10, 30, tzinfo=dt.UTC),
        event_types={EventType.NEW_DOCUMENT},
    )
    assert [event.message_id for event in page.events] == [late.message_id]
    assert selectors_feed.feed_page(portal.a.id, 0, 10, event_types={EventType.READ_DOCUMENT}).events == []
    assert early.message_id in [
        event.message_id for event in selectors_feed.feed_page(portal.a.id, 0, 10).events
    ]


def test_a_page_walks_the_feed_index(portal):
    publish()
    with CaptureQueriesContext(connection) as queries:
        selectors_feed.feed_page(portal.a.id, 0, 10)
    (query,) = queries.captured_queries
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("EXPLAIN QUERY PLAN " + query["sql"])
            plan = " ".join(str(row[-1]) for row in cursor.fetchall())
        else:
            cursor.execute("SET enable_seqscan = off")  # a tiny table: make the planner show its index
            cursor.execute("EXPLAIN " + query["sql"])
            plan = " ".join(row[0] for row in cursor.fetchall())
            cursor.execute("RESET enable_seqscan")
    assert "event_feed_of_enterprise" in plan, plan
    assert Event.objects.count() == 1
