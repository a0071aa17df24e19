"""When connections run and who runs them (coffre.agents.scheduling): the deterministic spread of
regular runs, claims that two workers never share, and each agent's concurrency limit."""

import datetime as dt
import threading
from collections import Counter

import pytest

from coffre.agents import engine, scheduling
from coffre.agents.models import Connection, Status
from coffre.agents.tests.conftest import add

DAY = dt.timedelta(days=1)


# --- the spread of regular runs -------------------------------------------------------------------


def test_a_connections_phase_is_the_same_every_time_and_phases_spread_over_the_period():
    assert [scheduling.phase(n) for n in range(50)] == [scheduling.phase(n) for n in range(50)]
    phases = [scheduling.phase(n) for n in range(1, 10_001)]
    assert all(0 <= value < 1 for value in phases)
    buckets = Counter(int(value * 24) for value in phases)  # the hour of a daily agent's run
    assert set(buckets) == set(range(24))
    assert max(buckets.values()) < 1.3 * 10_000 / 24 and min(buckets.values()) > 0.7 * 10_000 / 24


def test_connections_added_the_same_minute_run_at_different_times_of_the_period():
    now = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
    runs = {scheduling.next_regular_run(n, DAY, now) for n in range(1, 1001)}
    assert len(runs) == 1000
    assert min(runs) >= now + DAY / 2 and max(runs) <= now + DAY * 3 / 2


def test_a_connection_synced_at_its_slot_runs_again_one_period_later():
    now = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
    for frequency in (dt.timedelta(hours=6), DAY, dt.timedelta(days=3), dt.timedelta(days=30)):
        first = scheduling.next_regular_run(7, frequency, now)
        assert now + frequency / 2 <= first <= now + frequency * 3 / 2
        # synced at its slot, or a few minutes late: the next slot exactly one period on
        for late in (dt.timedelta(0), dt.timedelta(minutes=7)):
            assert scheduling.next_regular_run(7, frequency, first + late) == first + frequency


# --- claims ---------------------------------------------------------------------------------------


def test_only_due_free_connections_are_claimed(portal, shelf, clock):
    first, second = add(portal), add(portal)
    Connection.objects.filter(pk=second.pk).update(next_run_at=clock.now() + dt.timedelta(minutes=5))
    claims = scheduling.claim_due()
    assert [pk for pk, _token in claims] == [first.pk]
    assert scheduling.claim_due() == []  # claimed already
    clock.shift(dt.timedelta(minutes=5))
    assert [pk for pk, _token in scheduling.claim_due()] == [second.pk]


def test_an_agent_never_runs_more_connections_at_once_than_its_limit(portal, shelf, clock):
    connections = [add(portal, label=str(n)) for n in range(5)]  # ShelfAgent.max_concurrent == 2
    first = scheduling.claim_due()
    assert len(first) == 2 and scheduling.claim_due() == []
    assert scheduling.claim_one(connections[4].pk) is None  # "sync now" waits for room too
    pk, token = first[0]
    engine.run_claimed(pk, token)  # one finishes: one more may start
    assert len(scheduling.claim_due()) == 1
    clock.shift(dt.timedelta(hours=1))  # the claims of dead workers lapse: room again
    assert len(scheduling.claim_due()) == 2


def test_claims_of_other_agents_do_not_count_against_an_agent(portal, shelf, monkeypatch):
    from coffre.agents import catalog
    from coffre.agents.tests.fakes import Shelf, ShelfAgent

    other = ShelfAgent(Shelf())
    other.id, other.max_concurrent = "test-other", 1
    monkeypatch.setitem(catalog._BY_ID, other.id, other)
    for n in range(3):
        add(portal, label=str(n))
        add(portal, agent_id="test-other", label=str(n))
    claimed = Counter(Connection.objects.get(pk=pk).agent_id for pk, _ in scheduling.claim_due())
    assert claimed == {"test-shelf": 2, "test-other": 1}


def test_the_batch_limits_one_round_of_the_scheduler(portal, shelf):
    for n in range(2):
        add(portal, label=str(n))
    assert len(scheduling.claim_due(limit=1)) == 1


def _plans(statements: list[str]) -> list[tuple[str, str]]:
    """Each statement on the connections with the database's plan for it (PostgreSQL: sequential
    scans and sorts discouraged, as on a table large enough for the planner to prefer an index)."""
    from django.db import connection as db
    from django.db import transaction

    plans = []
    for sql in statements:
        if '"agents_connection"' not in sql or not sql.startswith(("SELECT", "UPDATE")):
            continue
        with transaction.atomic(), db.cursor() as cursor:
            if db.vendor == "postgresql":
                cursor.execute("SET LOCAL enable_seqscan = off")
                cursor.execute("SET LOCAL enable_sort = off")
                cursor.execute("EXPLAIN " + sql)
                plans.append((sql, "\n".join(row[0] for row in cursor.fetchall())))
            else:
                cursor.execute("EXPLAIN QUERY PLAN " + sql)
                plans.append((sql, "\n".join(str(row[-1]) for row in cursor.fetchall())))
    return plans


def test_a_round_reads_the_due_index_not_every_connection(portal, shelf, clock):
    """The claims walk the due index by agent: their cost does not grow with the connections that
    are not due. Before, the round read every connection of every agent (SCAN) and each claim
    sorted all the agent's connections (docs/benchmarks.md, agents)."""
    from django.db import connection as db
    from django.test.utils import CaptureQueriesContext

    connections = [add(portal, label=str(n)) for n in range(40)]
    later = clock.now() + dt.timedelta(days=1)
    Connection.objects.filter(pk__in=[c.pk for c in connections[3:]]).update(next_run_at=later)
    with db.cursor() as cursor:
        cursor.execute("ANALYZE")
    with CaptureQueriesContext(db) as queries:
        claims = scheduling.claim_due()
    assert [pk for pk, _token in claims] == [c.pk for c in connections[:2]]  # max_concurrent == 2
    plans = _plans([query["sql"] for query in queries.captured_queries])
    assert any('"next_run_at" <=' in sql for sql, _plan in plans)
    for sql, plan in plans:
        assert "SCAN agents_connection" not in plan and "Seq Scan" not in plan, (sql, plan)
        by_id = '"id" IN (' in sql  # the claimed ones, by their ids: a handful
        if not by_id and ('"next_run_at" <=' in sql or '"agent_id" >' in sql):
            # SQLite takes the due index; PostgreSQL's planner may prefer another index of the
            # agent on a table this small: an index, never a scan of the table nor a sort.
            assert ("agents_due" in plan) if db.vendor == "sqlite" else ("Index" in plan), (sql, plan)
            assert "TEMP B-TREE" not in plan and "Sort" not in plan, (sql, plan)


# --- two workers at once (real concurrent transactions) -------------------------------------------------


def _in_threads(*works) -> list:
    """Run each callable in a thread of its own, started together; their results."""
    from django.db import connection as db

    start = threading.Barrier(len(works))
    results, errors = [None] * len(works), []

    def worker(index):
        try:
            start.wait(30)
            results[index] = works[index]()
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            db.close()

    threads = [threading.Thread(target=worker, args=(index,)) for index in range(len(works))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []
    return results


@pytest.mark.django_db(transaction=True)
def test_workers_claiming_at_once_never_share_a_connection_nor_exceed_the_limit(portal, shelf):
    for n in range(6):
        add(portal, label=str(n))
    rounds = _in_threads(*[scheduling.claim_due] * 4)
    claimed = [pk for claims in rounds for pk, _token in claims]
    assert len(claimed) == 2 and len(set(claimed)) == 2  # ShelfAgent.max_concurrent == 2


@pytest.mark.django_db(transaction=True)
def test_two_workers_syncing_one_connection_at_once_run_it_once(portal, shelf):
    shelf.add(3)
    shelf.gate, shelf.listed_in = threading.Event(), threading.Event()
    connection = add(portal)

    def first():
        return engine.sync(connection.pk).status  # holds the connection, listing until the gate opens

    def second():
        assert shelf.listed_in.wait(60)
        try:
            return engine.sync(connection.pk).status  # finds it held
        finally:
            shelf.gate.set()

    assert _in_threads(first, second) == [Status.OK, "busy"]
    assert shelf.logins == 1 and shelf.downloads == ["bill-1", "bill-2", "bill-3"]
