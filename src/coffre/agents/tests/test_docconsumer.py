"""The e-Box DocConsumer agent against a second Coffre instance (real HTTP, real OAuth2), and against
a misbehaving registry for what a correct one never answers.

At the SDK level, as the sync engine drives an agent: ``open_session``, ``list_documents`` from a
cursor, ``download`` of the documents it does not have yet (``pull`` below does what the engine
does: skip the ids it has, keep the cursor of the last one).
"""

import datetime as dt
import logging
from decimal import Decimal

import pytest
from django.utils import translation

from coffre.agents.providers import ebox_registry
from coffre.agents.providers.docconsumer import DocConsumerAgent, received_after
from coffre.agents.providers.docconsumer_setup import new_key_and_certificate
from coffre.agents.providers.pem import one_line
from coffre.agents.sdk import LoginFailed, UnknownAgentError, UserAction, UserActionNeeded, VendorDown
from coffre.agents.tests.fake_registry import FakeRegistry
from coffre.testing.live import free_port
from coffre.testing.second_instance import APPLICATION, MESSAGE_TYPE, SENDER, SecondInstance

PDF = b"%PDF-1.4\n% an invoice of the tests\n%%EOF\n"
PDF_2 = b"%PDF-1.4\n% an attestation of the tests\n%%EOF\n"
CSV = b"line;amount\n1;120.50\n"
PAYMENT = {
    "amount": 120.5,
    "vatAmount": 25.3,
    "currency": "EUR",
    "dueDate": "2031-12-31",
    "iban": "BE68 5390 0754 7034",
    "bic": "GKCCBEBB",
    "reference": "+++090/9337/55493+++",
}


@pytest.fixture(scope="module")
def other():
    with SecondInstance() as instance:
        yield instance


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch):
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True)
def _french():
    with translation.override("fr"):
        yield


def credentials_of(other: SecondInstance, reader, **changes) -> dict:
    values = {
        "registry_url": other.registry_url,
        "token_url": other.token_url,
        "client_id": reader.client_id,
        "enterprise": reader.enterprise,
        "private_key": one_line(reader.private_key_pem),  # as a one-line credential field keeps it
    }
    values.update(changes)
    return {name: value for name, value in values.items() if value is not None}


def pull(agent, credentials: dict, cursor: str = "", known: set | None = None):
    """What the sync engine does with an agent: the new documents (remote, fetched), and the cursor."""
    known = set() if known is None else known
    taken = []
    with agent.open_session(credentials) as session:
        for remote in agent.list_documents(session, cursor):
            if remote.remote_id not in known:
                taken.append((remote, agent.download(session, remote)))
                known.add(remote.remote_id)
            cursor = remote.cursor
    return taken, cursor


def test_the_first_pull_brings_every_message_with_its_files_and_facts(other, caplog):
    caplog.set_level(logging.DEBUG)
    reader = other.new_reader("Boulangerie Dupont")
    with_payment = other.publish(
        reader.enterprise,
        {"fr": "Avis de paiement T3", "nl": "Betalingsbericht T3"},
        [("detail.csv", "text/csv", CSV, False), ("avis.pdf", "application/pdf", PDF, True)],
        payment=PAYMENT,
    )
    body_only = other.publish(
        reader.enterprise, {"fr": "Votre attestation"}, [], body={"fr": "Votre attestation est prête."}, body_main=True
    )
    plain = other.publish(reader.enterprise, {"fr": "Attestation"}, [("attestation.pdf", "application/pdf", PDF_2, True)])

    agent = DocConsumerAgent()
    agent.page_size = 2  # three messages: two pages
    taken, cursor = pull(agent, credentials_of(other, reader))

    by_id = {remote.remote_id: (remote, fetched) for remote, fetched in taken}
    assert set(by_id) == {with_payment, body_only, plain}
    receipts = [fetched.issued_at for _remote, fetched in taken]
    assert receipts == sorted(receipts)  # oldest first
    assert cursor == taken[-1][0].cursor

    remote, fetched = by_id[with_payment]
    assert [(item.file_name, item.media_type, item.content) for item in fetched.files] == [
        ("avis.pdf", "application/pdf", PDF),  # the main content first
        ("detail.csv", "text/csv", CSV),
    ]
    assert fetched.subject == "Avis de paiement T3"
    assert remote.title == "Avis de paiement T3"
    assert fetched.sender_name == "Office des cotisations"
    assert fetched.sender_id == SENDER
    assert fetched.message_type == MESSAGE_TYPE
    assert fetched.details["messageTypeName"]["fr"] == "Avis de paiement"
    assert fetched.details["senderApplicationId"] == APPLICATION
    assert fetched.details["ebox"] == reader.enterprise
    assert fetched.issued_at.tzinfo is not None
    assert fetched.expires_at - fetched.issued_at >= dt.timedelta(days=365)
    payment = fetched.payment
    assert (payment.amount, payment.vat_amount, payment.currency) == (Decimal("120.5"), Decimal("25.3"), "EUR")
    assert payment.due_date == dt.date(2031, 12, 31)
    assert (payment.iban, payment.bic, payment.reference) == ("BE68539007547034", "GKCCBEBB", "+++090/9337/55493+++")
    assert payment.beneficiary == "Office des cotisations"
    assert remote.amount == Decimal("120.5")

    _remote, fetched = by_id[body_only]
    assert [(item.file_name, item.media_type) for item in fetched.files] == [("message.txt", "text/plain")]
    assert fetched.files[0].content.decode() == "Votre attestation est prête.\n"
    assert fetched.payment is None

    _remote, fetched = by_id[plain]
    assert [item.content for item in fetched.files] == [PDF_2]

    secret_body = reader.private_key_pem.splitlines()[1]
    assert secret_body not in caplog.text
    assert "Bearer" not in caplog.text and "eyJ" not in caplog.text  # no token, no assertion (a JWT)


def test_a_new_publication_comes_on_the_next_pull_only(other):
    reader = other.new_reader("Garage Lambert")
    first = other.publish(reader.enterprise, {"fr": "Premier avis"}, [("premier.pdf", "application/pdf", PDF, True)])
    agent = DocConsumerAgent()
    # No token endpoint given: found in the instance's RFC 8414 metadata.
    credentials = credentials_of(other, reader, token_url=None)
    known: set[str] = set()

    taken, cursor = pull(agent, credentials, "", known)
    assert [remote.remote_id for remote, _fetched in taken] == [first]

    second = other.publish(reader.enterprise, {"fr": "Second avis"}, [("second.pdf", "application/pdf", PDF_2, True)])
    taken, cursor = pull(agent, credentials, cursor, known)
    assert [remote.remote_id for remote, _fetched in taken] == [second]
    assert [item.content for item in taken[0][1].files] == [PDF_2]

    taken, _cursor = pull(agent, credentials, cursor, known)
    assert taken == []


def test_a_resumed_listing_asks_from_two_days_before_the_cursor():
    cursor = "2026-03-10T23:30:00+00:00|some-message"  # 11 March, 00:30 in Brussels
    assert received_after(cursor, 2) == dt.date(2026, 3, 9)
    assert received_after("", 2) is None
    assert received_after("not a cursor", 2) is None


def test_a_wrong_client_id_or_an_unknown_key_is_a_failed_login(other, caplog):
    caplog.set_level(logging.DEBUG)
    reader = other.new_reader("Pharmacie Centrale")
    agent = DocConsumerAgent()
    with pytest.raises(LoginFailed) as wrong_id:
        with agent.open_session(credentials_of(other, reader, client_id="no-such-client")):
            pass
    assert "invalid_client" in wrong_id.value.message

    stranger_key, _certificate = new_key_and_certificate("Someone else")
    with pytest.raises(LoginFailed) as unknown_key:
        with agent.open_session(credentials_of(other, reader, private_key=stranger_key)):
            pass
    assert "invalid_client" in unknown_key.value.message

    with pytest.raises(LoginFailed) as unreadable:
        with agent.open_session(credentials_of(other, reader, private_key="-----BEGIN PRIVATE KEY----- abc")):
            pass
    assert "private key" in unreadable.value.message

    for error in (wrong_id.value, unknown_key.value, unreadable.value):
        for line in (*reader.private_key_pem.splitlines()[1:-1], *stranger_key.splitlines()[1:-1]):
            assert line not in str(error)
    assert reader.private_key_pem.splitlines()[1] not in caplog.text


def test_a_client_without_the_messages_scope_must_contact_the_provider(other):
    reader = other.new_reader("Librairie du Parc", scopes=("summaryownebox",))
    with pytest.raises(UserActionNeeded) as refused:
        with DocConsumerAgent().open_session(credentials_of(other, reader)):
            pass
    assert refused.value.action == UserAction.CONTACT_PROVIDER
    assert "messagesfull" in refused.value.message


def test_a_client_without_reference_data_still_reads_its_messages(other):
    reader = other.new_reader("Fleuriste Rose", scopes=("messagesfull",))
    published = other.publish(reader.enterprise, {"fr": "Avis"}, [("avis.pdf", "application/pdf", PDF, True)])
    taken, _cursor = pull(DocConsumerAgent(), credentials_of(other, reader))
    [(remote, fetched)] = taken
    assert remote.remote_id == published
    assert (fetched.sender_name, fetched.sender_id) == ("", SENDER)  # no name without reference data


def test_a_registry_that_does_not_answer_is_down():
    port = free_port()  # nothing listens there
    key, _certificate = new_key_and_certificate("DocConsumer")
    credentials = {
        "registry_url": f"http://127.0.0.1:{port}/REST/ebox/enterprise/messageRegistry/v2/",
        "token_url": f"http://127.0.0.1:{port}/oauth2/token",
        "client_id": "client",
        "enterprise": "0456789034",
        "private_key": key,
    }
    with pytest.raises(VendorDown) as down:
        with DocConsumerAgent().open_session(credentials):
            pass
    assert f"127.0.0.1:{port}" in down.value.message


@pytest.fixture
def fake():
    with FakeRegistry() as registry:
        yield registry


@pytest.fixture(scope="module")
def key_pem():
    return new_key_and_certificate("DocConsumer")[0]


def test_a_registry_in_trouble_is_down(fake, key_pem):
    fake.token_status = 503
    with pytest.raises(VendorDown):
        with DocConsumerAgent().open_session(fake.credentials(key_pem)):
            pass
    fake.token_status = 200
    fake.routes[fake_path("ebox/messages")] = (502, b"<html>bad gateway</html>", "text/html")
    agent = DocConsumerAgent()
    with pytest.raises(VendorDown) as down:
        with agent.open_session(fake.credentials(key_pem)) as session:
            list(agent.list_documents(session, ""))
    assert "502" in down.value.message


def fake_path(path: str) -> str:
    return "/REST/ebox/enterprise/messageRegistry/v2/" + path


def test_a_forbidden_message_list_asks_the_person_to_contact_the_provider(fake, key_pem):
    fake.json_route("ebox/messages", {"id": "1", "code": "FORBIDDEN", "message": "DocConsumer not enabled"}, 403)
    agent = DocConsumerAgent()
    with pytest.raises(UserActionNeeded) as refused:
        with agent.open_session(fake.credentials(key_pem)) as session:
            list(agent.list_documents(session, ""))
    assert refused.value.action == UserAction.CONTACT_PROVIDER
    assert "DocConsumer not enabled" in refused.value.message


def test_a_registry_without_this_e_box_asks_the_person_to_contact_the_provider(fake, key_pem):
    # No route: the fake registry answers 404 NOT_FOUND, as Coffre does for an e-Box it does not have.
    agent = DocConsumerAgent()
    with pytest.raises(UserActionNeeded) as refused:
        with agent.open_session(fake.credentials(key_pem)) as session:
            list(agent.list_documents(session, ""))
    assert refused.value.action == UserAction.CONTACT_PROVIDER
    assert "no e-Box for this enterprise" in refused.value.message


def test_a_token_the_registry_refuses_is_renewed_once_then_a_failed_login(fake, key_pem):
    fake.json_route("ebox/messages", {"id": "1", "code": "UNAUTHORIZED", "message": "token expired"}, 401)
    agent = DocConsumerAgent()
    with pytest.raises(LoginFailed, match="fresh access token"):
        with agent.open_session(fake.credentials(key_pem)) as session:
            list(agent.list_documents(session, ""))
    token_requests = [request for request in fake.requests if request == ("POST", "/oauth2/token")]
    assert len(token_requests) == 2  # the session's token, then one new token after the first 401


def test_answers_outside_the_contract_are_unknown_errors(fake, key_pem):
    agent = DocConsumerAgent()
    fake.routes[fake_path("ebox/messages")] = (200, b"<html>welcome</html>", "text/html")
    with pytest.raises(UnknownAgentError, match="not JSON"):
        with agent.open_session(fake.credentials(key_pem)) as session:
            list(agent.list_documents(session, ""))

    fake.json_route("ebox/messages", {"items": [{"subject": {"fr": "?"}}], "totalItems": 1})
    with pytest.raises(UnknownAgentError, match="no messageId"):
        with agent.open_session(fake.credentials(key_pem)) as session:
            list(agent.list_documents(session, ""))


def test_an_attachment_that_does_not_match_its_digest_is_refused(fake, key_pem):
    message = {
        "messageId": "m-1",
        "subject": {"fr": "Avis"},
        "receiptDate": "2026-03-01T10:00:00Z",
        "expirationDate": "2027-03-01T10:00:00Z",
        "messageTypeId": "AVIS",
        "senderOrganizationId": SENDER,
        "bodyMainContent": False,
        "attachments": {
            "items": [
                {
                    "attachmentId": "a-1",
                    "fileName": "avis.pdf",
                    "mediaType": "application/pdf",
                    "mainContent": True,
                    "digest": {"digestMethod": "sha_256", "digestValue": "AAAA"},
                }
            ],
            "totalItems": 1,
        },
    }
    fake.json_route("ebox/messages", {"items": [message], "totalItems": 1})
    fake.json_route("ebox/messages/m-1", message)
    fake.routes[fake_path("ebox/messages/m-1/attachments/a-1/content")] = (200, PDF, "application/pdf")
    agent = DocConsumerAgent()
    with agent.open_session(fake.credentials(key_pem)) as session:
        [remote] = list(agent.list_documents(session, ""))
        with pytest.raises(UnknownAgentError, match="digest"):
            agent.download(session, remote)
    # The content was asked at the registry's root, never at an address the registry gave.
    assert ("GET", fake_path("ebox/messages/m-1/attachments/a-1/content")) in fake.requests


def test_the_official_e_box_is_the_default():
    where = ebox_registry.endpoints("", "", "")
    assert where.registry == "https://services.socialsecurity.be/REST/ebox/enterprise/messageRegistry/v2/"
    assert where.token == "https://services.socialsecurity.be/REST/oauth/v3/token"
    assert where.audience == "https://oauth.socialsecurity.be"
    other = ebox_registry.endpoints("https://coffre.example/REST/ebox/enterprise/messageRegistry/v2", "", "")
    assert other.registry.endswith("/v2/")
    assert (other.token, other.audience) == ("", "")  # found in the instance's metadata


def test_plain_http_is_refused_off_this_machine(key_pem):
    credentials = {
        "registry_url": "http://coffre.example/REST/ebox/enterprise/messageRegistry/v2/",
        "client_id": "client",
        "enterprise": "0456789034",
        "private_key": key_pem,
    }
    with pytest.raises(LoginFailed, match="https"):
        with DocConsumerAgent().open_session(credentials):
            pass


@pytest.mark.django_db
def test_through_the_engine_an_e_box_is_pulled_into_the_space_once(other, portal):
    """Added as a person adds it (services), synced by the engine: every message becomes a document
    of the space with its sender, files and payment data, and a second sync stores nothing again."""
    from coffre.agents import engine, services
    from coffre.agents.models import Connection, RemoteItem, Status
    from coffre.agents.tests.conftest import web
    from coffre.mailbox.models import Message, Origin

    reader = other.new_reader("Menuiserie Lejeune")
    other.publish(
        reader.enterprise,
        {"fr": "Avis de paiement"},
        [("avis.pdf", "application/pdf", PDF, True)],
        payment=PAYMENT,
    )
    other.publish(reader.enterprise, {"fr": "Attestation"}, [("attestation.pdf", "application/pdf", PDF_2, True)])
    values = {**credentials_of(other, reader), "private_key": reader.private_key_pem}  # as pasted: lines
    connection = services.add_connection(
        portal.people["alice"], portal.ebox_a, "purchases", DocConsumerAgent.id, values, actor=web("alice")
    )
    engine.sync(connection.pk)
    connection = Connection.objects.get(pk=connection.pk)
    assert connection.status == Status.OK
    messages = Message.objects.filter(ebox=portal.ebox_a, folder="purchases", origin=Origin.AGENT)
    assert sorted(next(iter(m.subject.values())) for m in messages) == ["Attestation", "Avis de paiement"]
    paid = messages.get(payment_data__isnull=False)
    assert paid.sender_name == "Office des cotisations"
    assert paid.payment_data.iban == "BE68539007547034"
    assert paid.attachments.get(main_content=True).file_name == "avis.pdf"
    engine.sync(connection.pk)
    assert RemoteItem.objects.filter(connection=connection).count() == 2
    assert messages.count() == 2
