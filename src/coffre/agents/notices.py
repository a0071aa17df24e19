"""Telling the person who added a connection that it changed to an error status (issue 7 point 6).

One e-mail per change (the outbox's key names the connection and the moment of the change, so a
change is never told twice), in the person's language, written in the engine's transaction.
Content-free: the subject names neither the agent nor the provider; the text names the agent and
the space so that the person knows which one, never a document, a credential or the technical
detail. Nobody is told when the person left, or may no longer see the space's agents.
"""

import datetime as dt

from django.utils import translation

from coffre.accounts.permissions import Action
from coffre.agents import catalog, selectors, statuses
from coffre.agents.models import ERRORS, Connection
from coffre.notifications import links
from coffre.outbox.services import queue_mail

MAIL = "agents/mail/status_changed"


def change_key(connection_id: int, changed_at: dt.datetime) -> str:
    return f"agents:status:{connection_id}:{int(changed_at.timestamp() * 1_000_000)}"


def status_changed(connection: Connection, changed_at: dt.datetime) -> bool:
    """Queue the e-mail of a change to an error status; True when one was queued now."""
    person = connection.added_by
    if connection.status not in ERRORS or person is None or not person.is_active:
        return False
    box = connection.box
    if not selectors.may(person, box, Action.VIEW_AGENTS):
        return False
    try:
        agent_name = catalog.agent(connection.agent_id).name
    except catalog.UnknownAgent:
        agent_name = connection.agent_id
    with translation.override(person.language):
        explanation = statuses.explain(connection.status, connection.user_action)
        context = {
            "agent": f"{agent_name} ({connection.label})" if connection.label else agent_name,
            "enterprise": "" if box.is_personal else box.enterprise.name,
            "personal": box.is_personal,
            "status": explanation.title,
            "explanation": explanation.text,
            "portal_url": links.absolute("home"),
            "settings_url": links.absolute("accounts:settings"),
        }
    _mail, created = queue_mail(
        key=change_key(connection.pk, changed_at),
        purpose="agent_status",
        to=person.email,
        prefix=MAIL,
        context=context,
        language=person.language,
        headers={"Auto-Submitted": "auto-generated"},
    )
    return created
