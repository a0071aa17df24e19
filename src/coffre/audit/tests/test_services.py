"""The audit trail: appends chain, the database refuses rewrites, and verify finds tampering."""

import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from coffre.audit.models import AuditHead, AuditRecord
from coffre.audit.services import Actor, compute_hash, record, token_hash, verify_chain

pytestmark = pytest.mark.django_db
ACTOR = Actor(kind="api", name="client-1", token_sha256=token_hash("secret-token"), method="GET", url="/x")


@pytest.fixture
def chain():
    return [record(ACTOR, "getMessageById", status=200, details={"messageId": f"m{i}", "size": 1.5})
            for i in range(5)]


def attacker_sql(*statements):
    """Someone with direct access to the database: drops the guards, then rewrites history."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("DROP TRIGGER audit_record_no_update")
            cursor.execute("DROP TRIGGER audit_record_no_delete")
        else:
            cursor.execute("ALTER TABLE audit_auditrecord DISABLE TRIGGER audit_record_append_only")
        for statement in statements:
            cursor.execute(statement)


def test_records_are_chained(chain):
    assert [entry.seq for entry in chain] == [1, 2, 3, 4, 5]
    assert chain[0].prev_hash == "0" * 64
    assert all(later.prev_hash == earlier.hash for earlier, later in zip(chain, chain[1:]))
    assert AuditHead.objects.get().hash == chain[-1].hash
    stored = AuditRecord.objects.get(seq=3)
    assert compute_hash(stored) == stored.hash  # the hash covers exactly what is stored
    assert "secret-token" not in json.dumps([stored.details, stored.token_sha256])


def test_an_intact_chain_verifies(chain):
    result = verify_chain()
    assert result.ok and result.checked == 5


@pytest.mark.parametrize("statement", [
    "UPDATE audit_auditrecord SET status = 500 WHERE seq = 3",
    "DELETE FROM audit_auditrecord WHERE seq = 3",
])
def test_the_database_refuses_rewrites(chain, statement):
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)
    assert verify_chain().ok


def test_a_changed_record_is_found(chain):
    attacker_sql("UPDATE audit_auditrecord SET status = 404 WHERE seq = 3")
    problems = verify_chain().problems
    assert [(p.seq, p.kind) for p in problems] == [(3, "changed")]


def test_a_removed_record_is_found(chain):
    attacker_sql("DELETE FROM audit_auditrecord WHERE seq = 3")
    kinds = {(p.seq, p.kind) for p in verify_chain().problems}
    assert (3, "removed") in kinds


def test_the_last_record_removed_is_found_by_the_head(chain):
    attacker_sql("DELETE FROM audit_auditrecord WHERE seq = 5")
    assert [p.kind for p in verify_chain().problems] == ["head"]


def test_reordered_records_are_found(chain):
    attacker_sql(
        "UPDATE audit_auditrecord SET seq = 100 WHERE seq = 2",
        "UPDATE audit_auditrecord SET seq = 2 WHERE seq = 3",
        "UPDATE audit_auditrecord SET seq = 3 WHERE seq = 100",
    )
    result = verify_chain()
    assert not result.ok
    assert {p.seq for p in result.problems} & {2, 3}


def test_verify_command(chain):
    out = io.StringIO()
    call_command("audit", "verify", stdout=out)
    assert "intact: 5 records" in out.getvalue()
    attacker_sql("UPDATE audit_auditrecord SET details = '{}' WHERE seq = 2")
    out = io.StringIO()
    with pytest.raises(CommandError) as failure:
        call_command("audit", "verify", "--json", stdout=out)
    assert failure.value.returncode == 2
    report = json.loads(out.getvalue())
    assert report["ok"] is False and report["problems"][0]["seq"] == 2


def test_tail_command(chain):
    out = io.StringIO()
    call_command("audit", "tail", "-n", "2", "--json", stdout=out)
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [row["seq"] for row in rows] == [4, 5]
