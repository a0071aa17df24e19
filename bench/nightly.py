"""The nightly notification work at scale: 1M enterprises, 5M events (docs/benchmarks.md, part 4).

``generate`` writes the data set once into var/bench/nightly-<key>/ (``key`` names ``VERSION``
and the sizes), as a registry would hold it on the morning of Tuesday 3 March 2026 at 02:00
Brussels time: enterprises with their e-Boxes (most with a confirmed notification address, some
with an anti-phishing phrase), ``days`` days of history in which messages arrived every day
(a skewed spread over the enterprises), were read (or not) after a while, got their reminder
and expiry alert at 02:00 of the day they fell due while unread, and the previous night's digest
run, finished. The rows are what the services write: a ``mailbox_message`` per ``newDocument``,
the follow-up due dates on the ``newDocument`` rows as they stand before the night (cleared when
read or already handled), ``readDocument`` events at the reading. Bulk rows go in with sqlite3
directly, indexes dropped during the load and rebuilt after; reference data through the
services. Everything is drawn from a seeded generator: the same key gives the same data.

``run`` works on a copy of the data set, with the clock at that night (time-machine, ticking):
Coffre's ``run_nightly()`` (follow-up events, digest building, queueing in the outbox), timed,
with the process's peak memory, beside the limit, with sqlite3 alone and the app's pragmas: a
pass reading once every event the night handles (the window after the previous run, and the
follow-up rows due, read before Coffre's run), plus writing again the rows Coffre's run wrote
(follow-up events, outgoing mails, digests, delivery tasks) into copies of their tables with
their indexes, in transactions of Coffre's sizes: the database's own cost of the same night.
"""

import datetime as dt
import json
import random
import resource
import shutil
import sqlite3
import time
import uuid
from pathlib import Path
from zoneinfo import ZoneInfo

from common import log

VERSION = "3"  # 3: generated on the schema of the outbox with its delivery columns
SEED = 20260303
BRUSSELS = ZoneInfo("Europe/Brussels")
NIGHT = dt.datetime(2026, 3, 3, 2, 0, tzinfo=BRUSSELS)  # the night measured
HOUR = dt.timedelta(hours=1)
# (share, validity in days) of the message types
VALIDITIES = [(0.25, 30), (0.35, 183), (0.40, 365)]
READ_SHARE = 0.65  # of the messages, read some day (if that day has come)
NEW_PER_EVENT = 0.55  # newDocument events among all events, about (the rest: reads, follow-ups)
ORGANIZATION_SEED = 4067980

TABLES = {
    "accounts_enterprise": ["id", "cbe", "name", "language", "active", "created_at", "client_admin_id"],
    "mailbox_ebox": [
        "id", "created_at", "last_consulted_at", "enterprise_id", "anti_phishing_phrase", "notification_email",
        "notification_failure", "notification_status", "notification_verified_at", "pending_email",
        "pending_expires_at", "pending_token_sha256",
    ],
    "events_event": [
        "sequence", "event_type", "event_time", "provider_id", "correlation_id", "message_id", "receipt_date",
        "expiration_date", "registered_mail", "message_type_id", "sender_organization_id",
        "sender_application_id", "subject", "reminder_due", "alert_due", "enterprise_id",
    ],
    "mailbox_message": [
        "id", "message_id", "subject", "receipt_date", "expiration_date", "read_at", "visible", "registered_mail",
        "for_attention_id", "for_attention_type", "for_attention_name", "original_message_id", "body",
        "body_main_content", "business_data", "reply_authorized", "attachments_size", "publisher_client_id",
        "search_fr", "search_nl", "search_de", "search_en", "created_at", "ebox_id", "message_type_id",
        "sender_application_id", "sender_organization_id",
    ],
}


def _stamp(moment: dt.datetime) -> str:
    """A datetime as Django stores it in SQLite (naive UTC)."""
    return moment.astimezone(dt.UTC).replace(tzinfo=None).isoformat(" ")


def _insert_sql(db: sqlite3.Connection, table: str) -> str:
    columns = [row[1] for row in db.execute(f"PRAGMA table_info({table})")]
    if sorted(columns) != sorted(TABLES[table]):
        raise SystemExit(f"bench nightly: the columns of {table} changed ({columns}); update bench/nightly.py "
                         "and its VERSION")
    names = ", ".join(f'"{name}"' for name in TABLES[table])
    return f"INSERT INTO {table} ({names}) VALUES ({', '.join('?' * len(TABLES[table]))})"


def _reference_data() -> dict:
    from coffre.audit.services import Actor
    from coffre.core.cbe import make_cbe
    from coffre.mailbox import reference
    from coffre.mailbox.models import MessageType, SenderOrganization

    actor = Actor.cli("bench nightly")
    cbe = make_cbe(ORGANIZATION_SEED)
    reference.set_sender_organization(cbe, actor, short_name={"fr": "ONSS", "nl": "RSZ"})
    reference.set_message_type("BENCH_NIGHT", actor, name={"fr": "Avis", "nl": "Bericht"}, validity_number=1,
                               validity_unit="year", organizations=[cbe])
    return {
        "organization_cbe": cbe,
        "organization_pk": SenderOrganization.objects.get(organization_id=cbe).pk,
        "type_pk": MessageType.objects.get(message_type_id="BENCH_NIGHT").pk,
    }


def _follow_ups(receipt: dt.datetime, expiration: dt.datetime) -> dict:
    from coffre.events.services import follow_ups

    return follow_ups(receipt, expiration)


def generate(database: Path, enterprises: int, events: int, days: int) -> dict:
    """Fill the migrated database at ``database``; returns the data set's description."""
    from django.db import connection

    from coffre.core.cbe import make_cbe

    started = time.monotonic()
    reference = _reference_data()
    connection.close()
    rng = random.Random(SEED)
    db = sqlite3.connect(database, isolation_level=None)
    for pragma in ("journal_mode=DELETE", "journal_mode=OFF", "synchronous=OFF", "cache_size=-262144"):
        db.execute(f"PRAGMA {pragma}")
    indexes = db.execute(
        "SELECT name, sql FROM sqlite_master WHERE type='index' AND sql IS NOT NULL AND tbl_name IN (%s)"
        % ", ".join(f"'{table}'" for table in TABLES)
    ).fetchall()
    for name, _ in indexes:
        db.execute(f'DROP INDEX "{name}"')
    statements = {table: _insert_sql(db, table) for table in TABLES}
    if db.execute("SELECT COUNT(*) FROM accounts_enterprise").fetchone()[0]:
        raise SystemExit("bench nightly: the data set's database must start without enterprises")

    # Enterprises and their e-Boxes (e-Box id = enterprise id).
    created = _stamp(NIGHT - dt.timedelta(days=days + 400))
    addresses = {"verified": 0, "pending": 0, "failing": 0, "none": 0}
    db.execute("BEGIN")
    chunk_e, chunk_b = [], []
    for pk in range(1, enterprises + 1):
        language = rng.choices(("nl", "fr", "de"), (55, 40, 5))[0]
        chunk_e.append((pk, make_cbe(10_000_000 + pk), f"Entreprise {pk:07d} SRL", language, 1, created, None))
        state = rng.choices(("verified", "pending", "failing", "none"), (85, 5, 3, 7))[0]
        addresses[state] += 1
        email = "" if state == "none" else f"info@entreprise{pk}.be"
        phrase = f"Phrase {pk % 977}" if rng.random() < 0.4 else ""
        chunk_b.append((pk, created, None, pk, phrase, email, "", "verified" if state == "none" else state,
                        created if state == "verified" else None, "", None, ""))
        if len(chunk_e) == 50_000:
            db.executemany(statements["accounts_enterprise"], chunk_e)
            db.executemany(statements["mailbox_ebox"], chunk_b)
            chunk_e.clear()
            chunk_b.clear()
    db.executemany(statements["accounts_enterprise"], chunk_e)
    db.executemany(statements["mailbox_ebox"], chunk_b)
    db.execute("COMMIT")
    log(f"nightly dataset: {enterprises} enterprises and e-Boxes ({time.monotonic() - started:.0f} s)")

    # Who gets documents: a skewed spread (log-normal weights), drawn with cumulative weights.
    weights = [rng.lognormvariate(0, 1.2) for _ in range(enterprises)]
    cumulative, total = [], 0.0
    for weight in weights:
        total += weight
        cumulative.append(total)
    del weights
    new_per_day = max(1, round(events * NEW_PER_EVENT / days))
    first_day = NIGHT.date() - dt.timedelta(days=days)
    pending: dict[dt.date, list] = {}  # day -> [(time, kind, ...)] of events planned for that day
    counts = {"newDocument": 0, "readDocument": 0, "newDocumentReminder": 0, "documentExpirationAlert": 0}
    sequence = message_pk = 0
    previous_run_end = 0
    previous_night = NIGHT - dt.timedelta(days=1)
    subject = json.dumps({"fr": "Avis", "nl": "Bericht"})
    validities = [validity for _, validity in VALIDITIES]
    shares = [share for share, _ in VALIDITIES]
    organization = reference["organization_cbe"]
    for offset in range(days + 1):
        day = first_day + dt.timedelta(days=offset)
        start = dt.datetime.combine(day, dt.time(0), tzinfo=BRUSSELS)
        planned = pending.pop(day, [])
        messages = []

        def plan(item, planned=planned, day=day):
            when = item[0].astimezone(BRUSSELS).date()
            (planned if when == day else pending.setdefault(when, [])).append(item)
        if day < NIGHT.date():
            owners = rng.choices(range(1, enterprises + 1), cum_weights=cumulative, k=new_per_day)
            for enterprise_id in owners:
                receipt = start + dt.timedelta(seconds=rng.uniform(6 * 3600, 22 * 3600))
                expiration = receipt + dt.timedelta(days=rng.choices(validities, shares)[0])
                read = receipt + HOUR * rng.lognormvariate(2.3, 1.4) if rng.random() < READ_SHARE else None
                if read is not None and read >= NIGHT:
                    read = None  # not yet
                message_pk += 1
                message_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
                due = _follow_ups(receipt, expiration)
                state = {"reminder_due": None, "alert_due": None}
                for column, kind in (("reminder_due", "newDocumentReminder"), ("alert_due", "documentExpirationAlert")):
                    when = due[column]
                    if when is None:
                        continue
                    at = dt.datetime.combine(when, dt.time(2), tzinfo=BRUSSELS)
                    if at < receipt:  # due on its arrival day: the next night's run emits it
                        at = dt.datetime.combine(when + dt.timedelta(days=1), dt.time(2), tzinfo=BRUSSELS)
                    if read is not None and read < at:
                        continue  # read first: cleared, never emitted
                    if at >= NIGHT:
                        state[column] = when.isoformat()  # still to come (tonight's run or later)
                    elif expiration > at:
                        plan((at, kind, enterprise_id, message_id, receipt, expiration))
                if read is not None:
                    plan((read, "readDocument", enterprise_id, message_id, receipt, expiration))
                messages.append((message_pk, message_id, subject, _stamp(receipt), _stamp(expiration),
                                 _stamp(read) if read else None, 1, 0, "", "", "", "", None, 0, "[]", 0, 0,
                                 "bench", "", "", "", "", _stamp(receipt), enterprise_id, reference["type_pk"],
                                 None, reference["organization_pk"]))
                planned.append((receipt, "newDocument", enterprise_id, message_id, receipt, expiration,
                                state["reminder_due"], state["alert_due"]))
        planned.sort(key=lambda item: item[0])
        rows = []
        for item in planned:
            if item[0] > NIGHT:
                continue
            sequence += 1
            moment, kind, enterprise_id, message_id, receipt, expiration = item[:6]
            reminder_due, alert_due = item[6:] if kind == "newDocument" else (None, None)
            counts[kind] += 1
            rows.append((sequence, kind, _stamp(moment), "coffre", "", message_id, _stamp(receipt),
                         _stamp(expiration), 0, "BENCH_NIGHT", organization, "", subject, reminder_due, alert_due,
                         enterprise_id))
            if moment <= previous_night:
                previous_run_end = sequence
        db.execute("BEGIN")
        db.executemany(statements["mailbox_message"], messages)
        db.executemany(statements["events_event"], rows)
        db.execute("COMMIT")
        if offset % 5 == 0 or day >= NIGHT.date() - dt.timedelta(days=1):
            log(f"nightly dataset: {day} done, {sequence} events, {message_pk} messages "
                f"({time.monotonic() - started:.0f} s)")
    log(f"nightly dataset: rebuilding {len(indexes)} indexes ({time.monotonic() - started:.0f} s)")
    for _, sql in indexes:
        db.execute(sql)
    # The previous night's run, finished: tonight starts after its last event.
    db.execute(
        "INSERT INTO notifications_digestrun (night, from_sequence, to_sequence, progress, started_at, "
        "finished_at, locked_until, digests) VALUES (?, 0, ?, ?, ?, ?, NULL, 0)",
        [previous_night.date().isoformat(), previous_run_end, previous_run_end, _stamp(previous_night),
         _stamp(previous_night + dt.timedelta(minutes=5))],
    )
    db.execute("ANALYZE")
    db.execute("PRAGMA journal_mode=WAL")
    db.close()
    return {
        "enterprises": enterprises,
        "events": sequence,
        "events_by_type": counts,
        "messages": message_pk,
        "days": days,
        "addresses": addresses,
        "previous_run_end": previous_run_end,
        "night": NIGHT.isoformat(),
        "seed": SEED,
        "generated_s": time.monotonic() - started,
    }


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _limit(database: Path, window_from: int, window_to: int, day: dt.date) -> dict:
    """Read once, with sqlite3 alone, every event the night handles: the window, the rows due."""
    from django.conf import settings

    db = sqlite3.connect(database, isolation_level=None)
    for statement in settings.DATABASES["default"]["OPTIONS"]["init_command"].split(";"):
        if statement.strip():
            db.execute(statement)
    started = time.perf_counter()
    rows = 0
    for _ in db.execute(
        'SELECT "enterprise_id", "event_type", "provider_id", "message_id", "expiration_date" FROM "events_event" '
        'WHERE "sequence" > ? AND "sequence" <= ?', [window_from, window_to]
    ):
        rows += 1
    due = 0
    for column in ("reminder_due", "alert_due"):
        for _ in db.execute(
            f'SELECT "sequence", "enterprise_id", "message_id" FROM "events_event" WHERE "{column}" <= ?',
            [day.isoformat()],
        ):
            due += 1
    elapsed = time.perf_counter() - started
    db.close()
    return {"seconds": elapsed, "window_events": rows, "due_rows": due}


def _copy_schema(db: sqlite3.Connection, table: str) -> str:
    """An empty table ``limit_<table>`` with the schema and indexes of ``table``."""
    copy = f"limit_{table}"
    for (sql,) in db.execute(
        "SELECT sql FROM sqlite_master WHERE tbl_name = ? AND sql IS NOT NULL ORDER BY type DESC", [table]
    ).fetchall():
        sql = sql.replace(f'"{table}"', f'"{copy}"', 1)
        if sql.startswith("CREATE INDEX") or sql.startswith("CREATE UNIQUE INDEX"):
            name = sql.split('"')[1]
            sql = sql.replace(f'"{name}"', f'"limit_{name}"', 1).replace(f'ON "{table}"', f'ON "{copy}"')
        db.execute(sql)
    return copy


def _limit_writes(database: Path, sources: list[tuple[str, str, list, int]]) -> dict:
    """Write again, with sqlite3 alone, the rows Coffre's run wrote (``sources``: table, WHERE, its
    parameters, rows per transaction) into copies of their tables: what storing them costs."""
    from django.conf import settings

    db = sqlite3.connect(database, isolation_level=None)
    for statement in settings.DATABASES["default"]["OPTIONS"]["init_command"].split(";"):
        if statement.strip():
            db.execute(statement)
    seconds, rows = 0.0, 0
    for table, where, params, per_transaction in sources:
        copy = _copy_schema(db, table)
        columns = [row[1] for row in db.execute(f'PRAGMA table_info("{table}")')]
        names = ", ".join(f'"{name}"' for name in columns)
        insert = f'INSERT INTO "{copy}" ({names}) VALUES ({", ".join("?" * len(columns))})'
        reader = db.execute(f'SELECT {names} FROM "{table}" WHERE {where}', params)
        chunks = []
        while chunk := reader.fetchmany(per_transaction):
            chunks.append(chunk)
        started = time.perf_counter()
        for chunk in chunks:
            db.execute("BEGIN IMMEDIATE")
            db.executemany(insert, chunk)
            db.execute("COMMIT")
            rows += len(chunk)
        seconds += time.perf_counter() - started
        db.execute(f'DROP TABLE "{copy}"')
    db.close()
    return {"seconds": seconds, "rows": rows}


class _HeapWatch:
    """The process's peak anonymous memory (Python objects, SQLite's page cache; not the pages of
    the database file it maps), sampled every 50 ms."""

    def __init__(self):
        import threading

        self.peak_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    @staticmethod
    def now_kb() -> int:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("RssAnon:"):
                return int(line.split()[1])
        return 0

    def _watch(self):
        while not self._stop.is_set():
            self.peak_kb = max(self.peak_kb, self.now_kb())
            self._stop.wait(0.05)

    def __enter__(self):
        self.start_kb = self.now_kb()
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak_kb = max(self.peak_kb, self.now_kb())


def run(var_dir: Path, dataset_dir: Path) -> dict:
    """Copy the data set into ``var_dir`` (this phase's own), then measure the limit and Coffre."""
    import time_machine
    from django.db import connection

    database = var_dir / "coffre.sqlite3"
    rss_at_start = _peak_rss_mb()
    with time_machine.travel(NIGHT, tick=True):
        from coffre.events.models import Event
        from coffre.events.services_follow_ups import emit_due_follow_ups
        from coffre.notifications import services
        from coffre.notifications.models import DigestRun
        from coffre.outbox.models import OutgoingMail

        window_from = DigestRun.objects.get().to_sequence
        window_to = Event.objects.order_by("-sequence").values_list("sequence", flat=True).first()
        connection.close()
        limit = _limit(database, window_from, window_to, NIGHT.date())
        log(f"nightly: limit {limit['seconds']:.1f} s ({limit['window_events']} events in the window, "
            f"{limit['due_rows']} follow-up rows due)")
        cpu = _cpu_s()
        with _HeapWatch() as heap:
            started = time.perf_counter()
            # run_nightly() starts with the follow-ups; they are called first here only to time them
            # apart (run_nightly then finds none left: the same work in all).
            follow_ups = emit_due_follow_ups(NIGHT.date())
            follow_ups_s = time.perf_counter() - started
            report = services.run_nightly()
            elapsed = time.perf_counter() - started
        cpu = _cpu_s() - cpu
        run_ = DigestRun.objects.get(night=NIGHT.date())
        queued = OutgoingMail.objects.filter(purpose="digest").count()
        connection.close()
    log(f"nightly: Coffre {elapsed:.1f} s, {report.digests} digests")
    writes = _limit_writes(database, [
        ("events_event", '"sequence" > ?', [window_to], 2000),
        ("outbox_outgoingmail", "1", [], 200),
        ("notifications_digest", "1", [], 200),
        ("django_tasks_database_dbtaskresult", "1", [], 200),
    ])
    log(f"nightly: limit, writing the same rows {writes['seconds']:.1f} s ({writes['rows']} rows)")
    return {
        "limit": {**limit, "read_seconds": limit["seconds"], "write_seconds": writes["seconds"],
                  "rows_written": writes["rows"], "seconds": limit["seconds"] + writes["seconds"]},
        "coffre": {
            "seconds": elapsed,
            "follow_ups_seconds": follow_ups_s,
            "cpu_seconds": cpu,
            "digests": report.digests,
            "mails_queued": queued,
            "reminders": follow_ups.reminders,
            "alerts": follow_ups.alerts,
            "dropped_follow_ups": follow_ups.dropped,
            "window_events": run_.to_sequence - run_.from_sequence,
            "peak_rss_mb": _peak_rss_mb(),
            "rss_at_start_mb": rss_at_start,
            "peak_heap_mb": heap.peak_kb / 1024,
            "heap_at_start_mb": heap.start_kb / 1024,
        },
    }


def copy_dataset(dataset_dir: Path, run_dir: Path) -> None:
    shutil.rmtree(run_dir, ignore_errors=True)
    run_dir.mkdir(parents=True)
    shutil.copyfile(dataset_dir / "coffre.sqlite3", run_dir / "coffre.sqlite3")
