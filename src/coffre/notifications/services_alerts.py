"""Instant alerts (seed 004): a person who asked for it in their settings gets an e-mail as soon as
a document arrives in an e-Box they can read; content-free, like the digest.

- ``set_instant_alerts`` records the person's choice (their own data; only e-Boxes they read).
- ``process_instant_alerts`` reads the ``newDocument`` events after the alert cursor, a step of
  the sequence at a time: in one transaction it writes, per person, one ``InstantAlert`` and its
  e-mail (outbox key ``alert:<person id>:<first event told>``) for the arrivals of the step that
  are still unread, and moves the cursor past the step. A crash rolls the step back whole; a
  step is never done twice (the cursor row is locked, on SQLite the transaction is IMMEDIATE).
- ``wake`` runs after the commit of a publication: when someone follows one of the e-Boxes, it
  enqueues the task a short delay later (several arrivals within the delay share one e-mail);
  the periodic catch-up runs the same function, so that a lost wake-up forgets nobody.

Who may read an e-Box is decided by ``coffre.accounts.permissions`` for every alert, not when the
person subscribed: a person who lost access gets nothing more from that e-Box.
"""

import datetime as dt
import logging
from collections import defaultdict

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from coffre.accounts.permissions import Action, can
from coffre.audit.services import Actor, record
from coffre.core import ratelimit, rows
from coffre.notifications import codes, links, selectors
from coffre.notifications.models import AlertCursor, AlertSubscription, InstantAlert
from coffre.outbox.services import queue_mail

logger = logging.getLogger("coffre.notifications")

ACTOR = Actor.system("instant-alerts")
MAIL = "notifications/mail/instant_alert"
STEP = 5000  # events read per transaction


def set_instant_alerts(person, enterprises: list, actor: Actor) -> None:
    """Alerts for exactly these enterprises' e-Boxes (each one the person may read)."""
    for enterprise in enterprises:
        if not can(person, Action.VIEW_MESSAGES, enterprise):
            raise PermissionDenied("instant alerts of an e-Box the person cannot read")
    wanted = {enterprise.pk: enterprise for enterprise in enterprises}
    with transaction.atomic():
        current = set(AlertSubscription.objects.filter(user=person).values_list("enterprise_id", flat=True))
        added, removed = set(wanted) - current, current - set(wanted)
        if not added and not removed:
            return
        AlertSubscription.objects.filter(user=person, enterprise_id__in=removed).delete()
        AlertSubscription.objects.bulk_create(
            [AlertSubscription(user=person, enterprise_id=pk) for pk in added]
        )
        # The first subscription ever starts the cursor here: arrivals before it are not news.
        AlertCursor.objects.get_or_create(pk=1, defaults={"sequence": selectors.last_sequence()})
        record(
            actor,
            "notifications.instantAlerts",
            details={"person": person.email, "on": sorted(wanted[pk].cbe for pk in added),
                     "offCount": len(removed)},
        )


def wake(enterprise_ids: list[int]) -> None:
    """After the commit of arrivals: enqueue the alert task when someone follows these e-Boxes."""
    if not enterprise_ids or not selectors.anyone_follows(enterprise_ids):
        return
    delay = dt.timedelta(seconds=settings.COFFRE_INSTANT_ALERT_DELAY)
    # One task per delay: it handles every arrival committed before it runs.
    if delay and not ratelimit.hit("notifications:instant-alerts:wake", 1, delay).allowed:
        return
    from coffre.notifications.tasks import send_instant_alerts

    task = send_instant_alerts
    if delay and task.get_backend().supports_defer:
        task = task.using(run_after=timezone.now() + delay)
    task.enqueue()


def process_instant_alerts(*, step: int = STEP) -> int:
    """Send the alerts of every arrival after the cursor; returns how many e-mails were queued."""
    queued = 0
    while True:
        with transaction.atomic():
            cursor = AlertCursor.objects.select_for_update().filter(pk=1).first()
            if cursor is None:  # nobody ever asked for alerts
                return queued
            last = selectors.last_sequence()
            if cursor.sequence >= last:
                return queued
            high = min(cursor.sequence + step, last)
            queued += _alert_step(cursor.sequence, high)
            AlertCursor.objects.filter(pk=1).update(sequence=high, updated_at=timezone.now())


def _alert_step(low: int, high: int) -> int:
    followed = selectors.followed_with_arrivals(low, high)
    if not followed:
        return 0
    now = timezone.now()
    arrivals = selectors.unread_arrivals(low, high, followed, now)
    if not arrivals:
        return 0
    by_enterprise: dict[int, list[int]] = defaultdict(list)
    for sequence, enterprise_id in arrivals:
        by_enterprise[enterprise_id].append(sequence)
    told: dict = {}  # person -> [(enterprise, [sequences])]
    for subscription in selectors.subscriptions_of_enterprises(list(by_enterprise)):
        if can(subscription.user, Action.VIEW_MESSAGES, subscription.enterprise):
            told.setdefault(subscription.user, []).append(
                (subscription.enterprise, by_enterprise[subscription.enterprise_id])
            )
    queued = sum(_alert(person, boxes, now) for person, boxes in told.items())
    if queued:
        record(ACTOR, "notifications.instantAlerts.sent",
               details={"fromSequence": low + 1, "toSequence": high, "alerts": queued})
    return queued


def _alert(person, boxes: list, now: dt.datetime) -> int:
    first = min(min(sequences) for _, sequences in boxes)
    code = codes.new_code()
    documents = sum(len(sequences) for _, sequences in boxes)
    mail, created = queue_mail(
        key=f"alert:{person.pk}:{first}",
        purpose="instant_alert",
        to=person.email,
        prefix=MAIL,
        context={
            "documents": documents,
            "boxes": [
                {
                    "name": enterprise.name,
                    "cbe": enterprise.cbe,
                    "documents": len(sequences),
                    "phrase": enterprise.ebox.anti_phishing_phrase,
                    "portal_url": links.absolute("mailbox:list", enterprise.cbe),
                }
                for enterprise, sequences in boxes
            ],
            "code": codes.display(code),
            "genuine_url": links.absolute("notifications:genuine"),
            "settings_url": links.absolute("accounts:settings"),
        },
        language=person.language,
        headers={"Auto-Submitted": "auto-generated", "X-Coffre-Reference": codes.display(code)},
    )
    if not created:
        return 0
    rows.insert([InstantAlert(user=person, code=code, to_address=person.email, documents=documents,
                              first_sequence=first, created_at=now, mail=mail)])
    return 1
