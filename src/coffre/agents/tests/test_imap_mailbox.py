"""The IMAP mailbox agent against a real Dovecot (``coffre.testing.imap``), at the SDK level: what it
takes, what it marks, and each error it turns into a status."""

import itertools
import logging
import secrets
import socket
import threading
from email.message import EmailMessage

import pytest

from coffre.agents.providers.imap_mailbox import KEYWORD, ImapMailboxAgent
from coffre.agents.providers.pem import one_line
from coffre.agents.sdk import LoginFailed, UserAction, UserActionNeeded, VendorDown
from coffre.testing.imap import Dovecot
from coffre.testing.live import free_port

PDF = b"%PDF-1.4\n% facture\n%%EOF\n"
PDF_2 = b"%PDF-1.4\n% releve\n%%EOF\n"
PROGRAM = b"MZ\x90\x00" + b"\x00" * 60
_users = itertools.count(1)


@pytest.fixture(scope="module")
def dovecot():
    with Dovecot() as server:
        yield server


@pytest.fixture
def user(dovecot) -> str:
    return f"compta{next(_users)}-{secrets.token_hex(3)}@client.example"


def credentials(dovecot, user, *, security="starttls", **changes) -> dict:
    values = {
        "host": "127.0.0.1",
        "port": str(dovecot.imaps_port if security == "tls" else dovecot.imap_port),
        "security": security,
        "username": user,
        "password": dovecot.password,
        "folder": "Factures",
        "ca_certificate": one_line(dovecot.ca_pem),  # as a one-line credential field keeps it
    }
    values.update(changes)
    return values


def mail(subject: str, *attachments: tuple[str, bytes], body: str = "Bonjour,\nveuillez trouver ci-joint.") -> bytes:
    message = EmailMessage()
    message["From"] = "Fournisseur SA <factures@fournisseur.example>"
    message["To"] = "compta@client.example"
    message["Subject"] = subject
    message["Message-ID"] = f"<{secrets.token_hex(8)}@fournisseur.example>"
    message.set_content(body)
    for file_name, content in attachments:
        maintype, subtype = ("application", "pdf") if file_name.endswith(".pdf") else ("application", "octet-stream")
        message.add_attachment(content, maintype=maintype, subtype=subtype, filename=file_name)
    return message.as_bytes()


def pull(agent, values: dict, cursor: str = "", known: set | None = None, fail_on: str = ""):
    """What the sync engine does (skip known ids, keep the last cursor); ``fail_on``: the filing of
    that subject fails, which ends the sync there as an engine's error would."""
    known = set() if known is None else known
    taken = []
    with agent.open_session(values) as session:
        for remote in agent.list_documents(session, cursor):
            if remote.remote_id not in known:
                fetched = agent.download(session, remote)
                if fetched.subject == fail_on:
                    raise RuntimeError("the filing failed")
                taken.append((remote, fetched))
                known.add(remote.remote_id)
            cursor = remote.cursor
    return taken, cursor


def flags(dovecot, user, folder="Factures") -> dict[str, set]:
    client = dovecot.client(user, dovecot.password)
    try:
        client.select_folder(folder, readonly=True)
        found = client.fetch(client.search(["ALL"]), ["FLAGS", "ENVELOPE"])
        return {
            data[b"ENVELOPE"].subject.decode(): {flag.decode() for flag in data[b"FLAGS"]} for data in found.values()
        }
    finally:
        client.logout()


def test_the_attachments_of_each_mail_are_taken_and_marked(dovecot, user, caplog):
    caplog.set_level(logging.DEBUG)
    dovecot.append(
        user,
        dovecot.password,
        "Factures",
        mail("Facture 1", ("facture-1.pdf", PDF)),
        mail("Sans pièce jointe", body="Votre abonnement est renouvelé."),
        mail("Deux documents", ("facture-2.pdf", PDF_2), ("annexe.pdf", PDF)),
    )
    taken, cursor = pull(ImapMailboxAgent(), credentials(dovecot, user))

    assert [fetched.subject for _remote, fetched in taken] == ["Facture 1", "Sans pièce jointe", "Deux documents"]
    assert [[(item.file_name, item.content) for item in fetched.files] for _remote, fetched in taken[::2]] == [
        [("facture-1.pdf", PDF)],
        [("facture-2.pdf", PDF_2), ("annexe.pdf", PDF)],
    ]
    body = taken[1][1].files[0]
    assert body.media_type.startswith("text/plain") and "Votre abonnement est renouvelé." in body.content.decode()
    first = taken[0][1]
    assert (first.sender_name, first.sender_id) == ("Fournisseur SA", "factures@fournisseur.example")
    assert first.issued_at is not None and first.issued_at.tzinfo is not None
    validity = taken[0][0].remote_id.split(":")[0]
    assert [remote.remote_id for remote, _fetched in taken] == [f"{validity}:1", f"{validity}:2", f"{validity}:3"]
    assert cursor == f"{validity}:3"

    marks = flags(dovecot, user)
    assert all(KEYWORD in found for found in marks.values())
    assert not any("\\Seen" in found for found in marks.values())  # the person's read state is theirs
    assert dovecot.password not in caplog.text


def test_only_new_mails_come_next_time_and_a_new_connection_takes_nothing_twice(dovecot, user):
    dovecot.append(user, dovecot.password, "Factures", mail("Facture 1", ("facture-1.pdf", PDF)))
    agent, values, known = ImapMailboxAgent(), credentials(dovecot, user, security="tls"), set()
    _taken, cursor = pull(agent, values, "", known)

    dovecot.append(user, dovecot.password, "Factures", mail("Facture 2", ("facture-2.pdf", PDF_2)))
    taken, cursor = pull(agent, values, cursor, known)
    assert [fetched.subject for _remote, fetched in taken] == ["Facture 2"]
    assert pull(agent, values, cursor, known)[0] == []

    # The same mailbox added again (no cursor, no known ids): the marked mails are not taken again.
    assert pull(agent, values, "", set())[0] == []


def test_a_sync_stopped_before_filing_leaves_that_mail_unmarked_and_takes_it_next_time(dovecot, user):
    dovecot.append(
        user,
        dovecot.password,
        "Factures",
        mail("Facture 1", ("facture-1.pdf", PDF)),
        mail("Facture 2", ("facture-2.pdf", PDF_2)),
        mail("Facture 3", ("facture-3.pdf", PDF)),
    )
    agent, values, known = ImapMailboxAgent(), credentials(dovecot, user), set()
    with pytest.raises(RuntimeError):
        pull(agent, values, "", known, fail_on="Facture 2")
    marks = flags(dovecot, user)
    assert KEYWORD in marks["Facture 1"] and KEYWORD not in marks["Facture 2"] | marks["Facture 3"]

    validity = next(iter(known)).split(":")[0]
    taken, _cursor = pull(agent, values, f"{validity}:1", known)
    assert [fetched.subject for _remote, fetched in taken] == ["Facture 2", "Facture 3"]
    assert all(KEYWORD in found for found in flags(dovecot, user).values())


def test_a_mail_of_refused_files_only_is_marked_and_not_listed(dovecot, user):
    dovecot.append(
        user,
        dovecot.password,
        "Factures",
        mail("Programme", ("setup.exe", PROGRAM)),
        mail("Facture", ("facture.pdf", PDF)),
    )
    taken, _cursor = pull(ImapMailboxAgent(), credentials(dovecot, user))
    assert [fetched.subject for _remote, fetched in taken] == ["Facture"]
    assert KEYWORD in flags(dovecot, user)["Programme"]


def test_a_wrong_password_is_a_failed_login_that_never_shows_it(dovecot, user, caplog):
    caplog.set_level(logging.DEBUG)
    wrong = "Wr0ng-" + secrets.token_hex(8)
    with pytest.raises(LoginFailed) as refused:
        with ImapMailboxAgent().open_session(credentials(dovecot, user, password=wrong)):
            pass
    assert user in refused.value.message and "refused the login" in refused.value.message
    assert wrong not in refused.value.message and wrong not in caplog.text


def test_an_untrusted_certificate_is_a_failed_login(dovecot, user):
    with pytest.raises(LoginFailed, match="not trusted"):
        with ImapMailboxAgent().open_session(credentials(dovecot, user, security="tls", ca_certificate="")):
            pass


def test_a_missing_folder_asks_the_person(dovecot, user):
    with pytest.raises(UserActionNeeded) as missing:
        with ImapMailboxAgent().open_session(credentials(dovecot, user, folder="Disparu")):
            pass
    assert missing.value.action == UserAction.CONTACT_PROVIDER
    assert "'Disparu' does not exist" in missing.value.message


def test_a_server_that_refuses_the_connection_is_down(dovecot, user):
    port = free_port()
    with pytest.raises(VendorDown, match=f"127.0.0.1:{port}"):
        with ImapMailboxAgent().open_session(credentials(dovecot, user, port=str(port))):
            pass


def test_a_server_that_never_answers_is_down(dovecot, user, settings):
    settings.COFFRE_IMAP_TIMEOUT = 1.0
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)
    accepted = []
    waiter = threading.Thread(target=lambda: accepted.append(silent.accept()), daemon=True)
    waiter.start()
    try:
        with pytest.raises(VendorDown, match="did not answer"):
            with ImapMailboxAgent().open_session(
                credentials(dovecot, user, security="tls", port=str(silent.getsockname()[1]))
            ):
                pass
    finally:
        waiter.join(timeout=5)
        for connection, _address in accepted:
            connection.close()
        silent.close()


def test_settings_that_cannot_work_are_a_failed_login(dovecot, user):
    for changes in ({"security": "plain"}, {"port": "99999"}, {"ca_certificate": "-----BEGIN CERTIFICATE----- ???"}):
        with pytest.raises(LoginFailed):
            with ImapMailboxAgent().open_session(credentials(dovecot, user, **changes)):
                pass
