"""Real HTTP: a server killed in the middle of an upload loses nothing accepted and leaves
nothing visible; its leftovers go with the cleanup task. Large content round-trips intact."""

import hashlib
import http.client
import json
import os
import signal
import socket
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from coffre.accounts.services import register_enterprise
from coffre.audit.services import Actor
from coffre.mailbox import orphans, reference
from coffre.mailbox.models import Blob, Message
from coffre.oauth import scopes
from coffre.oauth import services as oauth_services
from coffre.oauth.testing import ClientCredentials, certificate_pem, issue_token, new_rsa_key
from coffre.testing.live import GunicornServer

pytestmark = pytest.mark.live
ROOT = "/REST/ebox/enterprise/messageRegistry/v2/"
SENDER, RECIPIENT = "0406798006", "0456789034"
BOUNDARY = "coffre-test-boundary"


@pytest.fixture
def tokens(transactional_db):
    actor = Actor.cli("test")
    register_enterprise(SENDER, "ONSS", actor)
    register_enterprise(RECIPIENT, "Boulangerie", actor)
    reference.set_sender_organization(SENDER, actor, short_name={"fr": "ONSS"})
    reference.set_message_type("ATTEST", actor, name={"fr": "Attestation"}, validity_number=1,
                               validity_unit="year", organizations=[SENDER])
    result = {}
    pairs = (("sender", SENDER, scopes.PUBLICATION_SENDER), ("reader", RECIPIENT, scopes.MESSAGES_FULL))
    for name, cbe, scope in pairs:
        key = new_rsa_key()
        pem = certificate_pem(key)
        client, _ = oauth_services.create_client(cbe, pem, [scope], name, actor)
        result[name] = issue_token(Client(), ClientCredentials(client, key, pem))
    return result


def multipart_head(description: dict, file_name: str) -> bytes:
    return (
        f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"messageToPublish\"\r\n"
        f"Content-Type: application/json\r\n\r\n{json.dumps(description)}\r\n"
        f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"upfile1\"; filename=\"{file_name}\"\r\n"
        f"Content-Type: application/pdf\r\n\r\n"
    ).encode()


TAIL = f"\r\n--{BOUNDARY}--\r\n".encode()
DESCRIPTION = {
    "recipient": {"eboxType": "enterprise", "eboxIdValue": RECIPIENT},
    "subject": {"fr": "Gros document"}, "messageTypeId": "ATTEST",
    "bodyMainContent": False, "replyAuthorized": False,
    "attachments": [{"httpPartName": "upfile1", "mainContent": True}],
}


def spool_files() -> list[Path]:
    return [p for p in Path(settings.FILE_UPLOAD_TEMP_DIR).iterdir() if p.name.startswith("spool-")]


def stored_files() -> list[Path]:
    root = Path(settings.STORAGES["blobs"]["OPTIONS"]["location"])
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_a_server_killed_mid_upload_leaves_nothing_visible(tokens):
    head = multipart_head(DESCRIPTION, "big.pdf")
    content = b"%PDF-1.7\n" + os.urandom(8 * 1024 * 1024)
    server = GunicornServer(workers=1, threads=2).start()
    try:
        url = urlsplit(server.url)
        sock = socket.create_connection((url.hostname, url.port))
        sock.sendall(
            f"POST {ROOT}publishMessage HTTP/1.1\r\nHost: {url.netloc}\r\n"
            f"Authorization: Bearer {tokens['sender']}\r\n"
            f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
            f"Content-Length: {len(head) + len(content) + len(TAIL)}\r\n\r\n".encode()
        )
        sock.sendall(head + content[: len(content) // 2])  # half of the document, then...
        deadline = time.monotonic() + 30
        while not spool_files() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert spool_files(), "the upload never reached the server"
        _kill_all(server)
        sock.close()
    finally:
        server.stop()

    assert not Message.objects.exists()
    assert not stored_files()
    leftover = spool_files()
    assert leftover
    assert b"%PDF" not in leftover[0].read_bytes()  # even the spool is encrypted

    with GunicornServer(workers=1, threads=2) as again:  # the restarted server shows nothing
        connection = http.client.HTTPConnection(urlsplit(again.url).hostname, urlsplit(again.url).port)
        connection.request("GET", ROOT + "ebox/messages", headers={"Authorization": f"Bearer {tokens['reader']}"})
        answer = connection.getresponse()
        assert (answer.status, json.loads(answer.read())) == (200, {"items": [], "totalItems": 0})

    orphans.cleanup_orphans(now=timezone.now() + orphans.ORPHAN_GRACE + timedelta(hours=1))
    assert not spool_files()


def _kill_all(server: GunicornServer) -> None:
    """SIGKILL the master and its workers: nothing gets to clean up."""
    children = Path(f"/proc/{server.process.pid}/task/{server.process.pid}/children").read_text().split()
    for pid in [server.process.pid, *map(int, children)]:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    server.process.wait()


def test_large_content_round_trips_over_http(tokens):
    content = b"%PDF-1.7\n" + os.urandom(12 * 1024 * 1024 + 5)
    head = multipart_head(DESCRIPTION, "large.pdf")
    with GunicornServer(workers=1, threads=2) as server:
        url = urlsplit(server.url)
        connection = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
        connection.request("POST", ROOT + "publishMessage", body=head + content + TAIL, headers={
            "Authorization": f"Bearer {tokens['sender']}",
            "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
        })
        answer = connection.getresponse()
        assert answer.status == 201, answer.read()
        message_id = json.loads(answer.read())["messageId"]
        connection.request("GET", f"{ROOT}ebox/messages/{message_id}",
                           headers={"Authorization": f"Bearer {tokens['reader']}"})
        href = json.loads(connection.getresponse().read())["attachments"]["items"][0]["contentHref"]
        connection.request("GET", urlsplit(href).path, headers={"Authorization": f"Bearer {tokens['reader']}"})
        answer = connection.getresponse()
        digest, size = hashlib.sha256(), 0
        while chunk := answer.read(256 * 1024):
            digest.update(chunk)
            size += len(chunk)
    assert (answer.status, size) == (200, len(content))
    assert digest.hexdigest() == hashlib.sha256(content).hexdigest()
    assert Blob.objects.get().size == len(content)
    assert not [f for f in stored_files() if content[:4096] in f.read_bytes()]
