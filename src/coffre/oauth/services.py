"""Every change to webservice clients, tokens and used assertions.

Each function is atomic and writes its audit record in the same transaction. Nothing here ever
receives or records a client assertion; access tokens reach ``save_access_token`` only to be
hashed, and only their SHA-256 is stored and audited.
"""

import datetime
import secrets
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from coffre.accounts.models import Enterprise
from coffre.audit.services import Actor, record, token_hash
from coffre.core.cbe import InvalidCBE, normalize_cbe
from coffre.oauth.certificates import parse_certificate
from coffre.oauth.errors import (
    CertificateError,
    ClientError,
    RevokedClientCertificate,
    UnknownClient,
    UnknownEnterprise,
)
from coffre.oauth.models import AccessToken, UsedAssertion, WebserviceClient
from coffre.oauth.scopes import UnknownScope, parse_scopes

CLIENT_ID_PREFIX = "coffre-"
_CLIENT_ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"  # base32, lower case: readable, 5 bits a char
_CLIENT_ID_LENGTH = 20  # 100 random bits
# Expired tokens are kept a little while so that introspection answers "inactive" for a known
# token and an operator can still see what a recent token was; after that they are only noise.
EXPIRED_TOKEN_RETENTION = datetime.timedelta(days=1)
# Never store a claimed client id of arbitrary length from an unauthenticated request.
_CLAIMED_ID_MAX = 100


def new_client_id() -> str:
    return CLIENT_ID_PREFIX + "".join(secrets.choice(_CLIENT_ID_ALPHABET) for _ in range(_CLIENT_ID_LENGTH))


def _enterprise(cbe: str) -> Enterprise:
    try:
        number = normalize_cbe(cbe, lenient=True)
    except InvalidCBE as exc:
        raise UnknownEnterprise(str(exc)) from None
    try:
        return Enterprise.objects.get(cbe=number)
    except Enterprise.DoesNotExist:
        raise UnknownEnterprise(
            f"no enterprise with CBE number {number} (register the enterprise first)"
        ) from None


def _client_summary(client: WebserviceClient) -> dict:
    return {
        "client_id": client.client_id,
        "enterprise": client.enterprise.cbe,
        "name": client.name,
        "scopes": list(client.scopes),
        "certificate_sha256": client.certificate_sha256,
    }


@transaction.atomic
def create_client(
    enterprise_cbe: str, certificate_pem: bytes | str, scopes, name: str, actor: Actor
) -> tuple[WebserviceClient, bool]:
    """Register a webservice client of an enterprise, or return the one that has this certificate.

    Idempotent: the same enterprise and certificate give back the existing client (``created`` is
    False), with its scopes (and name, when one is given) brought up to date and audited. A
    certificate of a revoked client is refused: its key may be the reason for the revocation.
    """
    enterprise = _enterprise(enterprise_cbe)
    certificate = parse_certificate(certificate_pem)
    if certificate.not_after < timezone.now():
        raise CertificateError(f"the certificate expired on {certificate.not_after:%Y-%m-%d %H:%M} UTC")
    try:
        wanted_scopes = parse_scopes(scopes)
    except UnknownScope as exc:
        raise ClientError(str(exc)) from None
    if not wanted_scopes:
        raise ClientError("give at least one scope")
    name = (name or "").strip()

    existing = (
        WebserviceClient.objects.select_for_update()
        .select_related("enterprise")
        .filter(enterprise=enterprise, certificate_sha256=certificate.sha256)
        .first()
    )
    if existing is None:
        client = WebserviceClient(
            client_id=new_client_id(),
            enterprise=enterprise,
            name=name,
            certificate_pem=certificate.pem,
            certificate_sha256=certificate.sha256,
            scopes=wanted_scopes,
        )
        try:
            with transaction.atomic():
                client.save()
        except IntegrityError:
            # Registered meanwhile by a concurrent call with the same certificate.
            existing = WebserviceClient.objects.select_for_update().get(
                enterprise=enterprise, certificate_sha256=certificate.sha256
            )
        else:
            record(actor, "oauth.client.create", details=_client_summary(client))
            return client, True

    if not existing.active:
        raise RevokedClientCertificate(
            f"this certificate belongs to the revoked client {existing.client_id}: register a new certificate"
        )
    changes = {}
    if existing.scopes != wanted_scopes:
        changes["scopes"] = {"before": list(existing.scopes), "after": wanted_scopes}
        existing.scopes = wanted_scopes
    if name and existing.name != name:
        changes["name"] = {"before": existing.name, "after": name}
        existing.name = name
    if changes:
        existing.save(update_fields=[field for field in ("scopes", "name") if field in changes])
        record(actor, "oauth.client.update", details={"client_id": existing.client_id, **changes})
    return existing, False


@transaction.atomic
def revoke_client(client_id: str, actor: Actor) -> WebserviceClient:
    """Deactivate a client for good and revoke its tokens. Revoking twice changes nothing."""
    try:
        client = (
            WebserviceClient.objects.select_for_update().select_related("enterprise").get(client_id=client_id)
        )
    except WebserviceClient.DoesNotExist:
        raise UnknownClient(f"no webservice client {client_id!r}") from None
    was_active = client.active
    if was_active:
        client.active = False
        client.save(update_fields=["active"])
    revoked_tokens = AccessToken.objects.filter(client=client, revoked=False).update(revoked=True)
    if was_active or revoked_tokens:
        record(
            actor,
            "oauth.client.revoke",
            details={
                "client_id": client.client_id,
                "enterprise": client.enterprise.cbe,
                "tokens_revoked": revoked_tokens,
            },
        )
    return client


def consume_assertion(client: WebserviceClient, jti: str, usable_until: datetime.datetime) -> bool:
    """Mark an assertion's ``jti`` as used; False when it was used before (a replay).

    ``usable_until`` is the last moment the assertion could pass its ``exp`` check (leeway
    included): the mark must outlive it, and ``purge_expired`` removes it afterwards.
    """
    try:
        with transaction.atomic():
            UsedAssertion.objects.create(client=client, jti=jti, expires_at=usable_until)
    except IntegrityError:
        return False
    return True


@transaction.atomic
def save_access_token(
    client: WebserviceClient, access_token: str, scopes: list[str], lifetime: int, url: str = ""
) -> AccessToken:
    """Keep the SHA-256 of a token just issued to ``client`` and audit the issuance."""
    issued_at = timezone.now()
    digest = token_hash(access_token)
    token = AccessToken.objects.create(
        token_sha256=digest,
        client=client,
        scopes=list(scopes),
        issued_at=issued_at,
        expires_at=issued_at + datetime.timedelta(seconds=lifetime),
    )
    record(
        Actor(kind="api", name=client.client_id, method="POST", url=url),
        "oauth.token",
        status=200,
        details={"scopes": list(scopes), "token_sha256": digest, "expires_at": token.expires_at.isoformat()},
    )
    return token


@transaction.atomic
def record_token_refusal(
    *, status: int, error: str, reason: str, client_id: str = "", claimed_client_id: str = "", url: str = ""
) -> None:
    """Audit a refused token request: who (if known), the answer, and why. Never the assertion.

    ``client_id`` is set only when the client did authenticate (the refusal came later, e.g. a
    scope it does not have); ``claimed_client_id`` is the unverified ``sub`` of the assertion.
    """
    details = {"error": error, "reason": reason}
    if claimed_client_id and claimed_client_id != client_id:
        details["claimed_client_id"] = claimed_client_id[:_CLAIMED_ID_MAX]
    record(
        Actor(kind="api", name=client_id, method="POST", url=url),
        "oauth.token",
        status=status,
        details=details,
    )


@transaction.atomic
def record_introspection(*, client_id: str, token_sha256: str, active: bool, url: str = "") -> None:
    """Audit a successful introspection call (a read: failed ones are not recorded)."""
    record(
        Actor(kind="api", name=client_id, method="POST", url=url),
        "oauth.introspect",
        status=200,
        details={"token_sha256": token_sha256, "active": active},
    )


@dataclass(frozen=True)
class PurgeResult:
    assertions: int
    tokens: int


@transaction.atomic
def purge_expired(now: datetime.datetime) -> PurgeResult:
    """Forget used assertions that can no longer be replayed, and tokens long expired."""
    assertions, _ = UsedAssertion.objects.filter(expires_at__lt=now).delete()
    tokens, _ = AccessToken.objects.filter(expires_at__lt=now - EXPIRED_TOKEN_RETENTION).delete()
    result = PurgeResult(assertions=assertions, tokens=tokens)
    if assertions or tokens:
        record(
            Actor.system("oauth.purge_expired"),
            "oauth.purge",
            details={"assertions": assertions, "tokens": tokens},
        )
    return result
