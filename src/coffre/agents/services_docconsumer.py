"""Setting up an e-Box DocConsumer inside Coffre (seed 001, docs/agents-docconsumer.md), each step
atomic with its audit record:

1. ``start_setup``: Coffre makes an RSA key and a self-signed certificate
   (``providers.docconsumer_setup``) and keeps them in a connection of the DocConsumer agent that
   is *being set up*: status PENDING with no next run (never claimed by the scheduler), the private
   key sealed as its credentials (never shown, never downloadable), the certificate (public) beside
   the shown values so that the person downloads it (``selectors.docconsumer_certificate``);
2. the person registers the certificate at the e-Box side (ChaMan, or ``coffre client create`` at
   another Coffre), which answers with a client id;
3. ``connect``: the client id, the enterprise number and the registry's addresses join the sealed
   key; the connection is due at once and its first sync is queued. Run again later, it changes
   those settings and keeps the key (the person never had it, so the generic "replace the
   credentials" cannot be used for this agent).
"""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from coffre.accounts.permissions import Action
from coffre.agents import catalog, credentials, selectors
from coffre.agents.models import WAITS_FOR_PERSON, Connection, Status, Trigger
from coffre.agents.providers.docconsumer import DocConsumerAgent
from coffre.agents.providers.docconsumer_setup import MAX_COMMON_NAME, new_key_and_certificate
from coffre.agents.providers.pem import one_line
from coffre.agents.services import MAX_LABEL, AgentServiceError, _queue_sync, describe
from coffre.audit.services import Actor, record
from coffre.mailbox.models import Ebox

AGENT_ID = DocConsumerAgent.id
CERTIFICATE = "certificate"  # the key of the certificate among a connection's shown values
SETTINGS = ("registry_url", "token_url", "audience", "client_id", "enterprise")


def being_set_up(connection: Connection) -> bool:
    """A DocConsumer whose set-up is not finished (no client id yet): it never runs."""
    return (
        connection.agent_id == AGENT_ID
        and connection.status == Status.PENDING
        and connection.next_run_at is None
        and not (connection.shown_credentials or {}).get("client_id")
    )


def start_setup(person, box: Ebox, folder: str, *, actor: Actor, label: str = "") -> Connection:
    """Step 1: a new key and certificate, kept in a connection being set up."""
    selectors.require_on_box(person, box, Action.MANAGE_AGENTS)
    if folder not in box.folders():
        raise AgentServiceError(_("This space does not exist."), "folder")
    owner = box.enterprise.cbe if not box.is_personal else f"{box.pk}"
    private_key, certificate = new_key_and_certificate(f"Coffre DocConsumer {owner}"[:MAX_COMMON_NAME])
    now = timezone.now()
    with transaction.atomic():
        connection = Connection.objects.create(
            box=box,
            folder=folder,
            agent_id=AGENT_ID,
            label=label.strip()[:MAX_LABEL],
            credentials_sealed=credentials.seal({"private_key": one_line(private_key)}),
            shown_credentials={CERTIFICATE: certificate},
            status=Status.PENDING,
            status_changed_at=now,
            next_run_at=None,  # never claimed until connected
            added_by=person,
            created_at=now,
        )
        record(actor, "agents.docconsumer.setup_started", details=describe(connection))
    return connection


def connect(person, connection_id: int, values: dict, *, actor: Actor) -> Connection:
    """Step 3 (or a later change of the settings): the e-Box side's answers join the sealed key;
    the connection syncs at once. Raises ``credentials.CredentialsInvalid`` (per field) or
    ``AgentServiceError``; Http404 / PermissionDenied without the right."""
    agent = catalog.agent(AGENT_ID)
    with transaction.atomic():
        connection = selectors.connection_for(person, connection_id, Action.MANAGE_AGENTS, lock=True)
        if connection.agent_id != AGENT_ID:
            raise AgentServiceError(_("This agent is not an e-Box DocConsumer."))
        try:
            key = credentials.unseal(connection.credentials_sealed).get("private_key", "")
        except credentials.CredentialError:
            key = ""
        if not key:
            raise AgentServiceError(_("The key of this set-up cannot be read: start the set-up again."))
        given = {name: str(values.get(name) or "") for name in SETTINGS}
        clean = credentials.validated(agent, {**given, "private_key": key})
        first = being_set_up(connection)
        previous = connection.status
        certificate = (connection.shown_credentials or {}).get(CERTIFICATE)
        now = timezone.now()
        connection.credentials_sealed = credentials.seal(clean)
        connection.shown_credentials = {
            **credentials.shown(agent, clean),
            **({CERTIFICATE: certificate} if certificate else {}),
        }
        if first or previous in WAITS_FOR_PERSON:
            connection.status, connection.user_action, connection.status_changed_at = Status.PENDING, "", now
        connection.next_run_at, connection.failures = now, 0
        connection.save()
        record(
            actor,
            "agents.docconsumer.connected" if first else "agents.connection.credentials_replaced",
            details={**describe(connection), "from": previous, "clientId": clean["client_id"]},
        )
        _queue_sync(connection.pk, Trigger.FIRST if first else Trigger.PERSON)
    return connection
