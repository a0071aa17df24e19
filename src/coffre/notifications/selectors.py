"""The reads of the notifications: which enterprises a night's events concern, how many of their
messages are still worth telling, where to write, and what a reference code names.

Every read of events goes through the sequence (primary key) or the index (enterprise, sequence),
and "still unread" through the index (provider, message, type): the cost follows the events
read, never the number of messages or enterprises. The SQL is written out (portable: double-quoted
names, ``%s``) because it is the hot path of the nightly run.

"Still unread" means: no ``readDocument`` event for the message in that enterprise, of any time,
from any provider; "worth telling" also means not expired.
"""

import datetime as dt
from dataclasses import dataclass

from django.db import connection
from django.db.models import Max, Min

from coffre.accounts.models import Enterprise
from coffre.events.models import Event, EventType
from coffre.notifications.models import AlertSubscription, Digest, InstantAlert

EVENTS = Event._meta.db_table
TOLD = (EventType.NEW_DOCUMENT, EventType.REMINDER, EventType.EXPIRATION_ALERT)
_TOLD_IN = "(" + ", ".join(f"'{value}'" for value in TOLD) + ")"
_STILL_UNREAD = f"""NOT EXISTS (
    SELECT 1 FROM "{EVENTS}" r
    WHERE r."provider_id" = e."provider_id" AND r."message_id" = e."message_id"
      AND r."event_type" = '{EventType.READ_DOCUMENT}' AND r."enterprise_id" = e."enterprise_id")"""
# A notification address that may receive mail: confirmed, and not marked failing.
USABLE_STATUS = "verified"


@dataclass(frozen=True)
class Counts:
    new_documents: int = 0
    reminders: int = 0
    expiring: int = 0

    @property
    def any(self) -> bool:
        return bool(self.new_documents or self.reminders or self.expiring)


@dataclass(frozen=True)
class Target:
    """Where and how an enterprise's notifications are written."""

    enterprise_id: int
    ebox_id: int
    cbe: str
    name: str
    language: str
    email: str
    phrase: str


def last_sequence() -> int:
    return Event.objects.aggregate(last=Max("sequence"))["last"] or 0


def sequence_before(moment: dt.datetime) -> int:
    """The last sequence number before the first event at or after ``moment`` (index on time)."""
    first = Event.objects.filter(event_time__gte=moment).aggregate(first=Min("sequence"))["first"]
    return first - 1 if first is not None else last_sequence()


def enterprises_first_told_in(window_from: int, low: int, high: int) -> list[int]:
    """Enterprises with an event to tell in (low, high] and none in (window_from, low]: each
    enterprise of the window comes out of exactly one slice."""
    sql = f"""
        SELECT DISTINCT e."enterprise_id" FROM "{EVENTS}" e
        WHERE e."sequence" > %s AND e."sequence" <= %s AND e."event_type" IN {_TOLD_IN}
          AND NOT EXISTS (
            SELECT 1 FROM "{EVENTS}" p
            WHERE p."enterprise_id" = e."enterprise_id" AND p."sequence" > %s AND p."sequence" <= %s
              AND p."event_type" IN {_TOLD_IN})
        ORDER BY 1"""
    with connection.cursor() as cursor:
        cursor.execute(sql, [low, high, window_from, low])
        return [row[0] for row in cursor.fetchall()]


def unread_counts(
    enterprise_ids: list[int], window_from: int, window_to: int, now: dt.datetime
) -> dict[int, Counts]:
    """Per enterprise, the messages of the window's events still unread and not expired at ``now``:
    new, reminded, about to expire. Enterprises with nothing to tell are left out."""
    if not enterprise_ids:
        return {}
    expiry = Event._meta.get_field("expiration_date").get_db_prep_value(now, connection)
    sql = f"""
        SELECT e."enterprise_id", e."event_type", COUNT(DISTINCT e."message_id") FROM "{EVENTS}" e
        WHERE e."enterprise_id" IN ({", ".join(["%s"] * len(enterprise_ids))})
          AND e."sequence" > %s AND e."sequence" <= %s AND e."event_type" IN {_TOLD_IN}
          AND e."expiration_date" > %s AND {_STILL_UNREAD}
        GROUP BY e."enterprise_id", e."event_type" """
    found: dict[int, dict[str, int]] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, [*enterprise_ids, window_from, window_to, expiry])
        for enterprise_id, event_type, count in cursor.fetchall():
            found.setdefault(enterprise_id, {})[event_type] = count
    return {
        enterprise_id: Counts(
            new_documents=by_type.get(EventType.NEW_DOCUMENT, 0),
            reminders=by_type.get(EventType.REMINDER, 0),
            expiring=by_type.get(EventType.EXPIRATION_ALERT, 0),
        )
        for enterprise_id, by_type in found.items()
    }


def unread_arrivals(
    window_from: int, window_to: int, enterprise_ids: list[int], now: dt.datetime
) -> list[tuple]:
    """(sequence, enterprise id) of the ``newDocument`` events in (window_from, window_to] of
    these enterprises whose message is still unread and not expired, in sequence order."""
    if not enterprise_ids:
        return []
    expiry = Event._meta.get_field("expiration_date").get_db_prep_value(now, connection)
    sql = f"""
        SELECT e."sequence", e."enterprise_id" FROM "{EVENTS}" e
        WHERE e."sequence" > %s AND e."sequence" <= %s AND e."event_type" = '{EventType.NEW_DOCUMENT}'
          AND e."enterprise_id" IN ({", ".join(["%s"] * len(enterprise_ids))})
          AND e."expiration_date" > %s AND {_STILL_UNREAD}
        ORDER BY e."sequence" """
    with connection.cursor() as cursor:
        cursor.execute(sql, [window_from, window_to, *enterprise_ids, expiry])
        return cursor.fetchall()


def followed_with_arrivals(low: int, high: int) -> list[int]:
    """Enterprises with a ``newDocument`` event in (low, high] that someone follows (instant alerts)."""
    sql = f"""
        SELECT DISTINCT e."enterprise_id" FROM "{EVENTS}" e
        WHERE e."sequence" > %s AND e."sequence" <= %s AND e."event_type" = '{EventType.NEW_DOCUMENT}'
          AND EXISTS (SELECT 1 FROM "{AlertSubscription._meta.db_table}" s
                      WHERE s."enterprise_id" = e."enterprise_id")"""
    with connection.cursor() as cursor:
        cursor.execute(sql, [low, high])
        return [row[0] for row in cursor.fetchall()]


def targets(enterprise_ids) -> dict[int, Target]:
    """The active enterprises among ``enterprise_ids`` whose notification address is usable."""
    from coffre.mailbox.models import Ebox

    rows = Ebox.objects.filter(
        enterprise_id__in=enterprise_ids, enterprise__active=True, notification_status=USABLE_STATUS
    ).exclude(notification_email="").values_list(
        "enterprise_id", "pk", "enterprise__cbe", "enterprise__name", "enterprise__language",
        "notification_email", "anti_phishing_phrase",
    )
    return {row[0]: Target(*row) for row in rows}


def digested(night: dt.date, enterprise_ids: list[int]) -> set[int]:
    """The enterprises among ``enterprise_ids`` whose digest of ``night`` is recorded."""
    return set(Digest.objects.filter(night=night, enterprise_id__in=enterprise_ids).values_list(
        "enterprise_id", flat=True))


def anyone_follows(enterprise_ids: list[int]) -> bool:
    """Whether someone asked for instant alerts of one of these e-Boxes (after each publication:
    written SQL, the ORM would cost more than the query)."""
    sql = (f'SELECT 1 FROM "{AlertSubscription._meta.db_table}" '
           f'WHERE "enterprise_id" IN ({", ".join(["%s"] * len(enterprise_ids))}) LIMIT 1')
    with connection.cursor() as cursor:
        cursor.execute(sql, enterprise_ids)
        return cursor.fetchone() is not None


def subscriptions_of_enterprises(enterprise_ids) -> list[AlertSubscription]:
    return list(
        AlertSubscription.objects.filter(enterprise_id__in=enterprise_ids, user__is_active=True)
        .select_related("user", "enterprise", "enterprise__ebox")
        .order_by("user_id", "enterprise_id")
    )


@dataclass(frozen=True)
class Notice:
    """What the genuine page tells about a code: the kind of e-mail, when, to which address."""

    kind: str  # "digest" or "instant_alert"
    sent_at: dt.datetime
    to_address: str


def notice_by_code(code: str) -> Notice | None:
    digest = Digest.objects.filter(code=code).values_list("created_at", "to_address").first()
    if digest is not None:
        return Notice("digest", *digest)
    alert = InstantAlert.objects.filter(code=code).values_list("created_at", "to_address").first()
    if alert is not None:
        return Notice("instant_alert", *alert)
    return None


def alert_choices(user, readable: list[Enterprise]) -> list[tuple[Enterprise, bool]]:
    """The e-Boxes the person reads, each with whether they asked for instant alerts."""
    chosen = set(AlertSubscription.objects.filter(user=user).values_list("enterprise_id", flat=True))
    return [(enterprise, enterprise.pk in chosen) for enterprise in readable]
