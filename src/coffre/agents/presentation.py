"""How the portal puts agents and connections into words: an agent's frequency ("every 3 days",
"monthly"), its category, the space a connection fetches into, and one connection's situation
(its status in a sentence and the action the person can take, its last and next sync).

Pure presentation: it reads what the selectors give and changes nothing. Never shows a credential
(only the non-secret values the connection keeps to be shown).
"""

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from coffre.agents import catalog, statuses
from coffre.agents.models import Connection, Status, SyncRun
from coffre.agents.sdk import CATEGORY_LABELS, Agent, Category, FieldKind
from coffre.agents.services_docconsumer import being_set_up
from coffre.mailbox.models import Ebox, Folder

FINISH_SETUP = "finish-setup"  # the remedy of a DocConsumer being set up
DAY = 86400
MONTH = 30 * DAY  # the portal agents' "monthly"


def frequency_words(frequency: dt.timedelta) -> str:
    """An agent's frequency as the catalog says it: "daily", "every 3 days", "monthly"..."""
    seconds = int(frequency.total_seconds())
    if seconds % MONTH == 0:
        months = seconds // MONTH
        if months == 1:
            return _("monthly")
        return ngettext("every %(count)d month", "every %(count)d months", months) % {"count": months}
    if seconds % (7 * DAY) == 0:
        weeks = seconds // (7 * DAY)
        if weeks == 1:
            return _("weekly")
        return ngettext("every %(count)d week", "every %(count)d weeks", weeks) % {"count": weeks}
    if seconds % DAY == 0:
        days = seconds // DAY
        if days == 1:
            return _("daily")
        return ngettext("every %(count)d day", "every %(count)d days", days) % {"count": days}
    if seconds % 3600 == 0:
        hours = seconds // 3600
        if hours == 1:
            return _("hourly")
        return ngettext("every %(count)d hour", "every %(count)d hours", hours) % {"count": hours}
    minutes = max(1, seconds // 60)
    return ngettext("every %(count)d minute", "every %(count)d minutes", minutes) % {"count": minutes}


def category_label(category: str) -> str:
    try:
        return str(CATEGORY_LABELS[Category(category)])
    except (KeyError, ValueError):
        return str(CATEGORY_LABELS[Category.OTHER])


def categories() -> list[tuple[str, str]]:
    """The catalog's filter: (value, translated label), in the order of ``Category``."""
    return [(item.value, str(CATEGORY_LABELS[item])) for item in Category]


def space_label(box: Ebox, folder: str) -> str:
    if box.is_personal:
        return _("My documents")
    try:
        return str(Folder(folder).label)
    except ValueError:
        return folder


def agent_or_none(agent_id: str) -> Agent | None:
    try:
        return catalog.agent(agent_id)
    except catalog.UnknownAgent:
        return None


@dataclass(frozen=True)
class ShownCredential:
    label: str
    value: str  # "" for a secret: it is never shown, only replaced
    secret: bool


def shown_credentials(agent: Agent | None, connection: Connection) -> list[ShownCredential]:
    """What the person may see of the credentials: the non-secret values, and which fields are
    secret (their values never leave the sealed credentials)."""
    if agent is None:
        return []
    shown = connection.shown_credentials or {}
    return [
        ShownCredential(
            str(item.label),
            "" if item.secret or item.kind == FieldKind.PASSWORD else str(shown.get(item.name, "")),
            item.secret or item.kind == FieldKind.PASSWORD,
        )
        for item in agent.credential_fields
    ]


# The badge of each shown status (its words are always beside it: never colour alone).
BADGES = {
    Status.PENDING: "",
    Status.OK: "ok",
    Status.LOGIN_FAILED: "danger",
    Status.USER_ACTION_NEEDED: "warn",
    Status.VENDOR_DOWN: "warn",
    Status.MAINTENANCE: "warn",
    Status.UNKNOWN_ERROR: "danger",
}


@dataclass
class Situation:
    """One connection as a person sees it."""

    connection: Connection
    agent: Agent | None
    name: str  # the agent's name (or its id, when it is no longer installed)
    provider: str
    logo: str
    space: str
    status: str  # the shown status (MAINTENANCE while the operator repairs the agent)
    explanation: statuses.Explanation
    badge: str
    last_run: SyncRun | None
    running: bool  # a worker holds it now
    waits_for_person: bool  # never retried until the person acts
    setting_up: bool = False  # an e-Box DocConsumer whose set-up is not finished
    url: str = ""  # its page, set by the view

    @property
    def pk(self) -> int:
        return self.connection.pk

    @property
    def title(self) -> str:
        label = self.connection.label
        return f"{self.name} ({label})" if label else self.name

    @property
    def in_maintenance(self) -> bool:
        return self.status == Status.MAINTENANCE

    @property
    def next_run_at(self) -> dt.datetime | None:
        if self.waits_for_person or self.in_maintenance:
            return None
        return self.connection.next_run_at

    @property
    def frequency(self) -> str:
        return frequency_words(self.agent.frequency) if self.agent else ""

    @property
    def may_sync_now(self) -> bool:
        """Whether "Sync now" can be asked at all (its rate limit is the service's to say)."""
        return not (self.waits_for_person or self.in_maintenance or self.running or self.setting_up)


def situation(
    connection: Connection, last_run: SyncRun | None, in_maintenance: set[str], now: dt.datetime | None = None
) -> Situation:
    now = now or timezone.now()
    agent = agent_or_none(connection.agent_id)
    status = Status.MAINTENANCE if connection.agent_id in in_maintenance else Status(connection.status)
    explanation = statuses.explain(status, connection.user_action)
    setting_up = being_set_up(connection)
    if setting_up:
        explanation = statuses.Explanation(
            str(status),
            _("Set-up to finish"),
            _(
                "Download the certificate Coffre made, register it at the e-Box side, then give the "
                "client ID it returns: the agent starts then."
            ),
            FINISH_SETUP,
        )
    return Situation(
        connection=connection,
        agent=agent,
        name=agent.name if agent else connection.agent_id,
        provider=agent.provider if agent else "",
        logo=agent.logo if agent else Agent.logo,
        space=space_label(connection.box, connection.folder),
        status=str(status),
        explanation=explanation,
        badge="warn" if setting_up else BADGES.get(status, ""),
        last_run=last_run,
        running=connection.claim_expires_at is not None and connection.claim_expires_at > now,
        waits_for_person=connection.next_run_at is None
        and status in (Status.LOGIN_FAILED, Status.USER_ACTION_NEEDED),
        setting_up=setting_up,
    )
