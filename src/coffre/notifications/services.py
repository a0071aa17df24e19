"""The nightly digest (NOTES.md "Notifications", seed 000): once a night, one content-free e-mail
per enterprise to its notification address, counting its new messages, reminders and messages
about to expire that are still unread when the e-mail is built; nothing when there is nothing to
say. docs/notifications.md tells the rules; the order of a night is:

1. ``emit_due_follow_ups(night)``: the reminders and expiry alerts due that day become events;
2. the run of the night is opened: it covers the events after the previous run's last one (the
   first run ever: the events since the start of the previous Brussels day) up to the last event
   now, so that an event belongs to exactly one night;
3. the window is read in slices of the sequence; each enterprise is handled in the slice of its
   first event to tell, in batches: its counts are read, then its ``Digest`` row and its e-mail
   (outbox key ``digest:<cbe>:<night>``) are written in one transaction, handed to the outbox
   after commit. An enterprise whose digest of the night is recorded is skipped;
4. the run is marked finished: the next night starts after its last event.

A run that crashes is taken again (``coffre digest``, the catch-up task once its lease expired,
or the next night before its own run) from its last slice: it serves the enterprises not yet
served and only those. The work is O(events of the window): no query reads every message or
every enterprise, and memory holds one slice of enterprise ids at a time.

This module never puts a sender, a subject or any content of a message in an e-mail.
"""

import datetime as dt
import logging
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.db.models import F, Max, Q
from django.utils import timezone

from coffre.audit.services import Actor, record
from coffre.core import rows
from coffre.events.services import BRUSSELS, brussels_day
from coffre.events.services_follow_ups import FollowUpsEmitted, emit_due_follow_ups
from coffre.notifications import codes, links, rendering, selectors
from coffre.notifications.models import Digest, DigestRun
from coffre.outbox.services import queue_mail

logger = logging.getLogger("coffre.notifications")

ACTOR = Actor.system("nightly-digest")
SLICE = 50_000  # events read per slice of the window
BATCH = 200  # digests written per transaction
LEASE = dt.timedelta(minutes=10)  # a run left alone this long by its worker is taken again


@dataclass
class NightReport:
    night: dt.date
    follow_ups: FollowUpsEmitted = field(default_factory=FollowUpsEmitted)
    digests: int = 0  # queued by this call
    runs: list[dt.date] = field(default_factory=list)  # the nights worked on by this call


def run_nightly(
    now: dt.datetime | None = None, *, slice_size: int = SLICE, batch: int = BATCH
) -> NightReport:
    """The night's work (the periodic task): follow-ups, then the digests. Safe to call again."""
    now = now or timezone.now()
    night = brussels_day(now)
    report = NightReport(night, follow_ups=emit_due_follow_ups(night, now=now))
    # A run of an earlier night that crashed is finished first (its mails keep their night's key).
    for earlier in DigestRun.objects.filter(finished_at__isnull=True, night__lt=night).order_by("night"):
        _work_if_free(earlier, report, slice_size, batch)
    _work_if_free(open_run(night, now), report, slice_size, batch)
    return report


def resume_unfinished(*, slice_size: int = SLICE, batch: int = BATCH) -> int:
    """Take again the runs whose worker left them (crash, killed process): the catch-up task.
    Returns the number of digests queued."""
    report = NightReport(timezone.localdate())
    for run in DigestRun.objects.filter(finished_at__isnull=True).filter(
        Q(locked_until__isnull=True) | Q(locked_until__lte=timezone.now())
    ).order_by("night"):
        _work_if_free(run, report, slice_size, batch)
    return report.digests


def open_run(night: dt.date, now: dt.datetime) -> DigestRun:
    """The run of ``night``, created when missing: it covers the events after the last event of
    the previous runs (the first run ever: since the start of the previous Brussels day)."""
    existing = DigestRun.objects.filter(night=night).first()
    if existing is not None:
        return existing
    covered = DigestRun.objects.aggregate(last=Max("to_sequence"))["last"]
    if covered is None:
        yesterday = dt.datetime.combine(night - dt.timedelta(days=1), dt.time(0), tzinfo=BRUSSELS)
        covered = selectors.sequence_before(yesterday)
    last = max(selectors.last_sequence(), covered)
    try:
        with transaction.atomic():
            run = DigestRun.objects.create(
                night=night, from_sequence=covered, to_sequence=last, progress=covered, started_at=now
            )
            record(ACTOR, "notifications.digestRun.open",
                   details={"night": night.isoformat(), "fromSequence": covered, "toSequence": last})
    except IntegrityError:  # opened meanwhile by another worker
        run = DigestRun.objects.get(night=night)
    return run


def _claim(run: DigestRun) -> bool:
    now = timezone.now()
    return DigestRun.objects.filter(
        Q(locked_until__isnull=True) | Q(locked_until__lte=now), pk=run.pk, finished_at__isnull=True
    ).update(locked_until=now + LEASE) == 1


def _work_if_free(run: DigestRun, report: NightReport, slice_size: int, batch: int) -> None:
    if run.finished_at is not None or not _claim(run):
        return
    report.runs.append(run.night)
    try:
        report.digests += _work(run, slice_size, batch)
    except BaseException:
        # Let a restart take it at once; a killed process leaves the lease to expire.
        DigestRun.objects.filter(pk=run.pk).update(locked_until=None)
        raise


def _work(run: DigestRun, slice_size: int, batch: int) -> int:
    run.refresh_from_db()
    queued = 0
    low = run.progress
    while low < run.to_sequence:
        high = min(low + slice_size, run.to_sequence)
        enterprise_ids = selectors.enterprises_first_told_in(run.from_sequence, low, high)
        for start in range(0, len(enterprise_ids), batch):
            queued += _digest_batch(run, enterprise_ids[start:start + batch])
        DigestRun.objects.filter(pk=run.pk).update(progress=high, locked_until=timezone.now() + LEASE)
        low = high
    with transaction.atomic():
        finished = DigestRun.objects.filter(pk=run.pk, finished_at__isnull=True).update(
            finished_at=timezone.now(), locked_until=None
        )
        if finished:
            run.refresh_from_db()
            record(ACTOR, "notifications.digestRun.finish",
                   details={"night": run.night.isoformat(), "fromSequence": run.from_sequence,
                            "toSequence": run.to_sequence, "digests": run.digests})
    logger.info("digest run %s: %d digest(s) queued by this worker", run.night, queued)
    return queued


def _digest_batch(run: DigestRun, enterprise_ids: list[int]) -> int:
    """Count, then record and queue the digests of these enterprises (one transaction)."""
    now = timezone.now()
    counts = selectors.unread_counts(enterprise_ids, run.from_sequence, run.to_sequence, now)
    if not counts:
        return 0
    targets = selectors.targets(list(counts))
    if not targets:
        return 0
    with transaction.atomic():
        served = selectors.digested(run.night, list(targets))
        queued = 0
        for enterprise_id in sorted(targets):
            if enterprise_id not in served:
                queued += _record_digest(run.night, targets[enterprise_id], counts[enterprise_id], now)
        DigestRun.objects.filter(pk=run.pk).update(digests=F("digests") + queued, locked_until=now + LEASE)
    return queued


def _record_digest(
    night: dt.date, target: selectors.Target, counts: selectors.Counts, now: dt.datetime
) -> int:
    code = codes.new_code()
    mail, created = queue_mail(
        key=f"digest:{target.cbe}:{night.isoformat()}",
        purpose="digest",
        to=target.email,
        prefix=rendering.RENDERED,
        context=rendering.digest_parts(digest_context(target, counts, code, night, now), target.language),
        language=target.language,
        headers={"Auto-Submitted": "auto-generated", "X-Coffre-Reference": codes.display(code)},
        ebox=_ebox(target.ebox_id),
    )
    if not created:
        # Recorded with its Digest by an earlier transaction (the two are written together).
        return 0
    rows.insert([Digest(
        enterprise_id=target.enterprise_id, night=night, code=code, to_address=target.email,
        new_documents=counts.new_documents, reminders=counts.reminders, expiring=counts.expiring,
        created_at=now, mail=mail,
    )])
    return 1


def _ebox(ebox_id: int):
    from coffre.mailbox.models import Ebox

    return Ebox(pk=ebox_id)


def digest_context(target: selectors.Target, counts: selectors.Counts, code: str, night: dt.date,
                   now: dt.datetime) -> dict:
    """What the digest's templates may say: counts, never a sender, subject or content."""
    return {
        "enterprise_name": target.name,
        "cbe": target.cbe,
        "new_documents": counts.new_documents,
        "reminders": counts.reminders,
        "expiring": counts.expiring,
        "phrase": target.phrase,
        "code": codes.display(code),
        "portal_url": links.of_enterprise("mailbox:list", target.cbe),
        "management_url": links.of_enterprise("mailbox:management", target.cbe),
        "genuine_url": links.absolute("notifications:genuine"),
        "night": night,
        "counted_at": now,
    }
