"""Appending to the audit trail and verifying it.

``record`` must be called inside the transaction of the state change it describes, so that the
change and its record commit together or not at all. It never stores a secret: callers pass the
SHA-256 of an access token, never the token.

Every API call writes a record, so ``record`` is three statements built once per process
(``coffre.core.rows``): read and lock the head, insert the record, move the head. The ORM's
get_or_create, bulk_create and update took half a millisecond more, inside the transaction.
"""

import datetime
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.utils import timezone

from coffre.audit.models import AuditHead, AuditRecord
from coffre.core import rows

GENESIS = "0" * 64


@dataclass(frozen=True)
class Actor:
    """Who does something: carried from the entry point (API, CLI, task) to the services."""

    kind: str  # "api", "cli", "system", "web"
    name: str = ""  # client id, username or task name
    token_sha256: str = ""
    method: str = ""
    url: str = ""

    @classmethod
    def cli(cls, command: str) -> "Actor":
        return cls(kind="cli", name=command)

    @classmethod
    def system(cls, task: str) -> "Actor":
        return cls(kind="system", name=task)


@dataclass
class Problem:
    seq: int
    kind: str  # "changed", "removed", "reordered", "head"
    detail: str


@dataclass
class Verification:
    checked: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _canonical(record: AuditRecord) -> bytes:
    fields = {
        "seq": record.seq,
        "timestamp": record.timestamp.astimezone(datetime.UTC).isoformat(timespec="microseconds"),
        "actor_kind": record.actor_kind,
        "actor": record.actor,
        "token_sha256": record.token_sha256,
        "action": record.action,
        "method": record.method,
        "url": record.url,
        "status": record.status,
        "details": record.details,
        "prev_hash": record.prev_hash,
    }
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def compute_hash(record: AuditRecord) -> str:
    return hashlib.sha256(_canonical(record)).hexdigest()


def _json_safe(value):
    """Round-trip through JSON now, so that the hash covers exactly what the database keeps."""
    return json.loads(json.dumps(value, default=str))


_HEAD_FIELDS = (None, rows.field(AuditHead, "hash"))
_MOVE_HEAD = 'UPDATE "audit_audithead" SET "seq" = %s, "hash" = %s WHERE "id" = 1'


def _locked_head() -> tuple[int, str]:
    """(seq, hash) of the end of the chain, its row locked until the transaction ends (on
    SQLite the transaction already holds the database's write lock)."""
    sql = 'SELECT "seq", "hash" FROM "audit_audithead" WHERE "id" = 1'
    if connection.features.has_select_for_update:
        sql += " FOR UPDATE"
    head = rows.fetch_one(sql, [], _HEAD_FIELDS)
    if head is None:  # the very first record
        created, _ = AuditHead.objects.select_for_update().get_or_create(pk=1, defaults={"hash": GENESIS})
        head = (created.seq, created.hash)
    return head


def record(actor: Actor, action: str, *, status: int | None = None, details: dict | None = None) -> AuditRecord:
    """Append one record; call it inside the transaction of the change it describes."""
    # No savepoint of its own: a record that fails fails the caller's transaction with it.
    with transaction.atomic(savepoint=False):
        head_seq, head_hash = _locked_head()
        entry = AuditRecord(
            seq=head_seq + 1,
            timestamp=timezone.now(),
            actor_kind=actor.kind,
            actor=actor.name,
            token_sha256=actor.token_sha256,
            action=action,
            method=actor.method,
            url=actor.url,
            status=status,
            details=_json_safe(details or {}),
            prev_hash=head_hash,
        )
        # Microseconds are what the database keeps; the hash must cover the stored value.
        entry.hash = compute_hash(entry)
        rows.insert([entry])
        with connection.cursor() as cursor:
            cursor.execute(_MOVE_HEAD, [entry.seq, entry.hash])
    return entry


def _records() -> Iterator[AuditRecord]:
    return AuditRecord.objects.order_by("seq").iterator(chunk_size=2000)


def verify_chain() -> Verification:
    """Check every record against its hash and its predecessor, and the head against the last.

    A changed record fails its own hash; a removed one leaves a gap in ``seq`` and breaks the next
    record's ``prev_hash``; reordered records (sequence numbers swapped) break the links.
    """
    result = Verification()
    expected_seq, prev_hash = 1, GENESIS
    for entry in _records():
        result.checked += 1
        if entry.seq != expected_seq:
            result.problems.append(
                Problem(expected_seq, "removed", f"records {expected_seq}..{entry.seq - 1} are missing")
            )
        if compute_hash(entry) != entry.hash:
            result.problems.append(Problem(entry.seq, "changed", "the record does not match its hash"))
        if entry.prev_hash != prev_hash:
            kind = "removed" if entry.seq != expected_seq else "reordered"
            result.problems.append(Problem(entry.seq, kind, "the link to the previous record is broken"))
        expected_seq, prev_hash = entry.seq + 1, entry.hash
    head = AuditHead.objects.filter(pk=1).first()
    head_seq, head_hash = (head.seq, head.hash) if head else (0, GENESIS)
    if (head_seq, head_hash) != (expected_seq - 1, prev_hash):
        result.problems.append(
            Problem(head_seq, "head", f"the chain ends at #{expected_seq - 1} but its head names #{head_seq}")
        )
    return result
