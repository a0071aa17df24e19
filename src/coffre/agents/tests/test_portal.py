"""The declarative portal agent (providers/portal.py) against the fake portal, over real HTTP.

Every status is reached through the SDK's entry points (open_session, list_documents, download)
with the shipped demo-energy.yaml; nothing of HTTP is mocked.
"""

import logging
import ssl
from datetime import date
from decimal import Decimal

import httpx
import pytest

from coffre.agents.providers import tls
from coffre.agents.providers.portal import Cursor, _encoding, parse_amount
from coffre.agents.sdk import (
    LoginFailed,
    RemoteDocument,
    UnknownAgentError,
    UserAction,
    UserActionNeeded,
    VendorDown,
)
from coffre.agents.tests.portal_world import (  # noqa: F401 (fixtures)
    ALICE,
    ALICE_PASSWORD,
    PASSWORD,
    account,
    alice,
    energy,
    login_of,
    portal,
    silent_server,
    variant,
)
from coffre.testing.live import free_port


def sync(agent, credentials, cursor=""):
    """What the engine does: one session, the listing, each download."""
    with agent.open_session(credentials) as session:
        documents = list(agent.list_documents(session, cursor))
        return documents, [agent.download(session, item) for item in documents]


# --- OK ---


def test_lists_every_bill_over_three_pages_oldest_first_and_downloads_each_pdf(energy, portal):
    documents, fetched = sync(energy, alice())

    bills = portal.state.account(ALICE).bills
    assert [item.remote_id for item in documents] == [f"F{n:06d}" for n in range(1, 26)]
    assert [item.issued_on for item in documents] == sorted(bill.date for bill in bills)
    assert {item.remote_id: item.amount for item in documents} == {b.id: Decimal(b.amount) for b in bills}
    assert any(item.amount > 1000 for item in documents)  # "1.443,33 €" read with its thousands dot
    assert all(item.currency == "EUR" and item.title.startswith("Facture ") for item in documents)
    pages = [line for line in portal.portal.requests if line.startswith("GET /account/bills")]
    assert "GET /account/bills?page=2" in pages and "GET /account/bills?page=3" in pages
    assert "GET /account/bills?page=4" not in pages

    first = fetched[0].files[0]
    assert first.file_name == "facture-F000001.pdf"
    assert first.media_type == "application/pdf"
    assert first.content.startswith(b"%PDF-") and b"F000001" in first.content
    assert fetched[0].subject == "Facture 01/2023"
    assert fetched[0].sender_name == "Énergie Demo SA"
    assert fetched[0].issued_at.date() == date(2023, 1, 15)
    assert fetched[0].details["amount"] == str(documents[0].amount)
    assert len(fetched) == 25 and len({item.files[0].content for item in fetched}) == 25


def test_a_second_listing_from_the_cursor_finds_only_the_new_bills(energy, portal):
    documents, _ = sync(energy, alice())
    cursor = documents[-1].cursor
    portal.state.add_bill(ALICE, issued_on=date(2025, 1, 15))  # the same day as the newest seen
    portal.state.add_bill(ALICE, issued_on=date(2025, 2, 15))
    portal.portal.requests.clear()

    again, fetched = sync(energy, alice(), cursor)

    assert [item.remote_id for item in again] == ["F000026", "F000027"]
    assert b"F000027" in fetched[1].files[0].content
    # Newest first: the first page already reached what was seen, so the agent read no other.
    assert [line for line in portal.portal.requests if "bills?page" in line] == []
    assert sync(energy, alice(), again[-1].cursor)[0] == []


def test_syncs_share_one_verifying_tls_context(energy, monkeypatch):  # the DocConsumer uses it too
    """Building a TLS context loads the whole CA bundle (about 20 ms of CPU, more than the rest of
    a small sync's HTTP): thousands of syncs must not pay it each (docs/benchmarks.md, agents)."""
    loads = []
    load = ssl.SSLContext.load_verify_locations

    def counted(context, *args, **kwargs):
        loads.append(args or kwargs)
        return load(context, *args, **kwargs)

    monkeypatch.setattr(ssl.SSLContext, "load_verify_locations", counted)
    tls.verifying_context.cache_clear()
    for _ in range(3):
        assert len(sync(energy, alice())[0]) == 25
    assert len(loads) == 1
    context = tls.verifying_context()
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert context.cert_store_stats()["x509_ca"] > 0  # the CA bundle, loaded


def test_each_documents_cursor_resumes_after_it(energy):
    """A sync that stopped after its 10th document resumes with the 11th (crash and resume)."""
    documents, _ = sync(energy, alice())
    resumed, _ = sync(energy, alice(), documents[9].cursor)
    assert [item.remote_id for item in resumed] == [item.remote_id for item in documents[10:]]


def test_oldest_first_portals_are_read_to_their_last_page(energy, portal, tmp_path):
    agent = variant(tmp_path, lambda data: data["documents"].update(order="oldest-first"))
    documents, _ = sync(agent, alice())
    portal.state.add_bill(ALICE)
    portal.portal.requests.clear()
    again, _ = sync(agent, alice(), documents[-1].cursor)
    assert [item.remote_id for item in again] == ["F000026"]
    assert "GET /account/bills?page=3" in portal.portal.requests


def test_no_more_pages_than_max_pages_are_read(energy, portal, tmp_path):
    agent = variant(tmp_path, lambda data: data["documents"]["pagination"].update(max_pages=2))
    documents, _ = sync(agent, alice())
    assert [item.remote_id for item in documents] == [f"F{n:06d}" for n in range(6, 26)]
    assert "GET /account/bills?page=3" not in portal.portal.requests


def test_a_cursor_that_is_not_a_portal_cursor_lists_everything(energy, caplog):
    documents, _ = sync(energy, alice(), "not a cursor")
    assert len(documents) == 25
    assert "cursor that is not a portal cursor" in caplog.text


def test_cursor_keeps_the_ids_of_its_day():
    cursor = Cursor().after(date(2024, 1, 1), "B").after(date(2024, 1, 1), "A")
    assert Cursor.parse(cursor.encode()) == cursor
    assert not cursor.is_new(date(2024, 1, 1), "A")
    assert cursor.is_new(date(2024, 1, 1), "C")
    assert not cursor.is_new(date(2023, 12, 31), "Z")
    assert cursor.after(date(2024, 1, 2), "D") == Cursor(date(2024, 1, 2), ("D",))


@pytest.mark.parametrize(
    ("text", "decimal", "expected"),
    [
        ("1.234,56\u00a0€", "comma", Decimal("1234.56")),
        ("1.234,56", "comma", Decimal("1234.56")),
        ("12,50 €", "comma", Decimal("12.50")),
        ("€ 1 234,56", "comma", Decimal("1234.56")),
        ("-3,20", "comma", Decimal("-3.20")),
        ("12.50", "point", Decimal("12.50")),
        ("1,234.50 EUR", "point", Decimal("1234.50")),
        ("7", "point", Decimal(7)),
    ],
)
def test_amounts_read_with_a_decimal_comma_or_point(text, decimal, expected):
    assert parse_amount(text, decimal) == expected


@pytest.mark.parametrize(("text", "decimal"), [("abc", "comma"), ("1.234,56", "point"), ("", "comma")])
def test_what_is_not_an_amount_is_refused(text, decimal):
    with pytest.raises(ValueError):
        parse_amount(text, decimal)


@pytest.mark.parametrize(
    ("content_type", "body", "expected"),
    [
        ("text/html", b'<html><head><meta charset="ISO-8859-1"></head>', "iso8859-1"),
        ("text/html; charset=windows-1252", b'<meta charset="utf-8">', "cp1252"),
        ("text/html", b"<html>caf\xc3\xa9</html>", "utf-8"),
        ("text/html", b'<meta charset="no-such-charset">', "utf-8"),
    ],
)
def test_a_page_is_read_in_its_declared_charset(content_type, body, expected):
    assert _encoding(httpx.Response(200, headers={"content-type": content_type}), body) == expected


# --- LOGIN_FAILED ---


@pytest.mark.parametrize(
    "credentials",
    [
        {"login": ALICE, "password": "not-her-password"},
        {"login": "nobody@example.test", "password": PASSWORD},
        {"login": login_of("wrong-password"), "password": PASSWORD},  # the provider changed it
    ],
    ids=["wrong password", "unknown login", "password changed at the provider"],
)
def test_refused_credentials_are_login_failed(energy, credentials):
    with pytest.raises(LoginFailed) as caught:
        sync(energy, credentials)
    assert caught.value.status == "LOGIN_FAILED"
    assert "/login" in caught.value.message


def test_a_missing_credential_is_login_failed_without_asking_the_provider(energy, portal):
    with pytest.raises(LoginFailed, match="'password' is missing"):
        sync(energy, {"login": ALICE, "password": ""})
    assert list(portal.portal.requests) == []


# --- USER_ACTION_NEEDED ---


@pytest.mark.parametrize(
    ("mode", "action", "page"),
    [
        ("terms", UserAction.ACCEPT_TERMS, "/account/terms"),
        ("expired-password", UserAction.CHANGE_PASSWORD, "/account/password-expired"),
        ("two-factor", UserAction.TWO_FACTOR, "/login/two-factor"),
    ],
)
def test_pages_that_need_a_person_are_user_action_needed(energy, mode, action, page):
    with pytest.raises(UserActionNeeded) as caught:
        sync(energy, account(mode))
    assert caught.value.status == "USER_ACTION_NEEDED"
    assert caught.value.action == action
    assert page in caught.value.message


def test_once_the_terms_are_accepted_the_agent_goes_on(energy, portal):
    with pytest.raises(UserActionNeeded):
        sync(energy, account("terms"))
    portal.state.set_mode(login_of("terms"), "ok")  # what the person's "J'accepte" does
    documents, _ = sync(energy, account("terms"))
    assert len(documents) == 3


# --- VENDOR_DOWN ---


def test_a_503_maintenance_at_login_is_vendor_down(energy):
    with pytest.raises(VendorDown, match="HTTP 503") as caught:
        sync(energy, account("maintenance"))
    assert caught.value.status == "VENDOR_DOWN"


def test_a_portal_in_maintenance_is_vendor_down(energy, portal):
    portal.state.set_maintenance(True)
    with pytest.raises(VendorDown, match="GET /login: HTTP 503"):
        sync(energy, alice())


def test_maintenance_in_the_middle_of_a_sync_is_vendor_down(energy, portal):
    with energy.open_session(alice()) as session:
        documents = list(energy.list_documents(session, ""))
        portal.state.set_maintenance(True)
        with pytest.raises(VendorDown, match="HTTP 503"):
            energy.download(session, documents[0])


def test_a_maintenance_page_served_with_200_is_vendor_down(energy, tmp_path):
    agent = variant(tmp_path, lambda data: data.update(vendor_down={"text": "Mot de passe"}))
    with pytest.raises(VendorDown, match="^/login: the provider's maintenance page$"):
        sync(agent, alice())


def test_a_closed_port_is_vendor_down(settings):
    from coffre.agents import catalog

    settings.COFFRE_DEMO_PORTAL_URL = f"http://127.0.0.1:{free_port()}/"
    with pytest.raises(VendorDown, match="cannot reach the provider"):
        sync(catalog.agent("demo-energy"), alice())


def test_a_provider_that_does_not_answer_is_vendor_down(silent_server, settings, tmp_path):
    settings.COFFRE_DEMO_PORTAL_URL = silent_server
    agent = variant(tmp_path, lambda data: data["site"].update(timeout_seconds=1))
    with pytest.raises(VendorDown, match="did not answer in time"):
        sync(agent, alice())


# --- UNKNOWN_ERROR ---


def test_a_changed_page_layout_is_an_unknown_error_naming_what_is_missing(energy):
    with pytest.raises(UnknownAgentError) as caught:
        sync(energy, account("changed-layout"))
    assert caught.value.status == "UNKNOWN_ERROR"
    assert caught.value.message == "documents page /account/bills: 'table#bills' found nothing"


def test_a_cell_that_is_not_there_is_an_unknown_error_naming_the_row(energy, portal, tmp_path):
    agent = variant(tmp_path, lambda data: data["documents"]["date"].update(selector="td.issued"))
    with pytest.raises(UnknownAgentError) as caught:
        sync(agent, alice())
    assert caught.value.message == "documents page /account/bills, row 1: date ('td.issued') found nothing"


def test_a_date_in_another_format_is_an_unknown_error(tmp_path, energy):
    agent = variant(tmp_path, lambda data: data["documents"]["date"].update(format="%Y-%m-%d"))
    with pytest.raises(UnknownAgentError, match="the date does not read as '%Y-%m-%d'"):
        sync(agent, alice())


def test_a_login_page_without_its_form_is_an_unknown_error(tmp_path, energy):
    agent = variant(tmp_path, lambda data: data["login"].update(form="form#signin"))
    with pytest.raises(UnknownAgentError, match="login page /login: no form matches 'form#signin'"):
        sync(agent, alice())


def test_a_login_form_without_its_hidden_token_is_an_unknown_error(tmp_path, energy):
    agent = variant(tmp_path, lambda data: data["login"].update(hidden_fields=["authenticity_token"]))
    with pytest.raises(UnknownAgentError, match="hidden field 'authenticity_token' is missing"):
        sync(agent, alice())


def test_an_unrecognised_page_after_login_is_an_unknown_error(tmp_path, energy):
    agent = variant(tmp_path, lambda data: data["login"].update(success={"selector": "nav.customer-menu"}))
    with pytest.raises(UnknownAgentError, match="after the login, /account/bills .* neither the success page"):
        sync(agent, alice())


def test_a_download_that_is_not_the_expected_kind_is_an_unknown_error(tmp_path, energy):
    agent = variant(tmp_path, lambda data: data["download"].update(media_type="image/png"))
    with pytest.raises(UnknownAgentError, match="F000001.pdf: the file is not a image/png"):
        sync(agent, alice())


def test_a_download_over_the_size_limit_is_an_unknown_error(tmp_path, energy, portal):
    with portal.state.changing() as state:
        state.accounts[ALICE].bills[0].title = "Facture " + "détaillée " * 60  # a PDF over 1 KiB
    agent = variant(tmp_path, lambda data: data["download"].update(max_bytes=1024))
    with agent.open_session(alice()) as session:
        documents = list(agent.list_documents(session, ""))
        assert len(agent.download(session, documents[1]).files[0].content) < 1024
        with pytest.raises(UnknownAgentError, match="F000001.pdf: the document is larger than 1024 bytes"):
            agent.download(session, documents[0])


def test_a_missing_document_is_an_unknown_error(energy, portal):
    with energy.open_session(alice()) as session:
        ghost = RemoteDocument("F999999", "", details={"url": portal.url + "account/bills/F999999.pdf"})
        with pytest.raises(UnknownAgentError, match="download /account/bills/F999999.pdf: HTTP 404"):
            energy.download(session, ghost)


def test_a_download_link_to_another_site_is_refused_before_any_connection(energy, portal):
    elsewhere = free_port()
    with energy.open_session(alice()) as session:
        stranger = RemoteDocument("X1", "", details={"url": f"http://127.0.0.2:{elsewhere}/bill.pdf"})
        with pytest.raises(UnknownAgentError, match=r"sent to another site \(127.0.0.2\)"):
            energy.download(session, stranger)


def test_a_session_lost_during_the_sync_is_an_unknown_error(energy, portal):
    with energy.open_session(alice()) as session:
        documents = list(energy.list_documents(session, ""))
        session.state["browser"].client.cookies.clear()
        with pytest.raises(UnknownAgentError, match="a web page .* came instead of application/pdf"):
            energy.download(session, documents[0])
        with pytest.raises(UnknownAgentError, match="/login: the provider asked to log in again"):
            list(energy.list_documents(session, ""))


# --- secrets ---


def test_credentials_never_appear_in_messages_or_logs(energy, portal, caplog, settings):
    caplog.set_level(logging.DEBUG)
    secrets = (ALICE, ALICE_PASSWORD, PASSWORD, "not-her-password")
    messages = []
    attempts = [
        {"login": ALICE, "password": "not-her-password"},
        *[account(mode) for mode in ("wrong-password", "terms", "expired-password", "two-factor",
                                     "maintenance", "changed-layout")],
    ]
    for credentials in attempts:
        with pytest.raises(Exception) as caught:
            sync(energy, credentials)
        messages.append(caught.value)
    sync(energy, alice())  # a good sync logs too
    settings.COFFRE_DEMO_PORTAL_URL = f"http://127.0.0.1:{free_port()}/"
    with pytest.raises(VendorDown) as caught:
        sync(energy, alice())
    messages.append(caught.value)

    assert {type(item).__name__ for item in messages} == {
        "LoginFailed", "UserActionNeeded", "VendorDown", "UnknownAgentError"
    }
    for error in messages:
        chain = [error, error.__cause__, error.__context__]
        text = " ".join(f"{item} {item!r} {getattr(item, 'args', '')}" for item in chain if item)
        assert not any(secret in text for secret in secrets), text
    assert "logged in" in caplog.text  # the log was captured
    assert not any(secret in caplog.text for secret in secrets)
