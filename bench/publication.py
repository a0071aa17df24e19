"""Phase "publication": publication throughput beside the bare upload endpoint.

On a fresh database (var/bench/publication/): one sender institution with its application and
message type, ``RECIPIENTS`` recipient enterprises, a webservice client of the sender whose
token comes from the real token endpoint (private_key_jwt). The production server is started
once; the load generator then sends the same kind of request (one 100 kB PDF with its digest)
first to the bare endpoint, then to ``publishMessage``, with the same number of connections.
Afterwards the database must hold every message answered 201: a publication that was not stored
is not counted as one.
"""

import datetime as dt
import json
import time
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

from common import API_ROOT, Server, busy_cpu_seconds, latency_summary, log, run_loadgen

SENDER = "0406798006"
RECIPIENTS = 200
PDF_BYTES = 100 * 1024
MARKER = "BENCHCOUNTER0000"


def _pdf_template(path: Path) -> None:
    """A real one-page PDF of 100 kB whose text holds ``MARKER`` (replaced per message)."""
    from coffre.demo.pdf import simple_pdf

    lines = ["Office national de securite sociale", f"Reference {MARKER}"]
    number = 0
    while len(simple_pdf(lines)) < PDF_BYTES:
        number += 1
        lines.append(f"Ligne {number:05d}: cotisations trimestrielles, montant 1.842,17 EUR, echeance 31/01")
    pdf = simple_pdf(lines)
    path.write_bytes(pdf)


def _setup(var_dir: Path):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    from coffre.accounts.services import register_enterprise
    from coffre.audit.services import Actor
    from coffre.core.cbe import make_cbe
    from coffre.mailbox import reference
    from coffre.oauth import scopes
    from coffre.oauth import services as oauth_services

    actor = Actor.cli("bench")
    register_enterprise(SENDER, "Office national de securite sociale", actor)
    recipients = [make_cbe(5_000_000 + number) for number in range(RECIPIENTS)]
    for number, cbe in enumerate(recipients):
        register_enterprise(cbe, f"Entreprise {number}", actor)
    reference.set_sender_organization(SENDER, actor, short_name={"fr": "ONSS", "nl": "RSZ", "de": "LSS"})
    reference.set_sender_application("DMFA", actor, name={"fr": "DmfA"}, organizations=[SENDER])
    reference.set_message_type(
        "ATTEST",
        actor,
        name={"fr": "Attestation", "nl": "Attest"},
        validity_number=1,
        validity_unit="year",
        organizations=[SENDER],
        applications=["DMFA"],
    )
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "coffre bench sender")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    pem = certificate.public_bytes(serialization.Encoding.PEM).decode()
    client, _ = oauth_services.create_client(SENDER, pem, [scopes.PUBLICATION_SENDER], "bench sender", actor)
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return client.client_id, key_pem, recipients


def _token(server: Server, client_id: str, key_pem: bytes) -> str:
    """An access token from the real token endpoint (client credentials, private_key_jwt)."""
    from joserfc import jwt
    from joserfc.jwk import RSAKey

    with urllib.request.urlopen(server.base + "/.well-known/oauth-authorization-server") as answer:
        token_url = json.load(answer)["token_endpoint"]
    now = int(time.time())
    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": token_url,
        "iat": now,
        "exp": now + 300,
        "jti": str(uuid.uuid4()),
    }
    assertion = jwt.encode({"alg": "RS256"}, claims, RSAKey.import_key(key_pem))
    form = urllib.parse.urlencode(
        {
            "grant_type": "client_credentials",
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": assertion,
        }
    ).encode()
    with urllib.request.urlopen(urllib.request.Request(token_url, data=form)) as answer:
        return json.load(answer)["access_token"]


def _load(server: Server, plan: dict, var_dir: Path) -> dict:
    cpu_before, busy_before, wall_before = server.cpu_seconds(), busy_cpu_seconds(), time.monotonic()
    result = run_loadgen({**plan, "base": server.base}, var_dir)
    result["server_cpu_s"] = server.cpu_seconds() - cpu_before
    others = busy_cpu_seconds() - busy_before - result["server_cpu_s"] - result["client_cpu_s"]
    result["other_processes_cores"] = max(0.0, others / (time.monotonic() - wall_before))
    result["server_cpu_ms"] = result["server_cpu_s"] / max(1, result["requests_total"]) * 1000
    result["client_cpu_ms"] = result["client_cpu_s"] / max(1, result["requests_total"]) * 1000
    if result["errors"]:
        # The server's own account of them: its log without the access lines.
        lines = [line for line in server.log_path.read_text(errors="replace").splitlines()
                 if not line.startswith("127.0.0.1 - ")]
        raise SystemExit(f"publication bench: unexpected answers: {result['errors']}\n" + "\n".join(lines[-80:]))
    latencies = result.pop("latencies")
    result.update(latency_summary(latencies))
    return result


def run(var_dir: Path, connections: int, warmup_s: float, duration_s: float) -> dict:
    from coffre.mailbox.models import Attachment, Message

    client_id, key_pem, recipients = _setup(var_dir)
    pdf_path = var_dir / "bench-document.pdf"
    _pdf_template(pdf_path)
    description = {
        "subject": {"fr": "Attestation de regularite - 3e trimestre", "nl": "Attest van regelmatigheid"},
        "messageTypeId": "ATTEST",
        "senderOrganizationId": SENDER,
        "senderApplicationId": "DMFA",
        "bodyMainContent": False,
        "replyAuthorized": False,
    }
    plan = {
        "mode": "publish",
        "connections": connections,
        "warmup_s": warmup_s,
        "duration_s": duration_s,
        "pdf_path": str(pdf_path),
        "marker": MARKER,
        "description": description,
        "recipients": recipients,
    }
    with Server(var_dir, var_dir / "server.log") as server:
        token = _token(server, client_id, key_pem)
        plan["token"] = token
        log(f"publication: bare endpoint, {connections} connections, {warmup_s:g}+{duration_s:g} s")
        bare = _load(server, {**plan, "path": "/bench/bare-upload", "first_number": 0}, var_dir)
        log(f"publication: publishMessage, {connections} connections, {warmup_s:g}+{duration_s:g} s")
        publish = _load(server, {**plan, "path": API_ROOT + "publishMessage", "first_number": 10**9}, var_dir)
    stored = Message.objects.count()
    answered = publish["statuses"].get("201", 0)
    if stored < answered or Attachment.objects.count() != stored:
        raise SystemExit(f"publication bench: {answered} answers 201 but {stored} messages stored")
    return {
        "connections": connections,
        "pdf_bytes": pdf_path.stat().st_size,
        "bare": bare,
        "publish": publish,
        "stored_messages": stored,
    }
