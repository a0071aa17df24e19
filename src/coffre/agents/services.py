"""Changes to agents' connections by people and operators, each atomic with its audit record.

Every service of a person first checks, through ``selectors``, that the person may do it on that
connection's space (404 without standing or for another person's "My documents", 403 without the
role) and locks the connection's row. The syncs it asks for are enqueued after commit
(``tasks.sync_connection``); the connection is also made due at once, so that the periodic
scheduler runs it should that task be lost or the agent have no room.

Credentials are validated against the agent's description and sealed before they reach a model;
an audit record or a support report never holds one.
"""

import datetime as dt
import math

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from coffre.accounts.permissions import Action
from coffre.agents import catalog, credentials, selectors
from coffre.agents.models import (
    ERRORS,
    WAITS_FOR_PERSON,
    AgentMaintenance,
    AgentSuggestion,
    Connection,
    Status,
    SupportReport,
    SyncRun,
    Trigger,
)
from coffre.audit.services import Actor, record
from coffre.core import ratelimit
from coffre.mailbox.models import Ebox

MAX_LABEL = 100
SUGGESTIONS_PER_DAY = 20
RECENT_RUNS_REPORTED = 5


class AgentServiceError(Exception):
    """A change refused; ``message`` is translated for the person, ``field`` names the form field
    it belongs to ("" for the whole form)."""

    def __init__(self, message: str, field: str = ""):
        super().__init__(message)
        self.message = message
        self.field = field


class SyncNowTooSoon(AgentServiceError):
    def __init__(self, retry_at: dt.datetime, now: dt.datetime):
        minutes = max(1, math.ceil((retry_at - now).total_seconds() / 60))
        super().__init__(
            _("This agent was synced at your request a short while ago: ask again in %(minutes)d minutes.")
            % {"minutes": minutes}
        )
        self.retry_at = retry_at


def describe(connection: Connection) -> dict:
    """What the audit trail says of a connection (never a credential)."""
    return {
        "connection": connection.pk,
        "agent": connection.agent_id,
        "space": connection.in_space,
        "label": connection.label,
    }


def _agent(agent_id: str):
    try:
        return catalog.agent(agent_id)
    except catalog.UnknownAgent:
        raise AgentServiceError(_("This agent does not exist (any more) on this server.")) from None


def _queue_sync(connection_id: int, trigger: str) -> None:
    def enqueue():
        from coffre.agents.tasks import sync_connection

        sync_connection.enqueue(connection_id, str(trigger))

    # Robust: a lost task is no loss, the connection is due and the scheduler takes it.
    transaction.on_commit(enqueue, robust=True)


def add_connection(
    person, box: Ebox, folder: str, agent_id: str, values: dict, *, actor: Actor, label: str = ""
) -> Connection:
    """Add an agent to a space (``box`` + ``folder``) with the account's credentials; its first
    sync is queued at once. Raises ``credentials.CredentialsInvalid`` (per field) or
    ``AgentServiceError``; Http404 / PermissionDenied without the right."""
    selectors.require_on_box(person, box, Action.MANAGE_AGENTS)
    agent = _agent(agent_id)
    if folder not in box.folders():
        raise AgentServiceError(_("This space does not exist."), "folder")
    clean = credentials.validated(agent, values)
    sealed = credentials.seal(clean)
    now = timezone.now()
    with transaction.atomic():
        connection = Connection.objects.create(
            box=box,
            folder=folder,
            agent_id=agent.id,
            label=label.strip()[:MAX_LABEL],
            credentials_sealed=sealed,
            shown_credentials=credentials.shown(agent, clean),
            status=Status.PENDING,
            status_changed_at=now,
            next_run_at=now,
            added_by=person,
            created_at=now,
        )
        record(actor, "agents.connection.added", details=describe(connection))
        _queue_sync(connection.pk, Trigger.FIRST)
    return connection


def replace_credentials(person, connection_id: int, values: dict, *, actor: Actor) -> Connection:
    """New credentials (the old ones are never shown): a connection waiting for them (LOGIN_FAILED,
    USER_ACTION_NEEDED) leaves that status, and a sync is queued at once to try them."""
    with transaction.atomic():
        connection = selectors.connection_for(person, connection_id, Action.MANAGE_AGENTS, lock=True)
        agent = _agent(connection.agent_id)
        clean = credentials.validated(agent, values)
        now = timezone.now()
        connection.credentials_sealed = credentials.seal(clean)
        connection.shown_credentials = credentials.shown(agent, clean)
        previous = connection.status
        if previous in WAITS_FOR_PERSON:
            connection.status, connection.user_action, connection.status_changed_at = Status.PENDING, "", now
        connection.next_run_at, connection.failures = now, 0
        connection.save()
        record(
            actor,
            "agents.connection.credentials_replaced",
            details={**describe(connection), "from": previous},
        )
        _queue_sync(connection.pk, Trigger.PERSON)
    return connection


def user_action_done(person, connection_id: int, *, actor: Actor) -> Connection:
    """The person did on the provider's site what it asked: the agent goes on (a sync is queued)."""
    with transaction.atomic():
        connection = selectors.connection_for(person, connection_id, Action.MANAGE_AGENTS, lock=True)
        if connection.status != Status.USER_ACTION_NEEDED:
            raise AgentServiceError(_("This agent is not waiting for an action of yours."))
        now = timezone.now()
        action = connection.user_action
        connection.status, connection.user_action, connection.status_changed_at = Status.PENDING, "", now
        connection.next_run_at, connection.failures = now, 0
        connection.save()
        record(
            actor,
            "agents.connection.user_action_done",
            details={**describe(connection), "userAction": action},
        )
        _queue_sync(connection.pk, Trigger.PERSON)
    return connection


def sync_now(person, connection_id: int, *, actor: Actor) -> Connection:
    """ "Sync now": at most once per COFFRE_AGENTS_SYNC_NOW_INTERVAL per connection, never for a
    connection that waits for the person or whose agent is in maintenance."""
    with transaction.atomic():
        connection = selectors.connection_for(person, connection_id, Action.SYNC_AGENTS, lock=True)
        now = timezone.now()
        if selectors.shown_status(connection) == Status.MAINTENANCE:
            raise AgentServiceError(
                _("This agent is being repaired: it starts again by itself once it is fixed.")
            )
        if connection.status == Status.LOGIN_FAILED:
            raise AgentServiceError(_("The provider refused the login: enter the current credentials first."))
        if connection.status == Status.USER_ACTION_NEEDED:
            raise AgentServiceError(
                _("The provider asks you to do something on its site first; then tell the agent it is done.")
            )
        if connection.claim_expires_at is not None and connection.claim_expires_at > now:
            raise AgentServiceError(_("This agent is synchronising right now."))
        interval = dt.timedelta(seconds=settings.COFFRE_AGENTS_SYNC_NOW_INTERVAL)
        if connection.last_sync_now_at is not None and connection.last_sync_now_at + interval > now:
            raise SyncNowTooSoon(connection.last_sync_now_at + interval, now)
        connection.last_sync_now_at = connection.next_run_at = now
        connection.save(update_fields=["last_sync_now_at", "next_run_at"])
        record(actor, "agents.connection.sync_now", details=describe(connection))
        _queue_sync(connection.pk, Trigger.SYNC_NOW)
    return connection


def remove_connection(person, connection_id: int, *, actor: Actor) -> None:
    """Remove the agent from its space: the documents it brought stay; its history goes (a
    support report stays, without its link)."""
    with transaction.atomic():
        connection = selectors.connection_for(person, connection_id, Action.MANAGE_AGENTS, lock=True)
        details = {**describe(connection), "documents": connection.documents}
        connection.delete()
        record(actor, "agents.connection.removed", details=details)


def set_maintenance(agent_id: str, on: bool, *, actor: Actor, reason: str = "") -> bool:
    """An operator puts an agent in maintenance (none of its connections runs, each shows
    MAINTENANCE) or back in service (its due connections run at the scheduler's next round).
    True when this changed something."""
    agent = _agent(agent_id)
    with transaction.atomic():
        if on:
            _maintenance, changed = AgentMaintenance.objects.get_or_create(
                agent_id=agent.id, defaults={"reason": reason[:300]}
            )
        else:
            changed = AgentMaintenance.objects.filter(agent_id=agent.id).delete()[0] > 0
        if changed:
            record(
                actor,
                "agents.maintenance.on" if on else "agents.maintenance.off",
                details={
                    "agent": agent.id,
                    "reason": reason[:300],
                    "connections": Connection.objects.filter(agent_id=agent.id).count(),
                },
            )
    return bool(changed)


def make_due_now(connection_id: int, *, actor: Actor) -> bool:
    """An operator wants a connection synced now (``coffre agents sync``): due at once, unless it
    waits for the person. False when there is no such connection or it waits."""
    with transaction.atomic():
        connection = Connection.objects.select_for_update(of=("self",)).filter(pk=connection_id).first()
        if connection is None or connection.next_run_at is None:
            return False
        connection.next_run_at = timezone.now()
        connection.save(update_fields=["next_run_at"])
        connection.box = Ebox.objects.select_related("enterprise").get(pk=connection.box_id)
        record(actor, "agents.connection.run_now", details=describe(connection))
    return True


def resolve_support_report(report_id: int, *, actor: Actor) -> bool:
    """An operator dealt with a support report; False when there is no such open report."""
    with transaction.atomic():
        resolved = SupportReport.objects.filter(pk=report_id, resolved_at__isnull=True).update(
            resolved_at=timezone.now()
        )
        if resolved:
            record(actor, "agents.support_report.resolved", details={"report": report_id})
    return bool(resolved)


def support_details(connection: Connection, run: SyncRun | None) -> dict:
    """The technical details of a connection's trouble for support: statuses, errors, runs; never a
    credential (the error texts were cleaned by the engine, and are cleaned here again)."""
    try:
        values = credentials.unseal(connection.credentials_sealed)
    except credentials.CredentialError:
        values = {}
    hidden = credentials.secret_values(None, values)  # every value of the credentials, shown ones too

    def clean(text: str) -> str:
        return credentials.scrubbed(text or "", hidden)

    def of_run(item: SyncRun) -> dict:
        return {
            "id": item.pk,
            "trigger": item.trigger,
            "startedAt": item.started_at.isoformat(),
            "endedAt": item.ended_at.isoformat() if item.ended_at else None,
            "found": item.found,
            "new": item.new,
            "status": item.status,
            "error": clean(item.error),
        }

    recent = SyncRun.objects.filter(connection=connection).order_by("-started_at", "-id")[
        :RECENT_RUNS_REPORTED
    ]
    return {
        "agent": connection.agent_id,
        "connection": connection.pk,
        "status": connection.status,
        "userAction": connection.user_action or None,
        "statusChangedAt": connection.status_changed_at.isoformat(),
        "failures": connection.failures,
        "lastSuccessAt": connection.last_success_at.isoformat() if connection.last_success_at else None,
        "errorDetail": clean(connection.error_detail),
        "run": of_run(run) if run else None,
        "recentRuns": [of_run(item) for item in recent],
    }


def report_to_support(person, connection_id: int, *, actor: Actor) -> SupportReport:
    """Record a report of the connection's error with its last run's technical details (once per
    run: reporting again returns the same report)."""
    with transaction.atomic():
        connection = selectors.connection_for(person, connection_id, Action.SYNC_AGENTS, lock=True)
        if connection.status not in ERRORS:
            raise AgentServiceError(_("This agent has no error to report."))
        run = selectors.last_run(connection)
        existing = SupportReport.objects.filter(connection=connection, run=run).first()
        if existing is not None:
            return existing
        report = SupportReport.objects.create(
            connection=connection,
            run=run,
            agent_id=connection.agent_id,
            status=connection.status,
            details=support_details(connection, run),
            reported_by=person,
        )
        record(actor, "agents.support_report", details={**describe(connection), "report": report.pk})
    return report


def suggest_agent(
    person, provider_name: str, *, actor: Actor, website: str = "", comment: str = ""
) -> AgentSuggestion:
    """Record a suggestion of a new agent (the catalog's search found none)."""
    provider_name, website, comment = provider_name.strip(), website.strip(), comment.strip()
    if not provider_name:
        raise AgentServiceError(_("Give the provider's name."), "provider_name")
    if len(provider_name) > 200:
        raise AgentServiceError(_("At most %(count)d characters.") % {"count": 200}, "provider_name")
    if website:
        try:
            URLValidator(schemes=["http", "https"])(website)
        except ValidationError:
            raise AgentServiceError(_("Enter a valid web address (http or https)."), "website") from None
        if len(website) > 500:
            raise AgentServiceError(_("At most %(count)d characters.") % {"count": 500}, "website")
    if len(comment) > 2000:
        raise AgentServiceError(_("At most %(count)d characters.") % {"count": 2000}, "comment")
    if not ratelimit.hit(f"agents:suggest:{person.pk}", SUGGESTIONS_PER_DAY, dt.timedelta(days=1)).allowed:
        raise AgentServiceError(_("You made many suggestions today: thank you! Please come back tomorrow."))
    with transaction.atomic():
        suggestion = AgentSuggestion.objects.create(
            provider_name=provider_name, website=website, comment=comment, suggested_by=person
        )
        record(actor, "agents.suggested", details={"suggestion": suggestion.pk, "provider": provider_name})
    return suggestion
