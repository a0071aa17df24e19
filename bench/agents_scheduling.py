"""Part 1 of the agents phase (``bench/agents.py``): what the scheduler's claims cost per
connection, beside raw SQL claims of the same connections, with 1% of the connections due and then
with many more connections that are not due; and the plans of the round's statements.

Each claim is timed call after call until nothing is due, the claimed syncs "ending" between calls
(released, next run a period later; untimed), ``REPEATS`` times over the same due set; the figure
is the median of each call's cost per connection (a shared machine: a neighbour's burst moves the
mean, not the median).
"""

import datetime as dt
import sqlite3
import time
from pathlib import Path

from agents_world import AGENT, clear_queue, connection_ids, make_due, release_claimed, spread
from common import log

REPEATS = 3  # each due set claimed this many times


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


def _per_connection(samples: list[tuple[float, int]]) -> dict:
    """Figures of timed claims ``(seconds, connections claimed)``: the median of each call's cost
    per connection (robust to a neighbour's burst on a shared machine) and the mean."""
    import statistics

    taken = [(seconds, count) for seconds, count in samples if count]
    claimed = sum(count for _seconds, count in taken)
    return {
        "calls": len(taken),
        "claimed": claimed,
        "ms_per_connection": statistics.median(seconds / count for seconds, count in taken) * 1000,
        "mean_ms_per_connection": sum(seconds for seconds, _count in taken) / max(claimed, 1) * 1000,
    }


def _claims(due_ids: list[int], claim) -> list[tuple[float, int]]:
    """``claim()`` (returns how many it claimed) timed, call after call until nothing is due, the
    claimed syncs "ending" between calls (untimed); ``REPEATS`` times over the same due set."""
    from django.utils import timezone

    samples = []
    for _repeat in range(REPEATS):
        make_due(due_ids, timezone.now())
        while True:
            started = time.perf_counter()
            count = claim()
            samples.append((time.perf_counter() - started, count))
            if not count:
                break
            release_claimed(timezone.now())
    clear_queue()
    return samples


def _rounds(due_ids: list[int]) -> dict:
    """The real scheduler task, round after round, until every due connection was claimed."""
    from django.utils import timezone

    from coffre.agents import tasks

    result = _per_connection(_claims(due_ids, tasks.sync_due_connections.call))
    # The statements of a round, counted on another pass (capturing them costs time).
    make_due(due_ids, timezone.now())
    counted = []
    statements = len(_statements(lambda: counted.append(tasks.sync_due_connections.call())))
    release_claimed(timezone.now())
    clear_queue()
    return {
        **result,
        "per_round": counted[0],
        "statements_per_round": statements,
        "statements_per_connection": statements / max(counted[0], 1),
    }


def _hand_ons(due_ids: list[int]) -> dict:
    """The claim of a sync that ends: what ``tasks.sync_claimed`` does after the engine's run
    (``scheduling.claim_next`` and the ``sync_claimed`` task it enqueues)."""
    from django.utils import timezone

    from coffre.agents import scheduling, tasks

    ended = due_ids[0]  # any connection of the agent: the one whose sync "ended"

    def hand_on() -> int:
        claims = scheduling.claim_next(ended)
        for connection_id, token in claims:
            tasks.sync_claimed.enqueue(connection_id, token)
        return len(claims)

    result = _per_connection(_claims(due_ids, hand_on))
    make_due(due_ids, timezone.now())
    statements = len(_statements(hand_on))
    release_claimed(timezone.now())
    clear_queue()
    return {**result, "statements_per_connection": statements}


def _raw_claims(database: Path, due_ids: list[int], batch: int) -> dict:
    """The limit: the same claims with one UPDATE each, ``batch`` connections at a time."""
    from django.conf import settings
    from django.db import connection
    from django.utils import timezone

    adapt = connection.ops.adapt_datetimefield_value
    db = sqlite3.connect(database, isolation_level=None, timeout=30)
    for pragma in settings.DATABASES["default"]["OPTIONS"]["init_command"].split(";"):
        if pragma.strip():
            db.execute(pragma)
    claim_sql = (
        "UPDATE agents_connection SET claimed_by = ?, claim_expires_at = ? WHERE id IN ("
        "SELECT id FROM agents_connection WHERE agent_id = ? AND next_run_at <= ? "
        "AND (claim_expires_at IS NULL OR claim_expires_at <= ?) ORDER BY next_run_at, id LIMIT ?) "
        "RETURNING id"
    )

    def claim() -> int:
        now = timezone.now()
        at, lease = adapt(now), adapt(now + dt.timedelta(minutes=30))
        db.execute("BEGIN IMMEDIATE")
        taken = db.execute(claim_sql, ("raw", lease, AGENT, at, at, batch)).fetchall()
        db.execute("COMMIT")
        return len(taken)

    connection.close()  # the releases between claims go through Django: no lock held meanwhile
    result = _per_connection(_claims(due_ids, claim))
    at = adapt(timezone.now())
    result["plan"] = " / ".join(
        row[-1] for row in db.execute("EXPLAIN QUERY PLAN " + claim_sql, ("x", at, AGENT, at, at, batch))
    )
    db.close()
    return result


def _plans(due_ids: list[int]) -> list[dict]:
    """Every statement of a round on the connections, with SQLite's plan for it."""
    from django.db import connection
    from django.utils import timezone

    from coffre.agents import tasks

    make_due(due_ids, timezone.now())
    captured = _statements(tasks.sync_due_connections.call)
    release_claimed(timezone.now())
    clear_queue()
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

    ids = connection_ids()
    step = max(1, round(1 / due_fraction))
    due_ids = ids[::step]
    spread(timezone.now())
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
    result["plans_use_due_index"] = bool(due_reads) and all(
        "agents_due" in item["plan"] for item in due_reads
    )
    result["plans_scan"] = [item for item in plans if "SCAN agents_connection" in item["plan"]]
    return result
