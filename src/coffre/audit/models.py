"""The audit trail: an append-only hash chain of records.

Each record carries the hash of the previous one; ``AuditHead`` holds the last sequence number and
hash, and its row lock serialises appends. Database triggers (migration 0002) refuse UPDATE and
DELETE on records, so that even the application cannot rewrite history; ``verify_chain`` finds
what someone with direct access to the database changed, removed or reordered anyway.
"""

from django.db import models


class AuditRecord(models.Model):
    seq = models.BigIntegerField(primary_key=True)
    timestamp = models.DateTimeField()
    # Who acted: "api" (a webservice client), "cli" (an operator), "system" (a task), "web" (a person).
    actor_kind = models.CharField(max_length=10)
    actor = models.CharField(max_length=200, blank=True)  # client id, username or task name
    token_sha256 = models.CharField(max_length=64, blank=True)
    action = models.CharField(max_length=64)
    method = models.CharField(max_length=10, blank=True)
    url = models.TextField(blank=True)
    status = models.PositiveSmallIntegerField(null=True, blank=True)
    details = models.JSONField(default=dict)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["seq"]
        indexes = [models.Index(fields=["timestamp"], name="audit_by_time")]

    def __str__(self):
        return f"#{self.seq} {self.action} {self.status}"


class AuditHead(models.Model):
    """The single row (pk=1) naming the end of the chain."""

    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64)
