"""The portal end to end, in headless Chromium against the production server (issue 4, point 7).

Each scenario goes through the pages as a person does (forms, buttons, menus, the links e-mailed
to them, read from the server's outbox); only what an operator sets up beforehand (the institution
that publishes, its webservice client, a manager who already works there) is made in the test's
own process. Documents are published through the real e-Box REST API over HTTP (a webservice
client's token from the OAuth2 endpoint, a multipart publishMessage), and two-factor codes are
computed from the secret the setup page shows, as an authenticator app would. No page may log an
error or break the Content-Security-Policy (``open_page``, coffre.testing.browser).

(a) sign-up -> confirmation link -> log in -> register an enterprise (two-factor setup is
    compulsory for its principal access manager) -> a document published through the API
    appears -> open it -> its PDF preview loads and it is read, in the page and through the API;
(b) the business-account linking flow through the e-mailed removal link: tests/test_e2e_linking.py;
(c) an access manager invites an accountant by e-mail -> the accountant signs up through the
    invitation and accepts it -> reads the enterprise's mailbox -> downloads a document (the very
    bytes published) -> may neither hide it nor open the e-Box management page (403).
"""

import base64
import hashlib
import json
import secrets
import uuid
from pathlib import Path
from urllib.error import HTTPError
from urllib.parse import urlencode
from urllib.request import Request, urlopen

from django_otp.oath import totp

from coffre.accounts.models import Role
from coffre.accounts.services import register_enterprise
from coffre.accounts.services_roles import set_role_by_operator
from coffre.accounts.services_two_factor import ensure_authenticator, secret_text
from coffre.accounts.testing import make_person
from coffre.audit.services import Actor
from coffre.core.cbe import make_cbe
from coffre.demo.pdf import simple_pdf
from coffre.mailbox import reference
from coffre.oauth import scopes
from coffre.oauth import services as oauth_services
from coffre.oauth.testing import ClientCredentials, certificate_pem, new_rsa_key
from coffre.testing import outbox
from coffre.testing.browser import BrowserPage

ACTOR = Actor.cli("e2e")
ONSS = "0406798006"
API = "/REST/ebox/enterprise/messageRegistry/v2"
PASSWORD = "a long and private passphrase"


# --- what an operator sets up, and the API a sender uses --------------------------------------------


def institution() -> None:
    """ONSS, a sender organization with its message type (reference data)."""
    register_enterprise(ONSS, "Office national de sécurité sociale", ACTOR)
    reference.set_sender_organization(
        ONSS, ACTOR, short_name={"fr": "ONSS", "nl": "RSZ", "en": "NSSO"}, long_name={"fr": "ONSS"}
    )
    reference.set_message_type(
        "ATTEST",
        ACTOR,
        name={"fr": "Attestation", "nl": "Attest", "en": "Certificate"},
        validity_number=1,
        validity_unit="year",
        organizations=[ONSS],
    )


def webservice_client(cbe: str, *scope_list: str) -> ClientCredentials:
    """``coffre client create --enterprise CBE --certificate ... --scope ...``: a key and its certificate."""
    key = new_rsa_key()
    pem = certificate_pem(key)
    client, _ = oauth_services.create_client(cbe, pem, list(scope_list), f"e2e {cbe}", ACTOR)
    return ClientCredentials(client=client, private_key=key, certificate_pem=pem)


def call(method: str, url: str, *, token: str | None = None, data: bytes | None = None, headers=None):
    request = Request(url, data=data, method=method, headers=dict(headers or {}))
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urlopen(request, timeout=30) as answer:
            return answer.status, answer.read()
    except HTTPError as refused:
        return refused.code, refused.read()


def token_for(base_url: str, credentials: ClientCredentials) -> str:
    """A token from the OAuth2 endpoint: client credentials, ``private_key_jwt`` (RFC 7523)."""
    endpoint = base_url + "/oauth2/token"
    body = urlencode(
        {
            "grant_type": "client_credentials",
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": credentials.assertion(audience=endpoint),
        }
    ).encode()
    status, answer = call(
        "POST", endpoint, data=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert status == 200, answer
    return json.loads(answer)["access_token"]


def publish_over_http(base_url: str, token: str, recipient: str, subject: dict, pdf: bytes) -> str:
    """POST publishMessage (multipart/form-data: the description, then the PDF); the messageId."""
    digest = base64.urlsafe_b64encode(hashlib.sha256(pdf).digest()).rstrip(b"=").decode()
    description = {
        "recipient": {"eboxType": "enterprise", "eboxIdValue": recipient},
        "subject": subject,
        "messageTypeId": "ATTEST",
        "senderOrganizationId": ONSS,
        "bodyMainContent": False,
        "replyAuthorized": False,
        "attachments": [
            {
                "httpPartName": "upfile1",
                "mainContent": True,
                "digest": {"digestMethod": "sha_256", "digestValue": digest},
            }
        ],
    }
    boundary = uuid.uuid4().hex
    body = b"".join(
        [
            f"--{boundary}\r\n".encode(),
            b'Content-Disposition: form-data; name="messageToPublish"\r\n',
            b"Content-Type: application/json\r\n\r\n",
            json.dumps(description).encode(),
            f"\r\n--{boundary}\r\n".encode(),
            b'Content-Disposition: form-data; name="upfile1"; filename="attestation.pdf"\r\n',
            b"Content-Type: application/pdf\r\n\r\n",
            pdf,
            f"\r\n--{boundary}--\r\n".encode(),
        ]
    )
    status, answer = call(
        "POST",
        base_url + API + "/publishMessage",
        token=token,
        data=body,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert status == 201, answer
    return json.loads(answer)["messageId"]


def read_status(base_url: str, token: str, message_id: str) -> bool:
    status, answer = call("GET", f"{base_url}{API}/ebox/messages/{message_id}", token=token)
    assert status == 200, answer
    return json.loads(answer)["readStatus"]


def code_from(secret_text: str) -> str:
    """What an authenticator app shows for the secret of the setup page (RFC 6238, 30 s, 6 digits)."""
    secret = "".join(secret_text.split()).upper()
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    return str(totp(key, step=30, t0=0, digits=6)).zfill(6)


# --- what a person does -----------------------------------------------------------------------------


def sign_up(tab: BrowserPage, email: str, name: str) -> None:
    """The sign-up form (reached from a page's link), then the confirmation link of the mail."""
    form = tab.page.locator("main")
    assert form.get_by_label("E-mail address").input_value() in ("", email)
    form.get_by_label("E-mail address").fill(email)
    form.get_by_label("Your name").fill(name)
    form.get_by_label("Language").select_option("en")
    form.get_by_label("Password:", exact=True).fill(PASSWORD)
    form.get_by_label("Password again").fill(PASSWORD)
    form.get_by_role("button", name="Create my account").click()
    tab.page.get_by_role("heading", name="Check your mailbox").wait_for()

    mails = [mail for mail in outbox.mails(to=email) if "/accounts/verify/" in mail.body]
    assert len(mails) == 1, mails
    tab.go(outbox.link_in(mails[0], "/accounts/verify/"))
    assert tab.path().startswith("/accounts/verify/confirm/")  # the token left the address bar
    tab.page.locator("main").get_by_label("Password").fill(PASSWORD)
    tab.page.get_by_role("button", name="Confirm and log in").click()
    tab.page.get_by_text("Your e-mail address is confirmed. Welcome!").wait_for()


def log_in(tab: BrowserPage, email: str, *, secret: str | None = None) -> None:
    tab.go("/accounts/login/")
    form = tab.page.locator("main")
    form.get_by_label("E-mail address").fill(email)
    form.get_by_label("Password").fill(PASSWORD)
    form.get_by_role("button", name="Log in").click()
    if secret is not None:
        tab.page.get_by_role("heading", name="Two-factor authentication").wait_for()
        tab.page.locator("main").get_by_label("Code").fill(code_from(secret))
        tab.page.get_by_role("button", name="Verify").click()
    tab.page.wait_for_url(lambda url: "/accounts/login/" not in url and "/two-factor/verify/" not in url)


def open_person_menu(tab: BrowserPage, entry: str) -> None:
    menu = tab.page.get_by_role("navigation", name="Your account")
    menu.locator("summary").click()
    menu.get_by_role("link", name=entry).click()
    tab.page.wait_for_load_state()


def open_enterprise_menu(tab: BrowserPage, enterprise: str, entry: str) -> None:
    tab.page.get_by_role("navigation", name=f"e-Box of {enterprise}").get_by_role("link", name=entry).click()
    tab.page.wait_for_load_state()


def message_row(tab: BrowserPage, subject: str):
    return tab.page.locator("table.messages tbody tr", has_text=subject)


def preview_loaded(tab: BrowserPage) -> bool:
    """Chromium's PDF viewer runs in the preview frame (and no frame is Chromium's error page)."""
    frames = [frame.url for frame in tab.page.frames]
    assert not any(url.startswith("chrome-error://") for url in frames), frames
    return any(url.startswith("chrome-extension://") for url in frames)


# --- (a) ---------------------------------------------------------------------------------------------


def test_sign_up_register_and_read_a_document_published_through_the_api(gunicorn_server, open_page):
    outbox.clear()
    institution()
    sender = webservice_client(ONSS, scopes.PUBLICATION_SENDER)
    cbe = make_cbe(4_567_891)
    tab = open_page(gunicorn_server, name="Nora (new principal)")

    # Sign up from the sign-in page, confirm the address from the mail; then log out and in again.
    tab.go("/")
    assert tab.path().startswith("/accounts/login/")
    tab.page.get_by_role("link", name="No account yet? Sign up").click()
    sign_up(tab, "nora@bakery.example", "Nora Peeters")
    assert "You have no access to an e-Box yet." in tab.text()
    tab.page.get_by_role("navigation", name="Your account").locator("summary").click()
    tab.page.get_by_role("button", name="Log out").click()
    tab.page.wait_for_load_state()
    log_in(tab, "nora@bakery.example")
    assert "You have no access to an e-Box yet." in tab.text()

    # Register the enterprise by its CBE number, from the person's menu.
    open_person_menu(tab, "Register an enterprise")
    form = tab.page.locator("main")
    form.get_by_label("Enterprise number (CBE)").fill(cbe)
    form.get_by_label("Name of the enterprise").fill("Bakery Peeters")
    form.get_by_label("Language of the enterprise").select_option("nl")
    form.get_by_role("button", name="Register").click()

    # Its principal access manager must set up two-factor authentication before anything else.
    tab.page.get_by_role("heading", name="Set up two-factor authentication").wait_for()
    assert "Two-factor authentication is compulsory for access managers." in tab.text()
    assert "Bakery Peeters is registered and its e-Box is open." in tab.page.content()
    tab.page.locator("main").get_by_label("Code shown by the app").fill(
        code_from(tab.page.locator("#totp-secret").inner_text())
    )
    tab.page.get_by_role("button", name="Confirm").click()
    tab.page.get_by_role("heading", name="Your recovery codes").wait_for()
    assert tab.page.locator("ul.codes li").count() == 10
    tab.page.get_by_role("link", name="I have kept them").click()
    tab.page.wait_for_load_state()
    assert tab.path() == f"/e/{cbe}/"
    assert "No message." in tab.text()

    # ONSS publishes through the REST API; the document appears in the list, unread.
    sender_token = token_for(gunicorn_server, sender)
    pdf = simple_pdf(["Attestation de regularite", "Bakery Peeters"])
    message_id = publish_over_http(
        gunicorn_server,
        sender_token,
        cbe,
        {"fr": "Attestation de régularité", "en": "Certificate of good standing"},
        pdf,
    )
    tab.page.reload()
    row = message_row(tab, "Certificate of good standing")
    assert "Unread" in row.inner_text() and "NSSO" in row.inner_text()
    consumer = webservice_client(cbe, scopes.MESSAGES_FULL)  # the enterprise's accounting software
    consumer_token = token_for(gunicorn_server, consumer)
    assert read_status(gunicorn_server, consumer_token, message_id) is False

    # Open it: the main PDF is previewed, which reads it.
    row.get_by_role("link", name="Certificate of good standing").click()
    tab.page.wait_for_url(f"**/e/{cbe}/m/{message_id}/")
    tab.until(lambda: preview_loaded(tab), "Chromium's PDF viewer in the preview frame")
    tab.until(lambda: read_status(gunicorn_server, consumer_token, message_id), "readStatus true in the API")
    tab.page.reload()
    assert "Read on " in tab.text()
    open_enterprise_menu(tab, "Bakery Peeters", "Messages")
    assert "Unread" not in message_row(tab, "Certificate of good standing").inner_text()
    assert "Read" in message_row(tab, "Certificate of good standing").inner_text()


# --- (c) ---------------------------------------------------------------------------------------------


def test_an_invited_accountant_reads_and_downloads_but_manages_nothing(gunicorn_server, open_page):
    outbox.clear()
    institution()
    enterprise = register_enterprise(make_cbe(2_000_001), "Alpha SRL", ACTOR, language="en").enterprise
    manager = make_person("alice@alpha.example", password=PASSWORD, full_name="Alice")
    set_role_by_operator(enterprise, manager, Role.MANAGER, actor=ACTOR)
    device = ensure_authenticator(manager, secrets.token_hex(20), ACTOR)  # her phone's app
    pdf = simple_pdf(["Avis de paiement", "Alpha SRL", "1.842,17 EUR"])
    sender_token = token_for(gunicorn_server, webservice_client(ONSS, scopes.PUBLICATION_SENDER))
    publish_over_http(gunicorn_server, sender_token, enterprise.cbe, {"en": "Payment notice Q3"}, pdf)

    # The access manager invites the accountant from "People and roles".
    alice = open_page(gunicorn_server, name="Alice (access manager)")
    log_in(alice, "alice@alpha.example", secret=secret_text(device))
    assert alice.path() == f"/e/{enterprise.cbe}/"
    open_enterprise_menu(alice, "Alpha SRL", "People and roles")
    form = alice.page.locator("main form", has=alice.page.get_by_role("button", name="Send the invitation"))
    form.get_by_label("E-mail address").fill("sophie@fidu.example")
    form.get_by_label("Role").select_option("accountant")
    form.get_by_role("button", name="Send the invitation").click()
    alice.page.get_by_text("The invitation is sent to sophie@fidu.example.").wait_for()

    # The accountant follows the e-mailed link, signs up with that address, and accepts.
    mails = outbox.mails(to="sophie@fidu.example")
    assert len(mails) == 1 and "as Accountant" in mails[0].body
    sophie = open_page(gunicorn_server, name="Sophie (accountant)")
    sophie.go(outbox.link_in(mails[0], "/accounts/invitations/"))
    assert "alice@alpha.example invites you to the e-Box of Alpha SRL as Accountant." in sophie.text()
    sophie.page.locator("main").get_by_role("link", name="Sign up").click()
    sophie.page.wait_for_load_state()
    assert sophie.page.locator("main").get_by_label("E-mail address").input_value() == "sophie@fidu.example"
    sign_up(sophie, "sophie@fidu.example", "Sophie Lebrun")
    assert sophie.path() == "/accounts/invitations/accept/"
    sophie.page.get_by_role("button", name="Accept the invitation").click()
    sophie.page.get_by_text("You now have access to Alpha SRL as Accountant.").wait_for()

    # She reads the mailbox and downloads the document: the very bytes published.
    assert sophie.path() == f"/e/{enterprise.cbe}/"
    menu = sophie.page.get_by_role("navigation", name="e-Box of Alpha SRL")
    assert [link.inner_text() for link in menu.get_by_role("link").all()] == ["Messages"]
    assert sophie.page.get_by_role("button", name="Hide").count() == 0  # no bulk actions
    assert sophie.page.locator("table.messages input[type=checkbox]").count() == 0
    message_row(sophie, "Payment notice Q3").get_by_role("link").click()
    sophie.page.wait_for_load_state()
    with sophie.page.expect_download() as download:
        sophie.page.get_by_role("link", name="Download attestation.pdf").first.click()
    assert download.value.suggested_filename == "attestation.pdf"
    assert Path(download.value.path()).read_bytes() == pdf

    # She may not hide it: no button, and the server refuses a forged request.
    assert sophie.page.get_by_role("button", name="Hide this message").count() == 0
    message_id = sophie.path().rstrip("/").rsplit("/", 1)[-1]
    refused = sophie.post(f"/e/{enterprise.cbe}/visibility/", {"message": message_id, "action": "hide"})
    assert refused.status == 403
    # Nor open the e-Box management page: not in her menu, and a 403 page if she types its address.
    sophie.go(f"/e/{enterprise.cbe}/management/", status=403)
    assert "Your role does not allow this page" in sophie.text()

    # Alice still sees the message visible, and the accountant in the enterprise's people.
    alice.go(f"/e/{enterprise.cbe}/")
    assert "Hidden" not in message_row(alice, "Payment notice Q3").inner_text()
    open_enterprise_menu(alice, "Alpha SRL", "People and roles")
    people = alice.page.locator("main table").first
    assert "sophie@fidu.example" in people.inner_text() and "Accountant" in people.inner_text()
