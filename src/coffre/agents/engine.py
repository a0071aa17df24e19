"""The sync engine: one synchronisation of one connection (docs/agents.md).

``sync(connection_id)`` claims the connection (``scheduling``: never two workers at once, within
the agent's concurrency limit; ``run_claimed`` when the scheduler claimed it already), then:

1. records the ``SyncRun`` (closing a run a dead worker left open as INTERRUPTED);
2. unseals the credentials and enters ``agent.open_session`` once;
3. for each document ``agent.list_documents(session, cursor)`` gives: a document the connection
   already has (same provider id) only moves the cursor; another is downloaded and filed in ONE
   transaction with its ``RemoteItem`` and the cursor (``coffre.agents.filing``);
4. ends the run and sets the connection's status: OK -> next regular run (``scheduling``);
   an ``AgentError`` -> its status, with its technical detail; anything else the agent raises ->
   UNKNOWN_ERROR with the exception's type, message and where it was raised. LOGIN_FAILED and
   USER_ACTION_NEEDED wait for the person (no next run); VENDOR_DOWN and UNKNOWN_ERROR are
   retried with backoff. A change to an error status tells the person who added the connection
   (``notices``), once.

A worker stopped by KeyboardInterrupt or SystemExit closes the run as INTERRUPTED and lets the
connection go (still due: the next run resumes after the last committed document); a worker that
dies without a word leaves its claim to lapse.

Never logs or keeps a credential: every secret value is taken out of the error texts.
"""

import datetime as dt
import logging
import traceback
import dataclasses
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from coffre.agents import catalog, credentials, filing, notices, scheduling
from coffre.agents.models import (
    ERRORS,
    WAITS_FOR_PERSON,
    Connection,
    RunStatus,
    Status,
    SyncRun,
    Trigger,
)
from coffre.agents.sdk import Agent, AgentError, FetchedDocument, RemoteDocument, RemoteFile, UserActionNeeded
from coffre.audit.services import record
from coffre.mailbox.models import Ebox

logger = logging.getLogger("coffre.agents")
ACTOR = filing.ACTOR
MAX_DETAIL = 2000
MAX_REMOTE_ID = 500


@dataclass(frozen=True)
class SyncResult:
    connection_id: int
    status: str  # a Status of the run's end, or "busy" (not claimed: held, not due, no room), "missing"
    found: int = 0
    new: int = 0
    duplicates: int = 0
    error: str = ""


@dataclass
class _Counts:
    found: int = 0
    new: int = 0
    duplicates: int = 0
    known: int = 0
    refused: int = 0  # documents none of whose files may be stored (filing.screen)


@dataclass(frozen=True)
class _Outcome:
    status: str
    user_action: str = ""
    detail: str = ""


@dataclass
class _Context:
    connection: Connection
    token: str
    run_id: int
    counts: _Counts = field(default_factory=_Counts)
    secrets: list[str] = field(default_factory=list)
    agent: Agent | None = None


def sync(connection_id: int, *, trigger: str = Trigger.SCHEDULE) -> SyncResult:
    """Claim the connection and sync it now (when due and its agent has room)."""
    token = scheduling.claim_one(connection_id)
    if token is None:
        exists = Connection.objects.filter(pk=connection_id).exists()
        return SyncResult(connection_id, "busy" if exists else "missing")
    return run_claimed(connection_id, token, trigger=trigger)


def run_claimed(connection_id: int, token: str, *, trigger: str = Trigger.SCHEDULE) -> SyncResult:
    """Sync a connection this worker claimed (``token``)."""
    connection = Connection.objects.filter(pk=connection_id, claimed_by=token).first()
    if connection is None:
        return SyncResult(connection_id, "busy")
    context = _Context(connection, token, _start_run(connection, trigger))
    try:
        _fetch(context)
    except filing.ClaimLost:
        _close_run(context, RunStatus.INTERRUPTED, "the connection was removed or taken over meanwhile")
        return SyncResult(connection_id, "busy", context.counts.found, context.counts.new)
    except Exception as exc:  # noqa: BLE001 - every failure becomes a status (the agent's or UNKNOWN_ERROR)
        return _finish(context, _failure(exc, context.secrets))
    except BaseException:
        _interrupted(context)
        raise
    return _finish(context, _Outcome(Status.OK))


def _start_run(connection: Connection, trigger: str) -> int:
    now = timezone.now()
    with transaction.atomic():
        SyncRun.objects.filter(connection=connection, ended_at__isnull=True).update(
            ended_at=now, status=RunStatus.INTERRUPTED, error="the worker stopped before the end of this run"
        )
        if trigger == Trigger.SCHEDULE and not SyncRun.objects.filter(connection=connection).exists():
            trigger = Trigger.FIRST
        return SyncRun.objects.create(connection=connection, trigger=trigger, started_at=now).pk


def _fetch(context: _Context) -> None:
    connection = context.connection
    context.agent = agent = catalog.agent(connection.agent_id)
    values = credentials.unseal(connection.credentials_sealed)
    context.secrets = credentials.secret_values(agent, values)
    with agent.open_session(values) as session:
        for remote in agent.list_documents(session, connection.cursor):
            context.counts.found += 1
            _checked_remote(remote)
            if connection.items.filter(remote_id=remote.remote_id).exists():
                context.counts.known += 1
                filing.advance_known(connection.pk, context.token, remote.cursor)
                continue
            fetched = agent.download(session, remote)
            _checked_fetched(fetched)
            screened = filing.screen(fetched)
            if not screened.files:
                context.counts.refused += 1
                filing.refuse_document(connection.pk, context.token, remote, screened.refused)
                continue
            fetched = dataclasses.replace(
                fetched, files=screened.files, details={**fetched.details, "refused": list(screened.refused)}
            ) if screened.refused else dataclasses.replace(fetched, files=screened.files)
            taken = filing.file_fetched(connection, context.token, agent, remote, fetched)
            if taken is None:
                context.counts.known += 1
            elif taken.new:
                context.counts.new += 1
            else:
                context.counts.duplicates += 1


def _checked_remote(remote) -> None:
    if not isinstance(remote, RemoteDocument):
        raise TypeError(f"list_documents gave a {type(remote).__name__}, not a RemoteDocument")
    if not isinstance(remote.remote_id, str) or not 0 < len(remote.remote_id) <= MAX_REMOTE_ID:
        raise ValueError(f"a listed document's remote_id must be a string of 1 to {MAX_REMOTE_ID} characters")
    if not isinstance(remote.cursor, str):
        raise TypeError("a listed document's cursor must be a string")


def _checked_fetched(fetched) -> None:
    if not isinstance(fetched, FetchedDocument):
        raise TypeError(f"download gave a {type(fetched).__name__}, not a FetchedDocument")
    if not fetched.files or not all(isinstance(item, RemoteFile) for item in fetched.files):
        raise ValueError("a downloaded document must have at least one RemoteFile")


def _where(exc: BaseException) -> str:
    """Where the exception was raised: the last frames (file name, line, function), no values."""
    frames = traceback.extract_tb(exc.__traceback__)[-3:]
    return " < ".join(
        f"{frame.filename.rsplit('/', 1)[-1]}:{frame.lineno} in {frame.name}" for frame in reversed(frames)
    )


def _failure(exc: Exception, secrets: list[str]) -> _Outcome:
    """The status and technical detail of a failed sync (credential-free)."""
    if isinstance(exc, AgentError) and exc.status in ERRORS:
        action = exc.action.value if isinstance(exc, UserActionNeeded) else ""
        detail = f"{type(exc).__name__}: {exc.message}" if exc.message else type(exc).__name__
        status = exc.status
    elif isinstance(exc, credentials.CredentialError):
        status, action, detail = Status.LOGIN_FAILED, "", str(exc)
    elif isinstance(exc, catalog.UnknownAgent):
        status, action, detail = Status.UNKNOWN_ERROR, "", f"the agent {exc.args[0]!r} is not installed here"
    else:
        message = " ".join(str(exc).split())
        status, action = Status.UNKNOWN_ERROR, ""
        detail = f"{type(exc).__module__}.{type(exc).__qualname__}: {message} (at {_where(exc)})"
    return _Outcome(status, action, credentials.scrubbed(detail, secrets)[:MAX_DETAIL])


def _close_run(context: _Context, status: str, error: str = "") -> None:
    counts = context.counts
    SyncRun.objects.filter(pk=context.run_id).update(
        ended_at=timezone.now(), status=status, error=error, found=counts.found, new=counts.new
    )


def _interrupted(context: _Context) -> None:
    """KeyboardInterrupt, SystemExit: close the run, let the connection go (still due)."""
    _close_run(context, RunStatus.INTERRUPTED, "the worker was stopped")
    scheduling.release(context.connection.pk, context.token)
    logger.warning("agents: connection %s: sync interrupted by the worker's stop", context.connection.pk)


def _finish(context: _Context, outcome: _Outcome) -> SyncResult:
    connection, counts = context.connection, context.counts
    now = timezone.now()
    frequency = context.agent.frequency if context.agent else scheduling.frequency_of(connection.agent_id)
    with transaction.atomic():
        _close_run(context, outcome.status, outcome.detail)
        # Only the connection's row is locked (its person is on the nullable side of a join).
        locked = (
            Connection.objects.select_for_update(of=("self",))
            .select_related("added_by")
            .filter(pk=connection.pk, claimed_by=context.token)
            .first()
        )
        if locked is None:
            return SyncResult(connection.pk, "busy", counts.found, counts.new, counts.duplicates)
        previous = (locked.status, locked.user_action)
        changes: dict = {"status": outcome.status, "user_action": outcome.user_action}
        if outcome.status == Status.OK:
            changes.update(
                error_detail="",
                failures=0,
                last_success_at=now,
                next_run_at=scheduling.next_regular_run(locked.pk, frequency, now),
            )
        elif outcome.status in WAITS_FOR_PERSON:
            changes.update(error_detail=outcome.detail, failures=F("failures") + 1, next_run_at=None)
        else:
            failures = locked.failures + 1
            changes.update(
                error_detail=outcome.detail,
                failures=failures,
                next_run_at=now + scheduling.retry_delay(failures, frequency),
            )
        if outcome.status in WAITS_FOR_PERSON and bytes(locked.credentials_sealed) != bytes(
            connection.credentials_sealed
        ):
            # The person replaced the credentials during this run: try the new ones, do not wait.
            changes.update(status=locked.status, user_action=locked.user_action, next_run_at=now)
        changed = (changes["status"], changes["user_action"]) != previous
        if changed:
            changes["status_changed_at"] = now
        scheduling.release(locked.pk, context.token, **changes)
        if changed:
            _status_changed(locked, previous, changes["status"], changes["user_action"], now)
    _log(connection, outcome, counts)
    return SyncResult(
        connection.pk, outcome.status, counts.found, counts.new, counts.duplicates, outcome.detail
    )


def _status_changed(
    connection: Connection, previous: tuple, status: str, user_action: str, now: dt.datetime
) -> None:
    connection.status, connection.user_action = status, user_action
    connection.box = Ebox.objects.select_related("enterprise", "owner").get(pk=connection.box_id)
    record(
        ACTOR,
        "agents.connection.status",
        details={
            "connection": connection.pk,
            "agent": connection.agent_id,
            "space": connection.in_space,
            "from": previous[0],
            "to": status,
            "userAction": user_action or None,
        },
    )
    notices.status_changed(connection, now)


def _log(connection: Connection, outcome: _Outcome, counts: _Counts) -> None:
    if outcome.status == Status.OK:
        logger.info(
            "agents: connection %s (%s): %d listed, %d new, %d already in the space, %d known, %d refused",
            connection.pk,
            connection.agent_id,
            counts.found,
            counts.new,
            counts.duplicates,
            counts.known,
            counts.refused,
        )
    else:
        logger.warning(
            "agents: connection %s (%s): %s after %d listed, %d new: %s",
            connection.pk,
            connection.agent_id,
            outcome.status,
            counts.found,
            counts.new,
            outcome.detail,
        )
