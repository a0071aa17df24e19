"""Agents at work: the connections people add (an agent watching one account for a space), the
runs of their synchronisations, the documents they brought, support reports, suggestions of new
agents, and the agents an operator put in maintenance (docs/agents.md).

- ``Connection``: one agent of the catalog (``agent_id``) for one space (``box`` + ``folder``),
  with the account's credentials sealed (``coffre.agents.credentials``; never in clear here), its
  status, where the next sync resumes (``cursor``), when it runs next (``next_run_at``; null: it
  waits for the person, never retried), and the claim of the worker syncing it.
- ``SyncRun``: one synchronisation (start, end, documents found and new, outcome).
- ``RemoteItem``: a document of the provider taken in, by (connection, provider's id): never
  taken twice.
- ``SupportReport``, ``AgentSuggestion``, ``AgentMaintenance``: for the operators.

Models hold data and invariants only: every change goes through ``coffre.agents.services`` (the
people's actions) or ``coffre.agents.engine`` (the synchronisations).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from coffre.agents.sdk import UserAction
from coffre.mailbox.models import Ebox, Folder, Message


class Status(models.TextChoices):
    """Where a connection stands (seed 004); ``coffre.agents.statuses`` says what each means to
    the person and what they can do. The error kinds are the sdk's errors' ``status``."""

    PENDING = "PENDING", _("Synchronisation on its way")
    OK = "OK", _("OK")
    LOGIN_FAILED = "LOGIN_FAILED", _("Login failed")
    USER_ACTION_NEEDED = "USER_ACTION_NEEDED", _("Action needed on the provider's site")
    VENDOR_DOWN = "VENDOR_DOWN", _("Provider's site unavailable")
    MAINTENANCE = "MAINTENANCE", _("Agent in maintenance")
    UNKNOWN_ERROR = "UNKNOWN_ERROR", _("Unexpected error")


# Never retried automatically (providers lock accounts): the person acts first.
WAITS_FOR_PERSON = frozenset({Status.LOGIN_FAILED, Status.USER_ACTION_NEEDED})
# Retried with exponential backoff.
RETRIED = frozenset({Status.VENDOR_DOWN, Status.UNKNOWN_ERROR})
# The statuses the person who added the connection is told about when it changes to them.
ERRORS = WAITS_FOR_PERSON | RETRIED


class Connection(models.Model):
    box = models.ForeignKey(Ebox, on_delete=models.PROTECT, related_name="agent_connections")
    folder = models.CharField(max_length=10, choices=Folder.choices, default=Folder.DOCUMENTS)
    agent_id = models.CharField(max_length=63)
    label = models.CharField(max_length=100, blank=True)  # the person's name for it ("Home, gas")
    # The whole credentials dict as JSON, sealed (coffre.agents.credentials); only ever replaced.
    credentials_sealed = models.BinaryField()
    # The non-secret credential values (a login name, a host), shown back to the person.
    shown_credentials = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    user_action = models.CharField(
        max_length=20, choices=[(a.value, a.value) for a in UserAction], blank=True
    )
    status_changed_at = models.DateTimeField(default=timezone.now)
    # The technical detail of the last error, for the operator and the support report (never a
    # credential: the engine takes every secret value out of it).
    error_detail = models.TextField(blank=True)
    cursor = models.TextField(blank=True)  # where the next sync resumes (the agent's opaque string)
    next_run_at = models.DateTimeField(null=True, blank=True)  # null: waits for the person
    failures = models.PositiveIntegerField(default=0)  # in a row, for the backoff
    # A sync in progress holds the connection until then (two workers never sync it at once; a
    # killed worker's claim lapses).
    claimed_by = models.CharField(max_length=32, blank=True)
    claim_expires_at = models.DateTimeField(null=True, blank=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_sync_now_at = models.DateTimeField(null=True, blank=True)  # "sync now" is limited
    documents = models.PositiveIntegerField(default=0)  # stored by this connection, all runs

    class Meta:
        indexes = [
            # The scheduler: an agent's due connections in order (the ones waiting for a person have
            # none), and the agents that have connections, one index lookup each. By agent first:
            # on (next_run_at) alone the planners read every connection of the agent and sorted
            # them, so each claim cost O(connections), due or not (docs/benchmarks.md, agents).
            models.Index(
                fields=["agent_id", "next_run_at", "id"], condition=Q(next_run_at__isnull=False), name="agents_due"
            ),
            # Connections of an agent being synced (its concurrency limit), and all of an agent's
            # (maintenance).
            models.Index(fields=["agent_id", "claim_expires_at"], name="agents_of_agent"),
            # The connections of a space, oldest first.
            models.Index(fields=["box", "folder", "created_at"], name="agents_of_space"),
        ]

    def __str__(self):
        return f"{self.agent_id} for {self.box} {self.folder}"

    @property
    def in_space(self) -> str:
        return (
            f"person {self.box.owner_id} {self.folder}"
            if self.box.is_personal
            else (f"{self.box.enterprise.cbe} {self.folder}")
        )


class RunStatus(models.TextChoices):
    RUNNING = "RUNNING", _("Running")
    INTERRUPTED = "INTERRUPTED", _("Interrupted")  # the worker stopped or died; resumed later
    OK = Status.OK.value, Status.OK.label
    LOGIN_FAILED = Status.LOGIN_FAILED.value, Status.LOGIN_FAILED.label
    USER_ACTION_NEEDED = Status.USER_ACTION_NEEDED.value, Status.USER_ACTION_NEEDED.label
    VENDOR_DOWN = Status.VENDOR_DOWN.value, Status.VENDOR_DOWN.label
    UNKNOWN_ERROR = Status.UNKNOWN_ERROR.value, Status.UNKNOWN_ERROR.label


class Trigger(models.TextChoices):
    FIRST = "first", _("First synchronisation")
    SCHEDULE = "schedule", _("Scheduled")
    SYNC_NOW = "sync-now", _("Sync now")
    PERSON = "person", _("After the person's action")


class SyncRun(models.Model):
    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="runs")
    trigger = models.CharField(max_length=10, choices=Trigger.choices, default=Trigger.SCHEDULE)
    started_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)
    found = models.PositiveIntegerField(default=0)  # documents the provider listed
    new = models.PositiveIntegerField(default=0)  # stored as new messages
    status = models.CharField(max_length=20, choices=RunStatus.choices, default=RunStatus.RUNNING)
    error = models.TextField(blank=True)  # technical, credential-free

    class Meta:
        indexes = [
            models.Index(fields=["connection", "-started_at", "-id"], name="agents_runs_of_connection")
        ]


class RemoteItem(models.Model):
    """A document of the provider, taken in by a connection: the message that holds it (new, or
    one the space already had with the same content)."""

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="items")
    remote_id = models.CharField(max_length=500)
    sha256 = models.CharField(max_length=64)  # of its main content
    message = models.ForeignKey(Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    duplicate = models.BooleanField(default=False)  # the space already held its content
    # What the agent said of it that the message does not keep (issue date, message type, the
    # sender's id, the agent's details), JSON.
    facts = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "remote_id"], name="agents_item_once_per_connection"
            )
        ]


class SupportReport(models.Model):
    """A person reported a connection's error to support: what the last run said, credential-free."""

    connection = models.ForeignKey(
        Connection, null=True, blank=True, on_delete=models.SET_NULL, related_name="support_reports"
    )
    run = models.ForeignKey(SyncRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    agent_id = models.CharField(max_length=63)
    status = models.CharField(max_length=20, choices=Status.choices)  # the connection's, when reported
    details = models.JSONField(default=dict)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["-created_at"], condition=Q(resolved_at__isnull=True), name="agents_open_reports"
            ),
            models.Index(fields=["agent_id", "-created_at"], name="agents_reports_of_agent"),
        ]


class AgentSuggestion(models.Model):
    """A provider a person would like an agent for (the catalog's "suggest an agent")."""

    provider_name = models.CharField(max_length=200)
    website = models.URLField(max_length=500, blank=True)
    comment = models.TextField(blank=True)
    suggested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["-created_at"], name="agents_suggestions")]


class AgentMaintenance(models.Model):
    """An agent an operator is repairing: none of its connections runs meanwhile, and each shows
    MAINTENANCE."""

    agent_id = models.CharField(max_length=63, unique=True)
    since = models.DateTimeField(default=timezone.now)
    reason = models.CharField(max_length=300, blank=True)
