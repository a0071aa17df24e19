"""The e-Box DocConsumer's set-up pages (coffre.agents.views_docconsumer, seed 001): Coffre makes
the key and the certificate (the key never shown nor downloadable), the person downloads the
certificate, registers it at the e-Box side (here a second Coffre instance, with the very command
the page gives) and pastes the client id: the connection is made and its first sync brings the
messages. Tried by alice (access manager of A), bob (member), charlie (member of B)."""

import shlex

import pytest
from cryptography import x509
from django.urls import reverse

from coffre.agents import credentials, engine, scheduling
from coffre.agents.models import Connection, Status
from coffre.agents.providers.docconsumer_setup import key_matches_certificate
from coffre.agents.providers.ebox_registry import OFFICIAL_REGISTRY
from coffre.agents.services_docconsumer import being_set_up
from coffre.agents.tests.conftest import add, run_enqueued
from coffre.agents.tests.test_views import answer, page
from coffre.demo.pdf import simple_pdf
from coffre.mailbox.models import Message
from coffre.testing.second_instance import SecondInstance

PEOPLE = ("alice", "bob", "ann", "charlie", "anonymous")
MANAGE = {"alice": 200, "bob": 403, "ann": 403, "charlie": 404, "anonymous": "login"}


def e(name: str, portal, *args) -> str:
    return reverse(f"agents:e_{name}", args=[portal.a.cbe, *args])


def start(portal, client=None, **form) -> Connection:
    client = client or portal.client("alice")
    response = client.post(e("docconsumer", portal), {"folder": "documents", "label": "Our e-Box", **form})
    connection = Connection.objects.get(agent_id="ebox-docconsumer")
    assert response.status_code == 302 and response["Location"] == e(
        "docconsumer_setup", portal, connection.pk
    )
    return connection


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch):
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)


def test_the_catalog_leads_to_the_set_up_and_only_managers_open_it(portal):
    assert e("docconsumer", portal) in page(portal.client("alice").get(e("catalog", portal), {"q": "e-box"}))
    got = {person: answer(portal.client(person).get(e("docconsumer", portal))) for person in PEOPLE}
    assert got == MANAGE
    connection = start(portal)
    for name in ("docconsumer_setup", "certificate"):
        got = {person: answer(portal.client(person).get(e(name, portal, connection.pk))) for person in PEOPLE}
        assert got == MANAGE, name


def test_generating_the_certificate_keeps_the_key_sealed_and_never_shown(portal):
    alice = portal.client("alice")
    connection = start(portal, alice)
    assert being_set_up(connection) and connection.next_run_at is None
    html = page(alice.get(e("docconsumer_setup", portal, connection.pk)))
    assert "Your certificate is ready" in html
    assert (
        f"coffre client create --enterprise {portal.a.cbe} --certificate coffre-docconsumer-{portal.a.cbe}.pem"
        in html
    )
    assert f'value="{OFFICIAL_REGISTRY}"' in html  # the official addresses, given
    assert "https://services.socialsecurity.be/REST/oauth/v3/token" in html
    assert f'value="{portal.a.cbe}"' in html
    download = alice.get(e("certificate", portal, connection.pk))
    assert download["Content-Type"] == "application/x-pem-file"
    assert f'filename="coffre-docconsumer-{portal.a.cbe}.pem"' in download["Content-Disposition"]
    certificate = download.content.decode()
    x509.load_pem_x509_certificate(certificate.encode())
    key = credentials.unseal(connection.credentials_sealed)["private_key"]
    assert key_matches_certificate(key, certificate)
    for url in (
        e("docconsumer_setup", portal, connection.pk),
        e("connection", portal, connection.pk),
        e("agents", portal),
    ):
        assert "PRIVATE KEY" not in alice.get(url).content.decode()
    assert "PRIVATE KEY" not in certificate
    # Waiting for its client id, it never runs.
    agents = page(alice.get(e("agents", portal)))
    assert "Set-up to finish" in agents
    status = page(alice.get(e("connection", portal, connection.pk)))
    assert "Finish the set-up" in status and "Sync now" not in status and "hx-trigger" not in status
    assert scheduling.claim_due() == [] and engine.sync(connection.pk).status == "busy"


def test_the_set_up_pages_are_for_docconsumers_only(portal, shelf):
    other = add(portal)
    alice = portal.client("alice")
    assert alice.get(e("docconsumer_setup", portal, other.pk)).status_code == 404
    assert alice.get(e("certificate", portal, other.pk)).status_code == 404
    assert alice.post(e("docconsumer_setup", portal, other.pk), {"client_id": "x"}).status_code == 404


def test_the_client_id_is_asked_next_to_its_field(portal):
    connection = start(portal)
    response = portal.client("alice").post(
        e("docconsumer_setup", portal, connection.pk),
        {"client_id": "", "enterprise": portal.a.cbe, "registry_url": "not an address", "token_url": ""},
    )
    assert response.status_code == 400
    html = page(response)
    assert html.index("This field is required.") < html.index('name="client_id"')
    connection.refresh_from_db()
    assert being_set_up(connection)


@pytest.fixture(scope="module")
def other():
    with SecondInstance() as instance:
        yield instance


def test_pasting_the_client_id_connects_the_e_box_and_its_messages_come(
    portal, other, tmp_path, django_capture_on_commit_callbacks
):
    cbe = portal.a.cbe  # the same enterprise, with its e-Box at another Coffre
    other.coffre("enterprise", "add", cbe, "--name", "Alice & Co", "--json")
    other.publish(
        cbe, {"fr": "Avis de cotisations"}, [("avis.pdf", "application/pdf", simple_pdf(["Avis"]), True)]
    )
    alice = portal.client("alice")
    connection = start(portal, alice, folder="purchases")

    # Step 2: the certificate, registered at the other Coffre with the page's own command.
    html = page(alice.get(e("docconsumer_setup", portal, connection.pk)))
    command = html.split('<pre class="command"><code>', 1)[1].split("</code>", 1)[0].replace("&quot;", '"')
    name = f"coffre-docconsumer-{cbe}.pem"
    (other.directory / name).write_bytes(alice.get(e("certificate", portal, connection.pk)).content)
    arguments = shlex.split(command)[1:]  # after "coffre"
    arguments[arguments.index("--certificate") + 1] = str(other.directory / name)
    client_id = other.coffre_json(*arguments)["client_id"]

    # Step 3: the client id; another Coffre announces its token endpoint (left empty).
    with django_capture_on_commit_callbacks(execute=True):
        response = alice.post(
            e("docconsumer_setup", portal, connection.pk),
            {"client_id": client_id, "enterprise": cbe, "registry_url": other.registry_url, "token_url": ""},
            follow=True,
        )
    assert response.redirect_chain[-1][0] == e("connection", portal, connection.pk)
    assert "The e-Box is connected: the first synchronisation starts now." in page(response)
    assert run_enqueued("coffre.agents.tasks.sync_connection") == [Status.OK]
    connection.refresh_from_db()
    assert (connection.status, connection.documents) == (Status.OK, 1)
    assert connection.shown_credentials["client_id"] == client_id
    message = Message.objects.get(ebox=portal.ebox_a, folder="purchases", origin="agent")
    assert message.subject["fr"] == "Avis de cotisations" and message.sender_name == "Office des cotisations"
    settings_page = page(alice.get(e("docconsumer_setup", portal, connection.pk)))
    assert f'value="{client_id}"' in settings_page and "PRIVATE KEY" not in settings_page
    # Its credentials are changed on the set-up page, which keeps the key Coffre made.
    assert alice.get(e("credentials", portal, connection.pk))["Location"] == e(
        "docconsumer_setup", portal, connection.pk
    )
