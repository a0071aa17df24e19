"""Phase "agents": 10,000 connections of the declarative ``demo-energy`` agent against the fake
provider portal, on one machine (docs/benchmarks.md, section 6).

On a fresh database (var/bench/agents/): ``connections`` connections of ``demo-energy`` over
enterprises of 5 connections each (their Documents space), each with the credentials of its own
account of the fake portal; the portal (``bench/agents_portal.py``: ``coffre.agents.fakeportal``
under gunicorn, in processes of its own) has those accounts, ``bills`` bills each.

1. **Scheduling overhead** (no portal, no worker): 1% of the connections due, the rest spread over
   the agent's period as regular runs leave them.
   - the scheduler's round, the real task ``tasks.sync_due_connections`` with the real task queue
     (``django_tasks_db``: one row per claim), round after round until every due connection was
     claimed; between rounds the claimed syncs "end" (released, next run in the future), untimed;
   - the hand-on claim of a sync that ends (``tasks._hand_on``: ``scheduling.claim_next`` and the
     ``sync_claimed`` it enqueues), once per due connection;
   - the limit: the same claims in raw SQL (``sqlite3``, the app's pragmas): one ``UPDATE ...
     WHERE id IN (SELECT ... ORDER BY next_run_at, id LIMIT n) RETURNING id`` per round;
   - the same three with ``more`` connections that are not due added (90,000 by default): the
     claim must not cost more;
   - the plans (EXPLAIN QUERY PLAN) of every statement of a round on the connections.
2. **Documents per second**, for ``duration`` seconds after a warm-up (0: until every connection
   synced), with ``workers`` processes each:
   - the limit: the agent alone (``open_session``, ``list_documents``, ``download`` of each bill, as
     the engine calls them), nothing stored, in ``workers`` processes of this phase;
   - Coffre: every connection due, ``workers`` real task workers (``coffre db_worker``, as ``coffre
     run`` starts one) and the real scheduler task enqueued every 60 s as ``coffre scheduler`` does:
     claims, the engine's syncs, each sync handing its slot on (``tasks.sync_claimed``). Counted from
     the database: documents stored (messages of origin "agent"), syncs ended.
   Afterwards: no task failed, every run ended OK, every synced connection holds its bills once.
3. In-process, on connections still due: CPU and queries of one sync (``engine.sync``); and the
   store alone (seal + fsync of one document, ``coffre.mailbox.store``).
"""

import datetime as dt
import multiprocessing
import os
import signal
import sqlite3
import subprocess
import time
import urllib.request
from pathlib import Path

import agents_portal
from common import (
    BENCH_DIR,
    PYTHON,
    ROOT,
    busy_cpu_seconds,
    free_port,
    log,
    phase_env,
    process_cpu_seconds,
    stop_process,
    with_children,
)

AGENT = "demo-energy"
PER_ENTERPRISE = 5
SCHEDULER_EVERY = 60  # seconds, as settings.COFFRE_PERIODIC_TASKS "sync-due-agents"
PORTAL_WORKERS, PORTAL_THREADS = 2, 4
IN_PROCESS_SYNCS = 41  # the last connections: one to warm up, 20 timed, 20 with their statements counted


# --- the connections ------------------------------------------------------------------------------


def populate(connections: int) -> dict:
    """Enterprises (through the service) and their connections (written in bulk, credentials sealed
    one by one as ``services.add_connection`` does); none due yet."""
    from coffre.accounts.services import register_enterprise
    from coffre.agents import credentials
    from coffre.agents.models import Connection, Status
    from coffre.audit.services import Actor
    from coffre.core.cbe import make_cbe
    from coffre.mailbox.models import Ebox

    started = time.monotonic()
    actor = Actor.cli("bench")
    boxes = []
    for number in range(-(-connections // PER_ENTERPRISE)):
        enterprise = register_enterprise(make_cbe(7_000_000 + number), f"Client {number}", actor).enterprise
        boxes.append(Ebox.objects.get(enterprise=enterprise, owner=None).pk)
    far = dt.datetime(2100, 1, 1, tzinfo=dt.UTC)
    rows = [
        Connection(
            box_id=boxes[number // PER_ENTERPRISE],
            folder="documents",
            agent_id=AGENT,
            label=f"Compteur {number}",
            credentials_sealed=credentials.seal(
                {"login": agents_portal.login(number), "password": agents_portal.password(number)}
            ),
            shown_credentials={"login": agents_portal.login(number)},
            status=Status.PENDING,
            next_run_at=far,
        )
        for number in range(connections)
    ]
    Connection.objects.bulk_create(rows, batch_size=1000)
    return {"enterprises": len(boxes), "seconds": time.monotonic() - started}


def _ids() -> list[int]:
    from coffre.agents.models import Connection

    return list(Connection.objects.order_by("pk").values_list("pk", flat=True))


def _spread(now: dt.datetime) -> None:
    """Every connection at its regular slot of the agent's period, as its syncs leave it."""
    from django.db import connection, transaction

    from coffre.agents import catalog, scheduling

    frequency = catalog.agent(AGENT).frequency
    adapt = connection.ops.adapt_datetimefield_value
    rows = [(adapt(scheduling.next_regular_run(pk, frequency, now)), pk) for pk in _ids()]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany("UPDATE agents_connection SET next_run_at = %s WHERE id = %s", rows)


def _make_due(due_ids: list[int], now: dt.datetime) -> None:
    """Every claim released; ``due_ids`` due, in their order, a second apart, all past."""
    from django.db import connection, transaction

    adapt = connection.ops.adapt_datetimefield_value
    first = now - dt.timedelta(seconds=len(due_ids) + 1)
    rows = [(adapt(first + dt.timedelta(seconds=index)), pk) for index, pk in enumerate(due_ids)]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE agents_connection SET claimed_by = '', claim_expires_at = NULL WHERE claimed_by != ''")
        cursor.executemany(
            "UPDATE agents_connection SET next_run_at = %s, claimed_by = '', claim_expires_at = NULL WHERE id = %s",
            rows,
        )


def _release_claimed(now: dt.datetime) -> None:
    """The syncs of the claimed connections "end": released, next run a period later."""
    from coffre.agents.models import Connection

    Connection.objects.exclude(claimed_by="").update(
        claimed_by="", claim_expires_at=None, next_run_at=now + dt.timedelta(days=3)
    )


def _clear_queue() -> None:
    from django_tasks_db.models import DBTaskResult

    DBTaskResult.objects.all().delete()


# --- 1. scheduling overhead -----------------------------------------------------------------------


def _statements(work) -> list[tuple[str, list]]:
    """The statements (with their parameters) ``work()`` sends to the database."""
    from django.db import connection

    seen = []

    def wrapper(execute, sql, params, many, context):
        seen.append((sql, list(params or [])))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        work()
    return seen


def _rounds(due_ids: list[int]) -> dict:
    """The real scheduler task, round after round, until every due connection was claimed."""
    from django.utils import timezone

    from coffre.agents import tasks

    _make_due(due_ids, timezone.now())
    seconds, claimed, rounds, statements = 0.0, 0, 0, 0
    while True:
        started = time.perf_counter()
        count = tasks.sync_due_connections.call()
        seconds += time.perf_counter() - started
        if not count:
            break
        claimed, rounds = claimed + count, rounds + 1
        _release_claimed(timezone.now())
    # The statements of a round, counted on another pass (capturing them costs time).
    _make_due(due_ids, timezone.now())
    counted = []
    statements = len(_statements(lambda: counted.append(tasks.sync_due_connections.call())))
    _release_claimed(timezone.now())
    _clear_queue()
    return {
        "claimed": claimed,
        "rounds": rounds,
        "ms_per_connection": seconds / max(claimed, 1) * 1000,
        "ms_per_round": seconds / max(rounds, 1) * 1000,
        "statements_per_round": statements,
        "statements_per_connection": statements / max(counted[0], 1),
    }


def _hand_ons(due_ids: list[int]) -> dict:
    """The claim of a sync that ends (``tasks._hand_on``: claim_next + the task it enqueues)."""
    from django.utils import timezone

    from coffre.agents import tasks

    _make_due(due_ids, timezone.now())
    seconds, claimed = 0.0, 0
    ended = due_ids[0]  # any connection of the agent: the one whose sync "ended"
    while True:
        started = time.perf_counter()
        tasks._hand_on(ended, "OK")
        seconds += time.perf_counter() - started
        from coffre.agents.models import Connection

        taken = Connection.objects.exclude(claimed_by="").count()
        if not taken:
            break
        claimed += taken
        _release_claimed(timezone.now())
    _make_due(due_ids, timezone.now())
    statements = len(_statements(lambda: tasks._hand_on(ended, "OK")))
    _release_claimed(timezone.now())
    _clear_queue()
    return {
        "claimed": claimed,
        "ms_per_connection": seconds / max(claimed, 1) * 1000,
        "statements_per_connection": statements,
    }


def _raw_claims(database: Path, due_ids: list[int], batch: int) -> dict:
    """The limit: the same claims with one UPDATE each, ``batch`` connections at a time."""
    from django.conf import settings
    from django.db import connection
    from django.utils import timezone

    _make_due(due_ids, timezone.now())
    adapt = connection.ops.adapt_datetimefield_value
    db = sqlite3.connect(database, isolation_level=None)
    for pragma in settings.DATABASES["default"]["OPTIONS"]["init_command"].split(";"):
        if pragma.strip():
            db.execute(pragma)
    claim = (
        "UPDATE agents_connection SET claimed_by = ?, claim_expires_at = ? WHERE id IN ("
        "SELECT id FROM agents_connection WHERE agent_id = ? AND next_run_at <= ? "
        "AND (claim_expires_at IS NULL OR claim_expires_at <= ?) ORDER BY next_run_at, id LIMIT ?) "
        "RETURNING id"
    )
    seconds, claimed, number = 0.0, 0, 0
    while True:
        now = timezone.now()
        at, lease = adapt(now), adapt(now + dt.timedelta(minutes=30))
        number += 1
        started = time.perf_counter()
        db.execute("BEGIN IMMEDIATE")
        taken = db.execute(claim, (f"raw{number}", lease, AGENT, at, at, batch)).fetchall()
        db.execute("COMMIT")
        seconds += time.perf_counter() - started
        if not taken:
            break
        claimed += len(taken)
        db.execute(
            "UPDATE agents_connection SET claimed_by = '', claim_expires_at = NULL, next_run_at = ? "
            "WHERE claimed_by = ?",
            (adapt(now + dt.timedelta(days=3)), f"raw{number}"),
        )
    plan = " / ".join(row[-1] for row in db.execute("EXPLAIN QUERY PLAN " + claim, ("x", at, AGENT, at, at, batch)))
    db.close()
    return {"claimed": claimed, "ms_per_connection": seconds / max(claimed, 1) * 1000, "plan": plan}


def _plans(due_ids: list[int]) -> list[dict]:
    """Every statement of a round on the connections, with SQLite's plan for it."""
    from django.db import connection
    from django.utils import timezone

    from coffre.agents import tasks

    _make_due(due_ids, timezone.now())
    captured = _statements(tasks.sync_due_connections.call)
    _release_claimed(timezone.now())
    _clear_queue()
    plans = []
    with connection.cursor() as cursor:
        for sql, params in captured:
            if "agents_connection" not in sql or not sql.startswith(("SELECT", "UPDATE")):
                continue
            cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
            plan = " / ".join(str(row[-1]) for row in cursor.fetchall())
            plans.append({"sql": " ".join(sql.split())[:160], "plan": plan})
    return plans


def _add_not_due(count: int) -> int:
    """``count`` more connections, none due (copies of the first ones, next run far away); the
    highest id before them."""
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT max(id), count(*) FROM agents_connection")
        highest, existing = cursor.fetchone()
        cursor.execute("PRAGMA table_info(agents_connection)")
        columns = [row[1] for row in cursor.fetchall() if row[1] not in ("id", "next_run_at")]
        names = ", ".join(columns)
        added = 0
        while added < count:
            chunk = min(existing, count - added)
            cursor.execute(
                f"INSERT INTO agents_connection ({names}, next_run_at) SELECT {names}, '2100-01-01 00:00:00' "
                f"FROM agents_connection WHERE id <= %s ORDER BY id LIMIT %s",
                [highest, chunk],
            )
            added += chunk
    return highest


def _remove_added(highest: int) -> None:
    from coffre.agents.models import Connection

    Connection.objects.filter(pk__gt=highest).delete()


def scheduling_overhead(database: Path, due_fraction: float, more: int) -> dict:
    from django.utils import timezone

    ids = _ids()
    step = max(1, round(1 / due_fraction))
    due_ids = ids[::step]
    _spread(timezone.now())
    result = {"connections": len(ids), "due": len(due_ids), "added": more}
    from coffre.agents import catalog

    result["max_concurrent"] = catalog.agent(AGENT).max_concurrent
    for label in ("base", "more"):
        if label == "more":
            if not more:
                break
            log(f"agents: scheduling, {more} connections not due added")
            highest = _add_not_due(more)
        else:
            log(f"agents: scheduling, {len(ids)} connections, {len(due_ids)} due")
        result[label] = {
            "round": _rounds(due_ids),
            "hand_on": _hand_ons(due_ids),
            "raw_round": _raw_claims(database, due_ids, result["max_concurrent"]),
            "raw_one": _raw_claims(database, due_ids, 1),
            "plans": _plans(due_ids),
        }
        if label == "more":
            _remove_added(highest)
    plans = result["base"]["plans"] + result.get("more", {}).get("plans", [])
    due_reads = [item for item in plans if "next_run_at" in item["sql"] and '"id" IN' not in item["sql"]]
    result["plans_use_due_index"] = bool(due_reads) and all("agents_due" in item["plan"] for item in due_reads)
    result["plans_scan"] = [item for item in plans if "SCAN agents_connection" in item["plan"]]
    return result


# --- the portal -----------------------------------------------------------------------------------


class Portal:
    """The fake portal under gunicorn (threaded workers, its state built before the fork)."""

    def __init__(self, var_dir: Path, accounts: int, bills: int, pdf_bytes: int):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.log_path = var_dir / "portal.log"
        self.env = {
            **phase_env(var_dir),
            "BENCH_PORTAL_ACCOUNTS": str(accounts),
            "BENCH_PORTAL_BILLS": str(bills),
            "BENCH_PORTAL_PDF_BYTES": str(pdf_bytes),
        }

    def __enter__(self) -> "Portal":
        self._log = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            [PYTHON, "-m", "gunicorn", "--preload", "--worker-class", "gthread", "--workers", str(PORTAL_WORKERS),
             "--threads", str(PORTAL_THREADS), "--bind", f"127.0.0.1:{self.port}", "--chdir", str(BENCH_DIR),
             "--log-level", "warning", "--keep-alive", "30", "agents_portal:application"],
            env=self.env, cwd=ROOT, stdout=self._log, stderr=self._log,
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"agents bench: the portal stopped at start-up; see {self.log_path}")
            try:
                with urllib.request.urlopen(self.url + "login", timeout=2):
                    return self
            except OSError:
                time.sleep(0.2)
        self.__exit__()
        raise SystemExit(f"agents bench: the portal did not answer; see {self.log_path}")

    def cpu_seconds(self) -> float:
        return sum(process_cpu_seconds(pid) for pid in with_children(self.process.pid))

    def __exit__(self, *exc) -> None:
        stop_process(self.process)
        self._log.close()


# --- 2. documents per second ----------------------------------------------------------------------


def _agent_alone_worker(counter, total, cycle, stop_at, syncs, documents, errors) -> None:
    """One process of the limit: whole syncs of the agent, nothing stored. With ``cycle``, the
    accounts are taken again from the first once all were (the agent alone changes nothing)."""
    from coffre.agents import catalog

    agent = catalog.agent(AGENT)
    while time.monotonic() < stop_at.value:
        with counter.get_lock():
            number = counter.value
            counter.value += 1
        if number >= total:
            if not cycle:
                return
            number %= total
        credentials = {"login": agents_portal.login(number), "password": agents_portal.password(number)}
        try:
            with agent.open_session(credentials) as session:
                for remote in agent.list_documents(session, ""):
                    agent.download(session, remote)
                    with documents.get_lock():
                        documents.value += 1
        except Exception:  # noqa: BLE001 - counted; the bench stops on any
            with errors.get_lock():
                errors.value += 1
            continue
        with syncs.get_lock():
            syncs.value += 1


class _Window:
    """CPU and counts at the start and the end of the measured window."""

    def __init__(self, portal: Portal, pids):
        self.portal, self.pids = portal, pids
        self.cpu: dict[int, float] = {}  # the last CPU time read of each worker, kept once it ended

    def sample(self, syncs: int, documents: int) -> dict:
        for pid in self.pids():
            self.cpu[pid] = max(self.cpu.get(pid, 0.0), process_cpu_seconds(pid))
        return {
            "at": time.monotonic(),
            "syncs": syncs,
            "documents": documents,
            "workers_cpu": sum(self.cpu.values()),
            "portal_cpu": self.portal.cpu_seconds(),
            "busy": busy_cpu_seconds(),
            "self_cpu": sum(os.times()[:2]),
        }


def _figures(first: dict, last: dict) -> dict:
    seconds = last["at"] - first["at"]
    syncs, documents = last["syncs"] - first["syncs"], last["documents"] - first["documents"]
    workers, portal = last["workers_cpu"] - first["workers_cpu"], last["portal_cpu"] - first["portal_cpu"]
    others = last["busy"] - first["busy"] - workers - portal - (last["self_cpu"] - first["self_cpu"])
    return {
        "window_s": seconds,
        "syncs": syncs,
        "documents": documents,
        "documents_per_s": documents / seconds,
        "syncs_per_s": syncs / seconds,
        "workers_cpu_ms_per_sync": workers / max(syncs, 1) * 1000,
        "portal_cpu_ms_per_sync": portal / max(syncs, 1) * 1000,
        "workers_cores": workers / seconds,
        "portal_cores": portal / seconds,
        "other_processes_cores": max(0.0, others / seconds),
    }


def agent_alone(portal: Portal, total: int, workers: int, warmup: float, duration: float) -> dict:
    from django.db import connections

    context = multiprocessing.get_context("fork")
    counter, syncs, documents, errors = (context.Value("q", 0) for _ in range(4))
    stop_at = context.Value("d", float("inf"))
    connections.close_all()  # before the fork
    processes = [
        context.Process(
            target=_agent_alone_worker, args=(counter, total, bool(duration), stop_at, syncs, documents, errors)
        )
        for _ in range(workers)
    ]
    for process in processes:
        process.start()
    window = _Window(portal, lambda: [process.pid for process in processes if process.is_alive()])
    time.sleep(warmup)
    first = window.sample(syncs.value, documents.value)
    if duration:
        stop_at.value = first["at"] + duration
        time.sleep(duration)
        last = window.sample(syncs.value, documents.value)
    else:
        while counter.value < total + workers and any(process.is_alive() for process in processes):
            time.sleep(0.5)
            last = window.sample(syncs.value, documents.value)
    for process in processes:
        process.join(300)
    if errors.value:
        raise SystemExit(f"agents bench: {errors.value} syncs of the agent alone failed; see {portal.log_path}")
    return _figures(first, last)


def _counts(database: Path) -> tuple[int, int, int]:
    """Syncs ended, documents stored, connections claimed now (read on a connection of its own)."""
    from django.db import connection
    from django.utils import timezone

    db = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=30)
    try:
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        [(syncs,)] = db.execute("SELECT count(*) FROM agents_syncrun WHERE ended_at IS NOT NULL")
        [(documents,)] = db.execute("SELECT count(*) FROM mailbox_message WHERE origin = 'agent'")
        [(claimed,)] = db.execute("SELECT count(*) FROM agents_connection WHERE claim_expires_at > ?", (now,))
    finally:
        db.close()
    return syncs, documents, claimed


def coffre_syncs(
    var_dir: Path, portal: Portal, ids: list[int], bills: int, workers: int, warmup: float, duration: float
) -> dict:
    from django.db import connections
    from django.utils import timezone

    from coffre.agents import tasks

    database = var_dir / "coffre.sqlite3"
    _make_due(ids, timezone.now())  # every connection due, in the order of the accounts
    _clear_queue()
    before = _counts(database)[0]  # the syncs of the in-process sample
    connections.close_all()
    env = phase_env(var_dir, COFFRE_DEMO_PORTAL_URL=portal.url, COFFRE_LOG_LEVEL="WARNING")
    logs = [open(var_dir / f"worker-{number}.log", "wb") for number in range(workers)]
    processes = [
        subprocess.Popen(
            [PYTHON, "-m", "coffre.cli", "db_worker", "--queue-name", "default", "--no-reload"],
            env=env, cwd=ROOT, stdout=log_file, stderr=log_file,
        )
        for log_file in logs
    ]
    window = _Window(portal, lambda: [pid for process in processes for pid in with_children(process.pid)])
    max_claimed = 0
    try:
        started = time.monotonic()
        tasks.sync_due_connections.enqueue()  # as `coffre scheduler` does, every minute
        next_round = started + SCHEDULER_EVERY
        time.sleep(warmup)
        syncs, documents, claimed = _counts(database)
        first = window.sample(syncs, documents)
        while True:
            time.sleep(1)
            syncs, documents, claimed = _counts(database)
            max_claimed = max(max_claimed, claimed)
            last = window.sample(syncs, documents)
            if any(process.poll() is not None for process in processes):
                raise SystemExit(f"agents bench: a task worker stopped; see {var_dir}/worker-*.log")
            if duration and last["at"] - first["at"] >= duration:
                break
            if syncs - before >= len(ids):  # all synced (a small run, or the full one)
                break
            if time.monotonic() >= next_round:
                tasks.sync_due_connections.enqueue()
                next_round += SCHEDULER_EVERY
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)  # db_worker ends the task it runs, then stops
        for process in processes:
            try:
                process.wait(120)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for log_file in logs:
            log_file.close()
    result = _figures(first, last)
    result["max_claimed"] = max_claimed
    result["checks"] = _checks(bills)
    return result


def _checks(bills: int) -> dict:
    """What the syncs left: every task succeeded, every run ended OK, each synced connection holds
    each of its bills once (one message, one item each)."""
    from django.db.models import Count
    from django_tasks_db.models import DBTaskResult

    from coffre.agents.models import Connection, RemoteItem, Status, SyncRun
    from coffre.mailbox.models import Message

    tasks = dict(DBTaskResult.objects.values_list("status").annotate(n=Count("id")))
    runs = dict(SyncRun.objects.values_list("status").annotate(n=Count("id")))
    synced = Connection.objects.filter(status=Status.OK)
    per_connection = dict(synced.values_list("documents").annotate(n=Count("id")))
    checks = {
        "tasks": tasks,
        "runs": runs,
        "synced_connections": synced.count(),
        "documents_per_synced_connection": per_connection,
        "items": RemoteItem.objects.count(),
        "agent_messages": Message.objects.filter(origin="agent").count(),
    }
    problems = []
    if tasks.get("FAILED"):
        problems.append(f"{tasks['FAILED']} tasks failed")
    if set(runs) - {"OK", "RUNNING", "INTERRUPTED"}:
        problems.append(f"runs ended {runs}")
    if set(per_connection) - {bills}:
        problems.append(f"synced connections holding other than {bills} documents: {per_connection}")
    if checks["items"] != checks["agent_messages"]:
        problems.append(f"{checks['items']} items but {checks['agent_messages']} messages")
    checks["problems"] = problems
    return checks


# --- 3. in-process ------------------------------------------------------------------------------


def in_process(portal: Portal, waiting: list[int], pdf_bytes: int) -> dict:
    """Syncs in this process (CPU, statements) of the connections ``waiting`` (due, never synced);
    the store alone."""
    from django.conf import settings
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from django.utils import timezone

    from coffre.agents import engine
    from coffre.mailbox import store

    settings.COFFRE_DEMO_PORTAL_URL = portal.url
    _make_due(waiting, timezone.now())
    engine.sync(waiting[0])  # warm: imports, the TLS context, the first statements
    half = len(waiting) // 2
    timed, counted = waiting[1:half], waiting[half:]
    cpu = time.process_time()
    documents = 0
    for pk in timed:
        documents += engine.sync(pk).new
    cpu = time.process_time() - cpu
    statements = found = 0
    for pk in counted:
        with CaptureQueriesContext(connection) as queries:
            found += engine.sync(pk).new
        statements += len(queries.captured_queries)
    sample = agents_portal.build(1, 1, pdf_bytes)
    body = sample._bill_pdf(sample.state.account(agents_portal.login(0)), "F000001").body
    store_cpu, store_wall, rounds = time.process_time(), time.perf_counter(), 50
    for number in range(rounds):
        staged = store.write_content([body, str(number).encode()])
        store.stage([staged])
        store.abandon([staged])
    return {
        "syncs": len(timed),
        "cpu_ms_per_sync": cpu / max(len(timed), 1) * 1000,
        "documents_per_sync": documents / max(len(timed), 1),
        "statements_per_sync": statements / max(len(counted), 1),
        "statements_per_document": statements / max(found, 1),
        "store_cpu_ms_per_document": (time.process_time() - store_cpu) / rounds * 1000,
        "store_ms_per_document": (time.perf_counter() - store_wall) / rounds * 1000,
    }


# --- the phase ----------------------------------------------------------------------------------


def run(var_dir: Path, args) -> dict:
    from django.conf import settings

    from coffre.agents import catalog

    load = " ".join(f"{value:.2f}" for value in os.getloadavg())
    pdf_bytes = args.agents_pdf_kb * 1024
    log(f"agents: {args.agents_connections} connections of {AGENT} (load average {load})")
    setup = populate(args.agents_connections)
    database = Path(settings.DATABASES["default"]["NAME"])
    result = {
        "connections": args.agents_connections,
        "bills": args.agents_bills,
        "workers": args.agents_workers,
        "duration": args.agents_duration,
        "pdf_bytes": agents_portal.sample_pdf(pdf_bytes),
        "max_concurrent": catalog.agent(AGENT).max_concurrent,
        "frequency_days": catalog.agent(AGENT).frequency.total_seconds() / 86400,
        "load_at_start": load,
        "setup": setup,
    }
    result["scheduling"] = scheduling_overhead(database, args.agents_due, args.agents_more)
    log(f"agents: the portal, {args.agents_connections} accounts x {args.agents_bills} bills")
    with Portal(var_dir, args.agents_connections, args.agents_bills, pdf_bytes) as portal:
        settings.COFFRE_DEMO_PORTAL_URL = portal.url
        span = f"{args.agents_warmup:g}+{args.agents_duration:g} s" if args.agents_duration else "all"
        log(f"agents: the agent alone, {args.agents_workers} processes, {span}")
        result["alone"] = agent_alone(
            portal, args.agents_connections, args.agents_workers, args.agents_warmup, args.agents_duration
        )
        ids = _ids()
        sample, ids = ids[-IN_PROCESS_SYNCS:], ids[:-IN_PROCESS_SYNCS]
        log(f"agents: in-process, {len(sample)} syncs")
        result["in_process"] = in_process(portal, sample, pdf_bytes)
        log(f"agents: Coffre, {args.agents_workers} task workers, {span}")
        result["coffre"] = coffre_syncs(
            var_dir, portal, ids, args.agents_bills, args.agents_workers, args.agents_warmup, args.agents_duration
        )
    problems = result["coffre"]["checks"]["problems"]
    if problems:
        raise SystemExit("agents bench: " + "; ".join(problems))
    return result
