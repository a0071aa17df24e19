"""The demo's agents: the bakery's principal access manager has added the ``demo-energy`` agent
(the fake provider portal "Énergie Demo", ``coffre.agents.fakeportal``) to the bakery's Purchases
space twice: the account ``demo-ok`` (25 bills) and the account ``demo-expired`` (its password
expired: the agent asks the person to change it on the provider's site).

Idempotent: a connection of the same account in that space is never added twice. The first sync
of a connection just added runs here, against the demo portal's own state file served for the
while on a free port of 127.0.0.1 (``coffre run`` is not listening yet): ``make run`` then shows
the bills in Purchases, and one agent in each kind of status. Later syncs reach the portal that
``coffre run`` serves at ``COFFRE_DEMO_PORTAL_URL`` (``/demo-portal/`` when ``COFFRE_DEMO_PORTAL``
is on).
"""

from django.test.utils import override_settings

from coffre.accounts.models import Enterprise, User
from coffre.agents import engine, services
from coffre.agents.fakeportal.server import serve
from coffre.agents.fakeportal.state import DEMO_PASSWORD, PortalState
from coffre.agents.fakeportal.views import demo_state_path
from coffre.agents.models import Connection
from coffre.audit.services import Actor
from coffre.mailbox.models import Ebox, Folder

AGENT = "demo-energy"
CONNECTIONS = (
    # (fake portal account, label in the portal)
    ("demo-ok", "Boulangerie, électricité"),
    ("demo-expired", "Dépôt, gaz"),
)


def ensure_agents(enterprise_cbe: str, person_email: str, actor: Actor) -> list[dict]:
    """Add the demo's connections that are missing and run their first sync; what each is now."""
    box = Ebox.objects.get(enterprise=Enterprise.objects.get(cbe=enterprise_cbe))
    person = User.objects.get(email=person_email)
    added = []
    for login, label in CONNECTIONS:
        existing = Connection.objects.filter(
            box=box, folder=Folder.PURCHASES, agent_id=AGENT, shown_credentials__login=login
        ).first()
        if existing is None:
            connection = services.add_connection(
                person,
                box,
                Folder.PURCHASES,
                AGENT,
                {"login": login, "password": DEMO_PASSWORD},
                label=label,
                actor=actor,
            )
            added.append(connection.pk)
    if added:
        with (
            serve(PortalState.demo(demo_state_path())) as portal,
            override_settings(COFFRE_DEMO_PORTAL_URL=portal.url),
        ):
            for connection_id in added:
                engine.sync(connection_id)
    return [
        {"login": item.shown_credentials.get("login", ""), "status": item.status, "documents": item.documents}
        for item in Connection.objects.filter(box=box, agent_id=AGENT).order_by("pk")
    ]
