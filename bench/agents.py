"""Phase "agents": 10,000 connections of the declarative ``demo-energy`` agent against the fake
provider portal, on one machine (docs/benchmarks.md, section 6).

On a fresh database (var/bench/agents/): ``connections`` connections of ``demo-energy`` over
enterprises of 5 connections each (their Documents space), each with the credentials of its own
account of the fake portal; the portal (``bench/agents_portal.py``: ``coffre.agents.fakeportal``
under gunicorn, in processes of its own) has those accounts, ``bills`` bills each
(``agents_world.py``).

1. **Scheduling overhead** (``agents_scheduling.py``; no portal, no worker): the claims of the
   scheduler's round and of a sync that ends, per connection, with 1% of the connections due and
   with 90,000 more that are not; beside raw SQL claims; the plans of the round's statements.
2. **In-process**, on the last connections: CPU and statements of one sync (``engine.sync``); the
   store alone (seal + fsync of one document, ``coffre.mailbox.store``).
3. **Documents per second**, for ``duration`` seconds after a warm-up (0: until every connection
   synced), with ``workers`` processes each:
   - the limit: the agent alone (``open_session``, ``list_documents``, ``download`` of each bill, as
     the engine calls them), nothing stored, in ``workers`` processes forked from this phase;
   - Coffre: every connection due, ``workers`` real task workers (``coffre db_worker``, as ``coffre
     run`` starts one) and the real scheduler task enqueued every 60 s as ``coffre scheduler`` does:
     claims, the engine's syncs, each sync handing its slot on (``tasks.sync_claimed``). Counted from
     the database: documents stored (messages of origin "agent"), syncs ended.
   Afterwards: no task failed, every run ended OK, every synced connection holds its bills once.
"""

import multiprocessing
import os
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import agents_portal
import agents_scheduling
from agents_world import AGENT, Portal, clear_queue, connection_ids, make_due, populate
from common import PYTHON, ROOT, busy_cpu_seconds, log, phase_env, process_cpu_seconds, with_children

SCHEDULER_EVERY = 60  # seconds, as settings.COFFRE_PERIODIC_TASKS "sync-due-agents"
IN_PROCESS_SYNCS = 41  # the last connections: one to warm up, 20 timed, 20 with their statements counted


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
    seconds = max(last["at"] - first["at"], 1e-6)
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
            target=_agent_alone_worker,
            args=(counter, total, bool(duration), stop_at, syncs, documents, errors),
        )
        for _ in range(workers)
    ]
    for process in processes:
        process.start()
    window = _Window(portal, lambda: [process.pid for process in processes if process.is_alive()])
    time.sleep(warmup if duration else 0)  # the full run counts everything
    first = window.sample(syncs.value, documents.value)
    if duration:
        stop_at.value = first["at"] + duration
        time.sleep(duration)
        last = window.sample(syncs.value, documents.value)
    else:
        last = first
        while counter.value < total + workers and any(process.is_alive() for process in processes):
            time.sleep(0.5)
            last = window.sample(syncs.value, documents.value)
    for process in processes:
        process.join(300)
    if errors.value:
        raise SystemExit(
            f"agents bench: {errors.value} syncs of the agent alone failed; see {portal.log_path}"
        )
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
    make_due(ids, timezone.now())  # every connection due, in the order of the accounts
    clear_queue()
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
        time.sleep(warmup if duration else 0)  # the full run counts everything
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
    make_due(waiting, timezone.now())
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
    result["scheduling"] = agents_scheduling.scheduling_overhead(database, args.agents_due, args.agents_more)
    log(f"agents: the portal, {args.agents_connections} accounts x {args.agents_bills} bills")
    with Portal(var_dir, args.agents_connections, args.agents_bills, pdf_bytes) as portal:
        settings.COFFRE_DEMO_PORTAL_URL = portal.url
        span = f"{args.agents_warmup:g}+{args.agents_duration:g} s" if args.agents_duration else "all"
        log(f"agents: the agent alone, {args.agents_workers} processes, {span}")
        result["alone"] = agent_alone(
            portal, args.agents_connections, args.agents_workers, args.agents_warmup, args.agents_duration
        )
        ids = connection_ids()
        sample, ids = ids[-IN_PROCESS_SYNCS:], ids[:-IN_PROCESS_SYNCS]
        log(f"agents: in-process, {len(sample)} syncs")
        result["in_process"] = in_process(portal, sample, pdf_bytes)
        log(f"agents: Coffre, {args.agents_workers} task workers, {span}")
        result["coffre"] = coffre_syncs(
            var_dir, portal, ids, args.agents_bills, args.agents_workers, args.agents_warmup,
            args.agents_duration,
        )
    problems = result["coffre"]["checks"]["problems"]
    if problems:
        raise SystemExit("agents bench: " + "; ".join(problems))
    return result
