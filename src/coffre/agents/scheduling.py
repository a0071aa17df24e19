"""When a connection syncs, and which worker syncs it.

- **Claims.** A worker takes a connection with a conditional UPDATE (``claimed_by`` a random token,
  ``claim_expires_at`` a lease): two workers never sync one connection at once, and a killed
  worker's claim lapses after ``COFFRE_AGENTS_LEASE`` (the engine renews it at each document).
  Claims of one agent are taken one worker at a time (a transaction-scoped advisory lock on
  PostgreSQL; SQLite's IMMEDIATE transactions already queue writers), so that the connections of
  an agent being synced never exceed its ``max_concurrent``: the claimed ones count against it.
- **Due.** A connection is due when ``next_run_at`` has come, it is not claimed, and its agent is
  not in maintenance. ``next_run_at`` null means it waits for the person (LOGIN_FAILED,
  USER_ACTION_NEEDED): never claimed.
- **Regular runs** (``next_regular_run``): every ``frequency``, at a phase of its own within the
  period drawn from a hash of the connection's id, so that thousands of connections added the
  same minute spread over the whole period (and each keeps its phase run after run).
- **Retries** (``retry_delay``): COFFRE_AGENTS_RETRY_MIN doubling with each failure in a row, up to
  the agent's frequency or COFFRE_AGENTS_RETRY_MAX, less a random 0-25 %.
"""

import datetime as dt
import hashlib
import math
import random
import secrets

from django.conf import settings
from django.db import connection as db_connection
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from coffre.agents import catalog
from coffre.agents.models import AgentMaintenance, Connection

EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
_LOCK_NAMESPACE = b"coffre.agents.claims:"


def lease() -> dt.timedelta:
    return dt.timedelta(seconds=settings.COFFRE_AGENTS_LEASE)


def phase(connection_id: int) -> float:
    """Where in its period a connection runs: a fraction in [0, 1), the same every time."""
    digest = hashlib.sha256(f"coffre.agents.phase:{connection_id}".encode("ascii")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def next_regular_run(connection_id: int, frequency: dt.timedelta, now: dt.datetime) -> dt.datetime:
    """The connection's next slot (``EPOCH + phase * frequency + k * frequency``) at least half a
    period after ``now``: a connection synced at its slot runs again exactly one period later; one
    synced at another time (its first sync, a "sync now") joins its slot within 0.5 to 1.5 periods."""
    period = frequency.total_seconds()
    offset = phase(connection_id) * period
    earliest = (now - EPOCH).total_seconds() + period / 2
    slots = math.ceil((earliest - offset) / period)
    return EPOCH + dt.timedelta(seconds=offset + slots * period)


def retry_delay(failures: int, frequency: dt.timedelta) -> dt.timedelta:
    """The wait after the ``failures``-th failed sync in a row (VENDOR_DOWN, UNKNOWN_ERROR)."""
    low = settings.COFFRE_AGENTS_RETRY_MIN
    high = max(low, min(settings.COFFRE_AGENTS_RETRY_MAX, frequency.total_seconds()))
    nominal = min(high, low * 2 ** min(max(failures, 1) - 1, 32))
    return dt.timedelta(seconds=nominal * (1 - 0.25 * random.random()))


def frequency_of(agent_id: str) -> dt.timedelta:
    try:
        return catalog.agent(agent_id).frequency
    except catalog.UnknownAgent:
        return dt.timedelta(days=1)


def max_concurrent_of(agent_id: str) -> int:
    try:
        return catalog.agent(agent_id).max_concurrent
    except catalog.UnknownAgent:
        return 1  # its connections only run to say the agent is gone


def _free(query: QuerySet, now: dt.datetime) -> QuerySet:
    return query.filter(Q(claim_expires_at__isnull=True) | Q(claim_expires_at__lte=now))


def due(now: dt.datetime) -> QuerySet:
    """The connections whose sync is due and that nobody holds (agents in maintenance left out)."""
    return _free(Connection.objects.filter(next_run_at__lte=now), now).exclude(
        agent_id__in=AgentMaintenance.objects.values("agent_id")
    )


def _lock_agent(agent_id: str) -> None:
    """Until the end of the transaction, be the only one claiming connections of this agent."""
    if db_connection.vendor == "postgresql":
        key = int.from_bytes(
            hashlib.sha256(_LOCK_NAMESPACE + agent_id.encode()).digest()[:8], "big", signed=True
        )
        with db_connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])


def claimed_count(agent_id: str, now: dt.datetime) -> int:
    return Connection.objects.filter(agent_id=agent_id, claim_expires_at__gt=now).count()


def _claim(agent_id: str, wanted: int, now: dt.datetime, only: int | None = None) -> list[tuple[int, str]]:
    """Claim up to ``wanted`` due connections of one agent within its concurrency limit."""
    limit = max_concurrent_of(agent_id)
    with transaction.atomic():
        _lock_agent(agent_id)
        if AgentMaintenance.objects.filter(agent_id=agent_id).exists():
            return []
        room = min(wanted, limit - claimed_count(agent_id, now))
        if room <= 0:
            return []
        candidates = due(now).filter(agent_id=agent_id)
        if only is not None:
            candidates = candidates.filter(pk=only)
        ids = list(candidates.order_by("next_run_at", "pk").values_list("pk", flat=True)[:room])
        if not ids:
            return []
        token = secrets.token_hex(16)
        _free(Connection.objects.filter(pk__in=ids, next_run_at__lte=now), now).update(
            claimed_by=token, claim_expires_at=now + lease()
        )
        taken = Connection.objects.filter(pk__in=ids, claimed_by=token).order_by("next_run_at", "pk")
        return [(pk, token) for pk in taken.values_list("pk", flat=True)]


def claim_one(connection_id: int, now: dt.datetime | None = None) -> str | None:
    """Claim one connection when it is due and its agent has room; the claim's token, or None."""
    agent_id = Connection.objects.filter(pk=connection_id).values_list("agent_id", flat=True).first()
    if agent_id is None:
        return None
    taken = _claim(agent_id, 1, now or timezone.now(), only=connection_id)
    return taken[0][1] if taken else None


def agents_with_connections() -> list[str]:
    """The ids of the agents that have connections that may run (``next_run_at`` set), in order:
    one lookup of the due index per agent, skipping from one agent to the next, however many
    connections each has (a ``DISTINCT`` over the due connections read every connection)."""
    found: list[str] = []
    while True:
        after = found[-1] if found else ""
        agent_id = (
            Connection.objects.filter(agent_id__gt=after, next_run_at__isnull=False)
            .order_by("agent_id")
            .values_list("agent_id", flat=True)
            .first()
        )
        if agent_id is None:
            return found
        found.append(agent_id)


def claim_due(limit: int | None = None, now: dt.datetime | None = None) -> list[tuple[int, str]]:
    """The scheduler's claims: due connections, agent by agent, each within its limit. Its cost
    grows with the agents and the connections claimed, not with the connections that are not due."""
    now = now or timezone.now()
    limit = limit or settings.COFFRE_AGENTS_BATCH
    claims: list[tuple[int, str]] = []
    for agent_id in agents_with_connections():
        if len(claims) >= limit:
            break
        if due(now).filter(agent_id=agent_id).exists():  # no write transaction for an agent at rest
            claims.extend(_claim(agent_id, limit - len(claims), now))
    return claims


def claim_next(connection_id: int, now: dt.datetime | None = None) -> list[tuple[int, str]]:
    """After a sync of ``connection_id`` ended (its claim released): the slot it freed, for the next
    due connection of the same agent (within the agent's limit, as every claim); [] when none is
    due or there is no room. So a backlog of an agent drains at ``max_concurrent`` syncs at a time,
    not ``max_concurrent`` per round of the periodic scheduler."""
    agent_id = Connection.objects.filter(pk=connection_id).values_list("agent_id", flat=True).first()
    if agent_id is None:
        return []  # removed meanwhile: the next round takes its agent's due connections
    return _claim(agent_id, 1, now or timezone.now())


def holds(connection_id: int, token: str) -> bool:
    return Connection.objects.filter(pk=connection_id, claimed_by=token).exists()


def release(connection_id: int, token: str, **changes) -> bool:
    """Let the connection go (with ``changes``); False when the claim was no longer this one."""
    return bool(
        Connection.objects.filter(pk=connection_id, claimed_by=token).update(
            claimed_by="", claim_expires_at=None, **changes
        )
    )
