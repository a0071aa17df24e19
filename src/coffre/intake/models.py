"""The e-mail intake's data: the address of each space, the decision about each sender address of
an enterprise, the mails waiting for a decision, and the activity (every mail received).

A **space** is a box and one of its folders (``coffre.mailbox.models.Ebox``, ``Folder``). Models
hold data and invariants only: every change goes through ``coffre.intake.services`` (decisions,
addresses) or ``coffre.intake.pipeline`` (a received mail).
"""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from coffre.accounts.models import Enterprise, User
from coffre.mailbox.models import Blob, Ebox, Folder


class IntakeAddress(models.Model):
    """The e-mail address of one space: ``<slug>.<folder>.<random>@COFFRE_INTAKE_DOMAIN``.

    The local part is readable (the name of the enterprise or person, the space) and unguessable
    (a random part of 50 bits). Regenerating it replaces the local part: the old address is then
    unknown, refused like any other.
    """

    ebox = models.ForeignKey(Ebox, on_delete=models.CASCADE, related_name="intake_addresses")
    folder = models.CharField(max_length=10, choices=Folder.choices)
    local_part = models.CharField(max_length=64, unique=True)  # lower case
    created_at = models.DateTimeField(default=timezone.now)
    regenerated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["ebox", "folder"], name="one_address_per_space")]

    def __str__(self):
        return self.local_part


class SenderStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    AUTHORIZED = "authorized", _("Authorized")
    REFUSED = "refused", pgettext_lazy("sender address", "Refused")
    BLACKLISTED = "blacklisted", _("Blacklisted")


class Approvers(models.TextChoices):
    """Who decides about a waiting mail (seed 002)."""

    CLIENT_ADMIN = "client_admin", _("The client admin")
    ATTACHED_COLLABORATORS = "attached_collaborators", _("The collaborators attached to the enterprise")
    OWNER = "owner", _("The owner of My documents")


class SenderApproval(models.Model):
    """An e-mail address that sent documents to an enterprise's spaces, and what was decided.

    Approval is needed once per address and enterprise: an authorized address's authenticated
    mail goes straight in. A refused address's next mail waits again; a blacklisted one's is
    dropped. ``approvers``: who decides its waiting request (the kind of its latest one).
    """

    enterprise = models.ForeignKey(Enterprise, on_delete=models.CASCADE, related_name="+")
    address = models.EmailField(max_length=254)  # lower case, domain in IDNA A-labels
    status = models.CharField(max_length=12, choices=SenderStatus.choices, default=SenderStatus.PENDING)
    approvers = models.CharField(max_length=30, choices=Approvers.choices, default=Approvers.CLIENT_ADMIN)
    created_at = models.DateTimeField(default=timezone.now)
    last_mail_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["enterprise", "address"], name="one_approval_per_address")
        ]
        indexes = [models.Index(fields=["enterprise", "status", "address"], name="approval_list")]

    def __str__(self):
        return f"{self.address} ({self.status})"


class MailOutcome(models.TextChoices):
    """What became of a received mail in a space (the activity's last column)."""

    STORED = "stored", _("Stored")
    PENDING = "pending", _("Waiting for approval")
    ACCEPTED = "accepted", _("Accepted, then stored")
    REFUSED = "refused", pgettext_lazy("received e-mail", "Refused")
    DISCARDED = "discarded", _("Refused by an approver")
    BLACKLISTED = "blacklisted", _("Dropped: blacklisted sender")
    EXPIRED = "expired", _("Expired without a decision")


class IntakeMail(models.Model):
    """The activity: one row per mail received per space (seed 002's "Activité").

    ``mail_key`` (the Message-ID, else the SHA-256 of the mail) makes the intake idempotent: a
    mail delivered again to the same space is recognised and not stored twice.
    """

    ebox = models.ForeignKey(Ebox, on_delete=models.CASCADE, related_name="+")
    folder = models.CharField(max_length=10, choices=Folder.choices)
    received_at = models.DateTimeField(default=timezone.now)
    received_via = models.CharField(max_length=5, default="smtp")  # "smtp" or "imap"
    mail_key = models.CharField(max_length=300)
    from_address = models.CharField(max_length=254, blank=True)  # the verdict's, lower case
    from_header = models.CharField(max_length=300, blank=True)  # as written, for a mail without one
    envelope_from = models.CharField(max_length=254, blank=True)
    subject = models.CharField(max_length=500, blank=True)
    attachments = models.JSONField(default=list, blank=True)  # file names of the documents
    verdict = models.JSONField(default=dict, blank=True)  # Verdict.as_dict()
    verdict_status = models.CharField(max_length=10)
    rule = models.CharField(max_length=40)  # the rule that decided (coffre.intake.rules)
    outcome = models.CharField(max_length=12, choices=MailOutcome.choices)
    # What was stored (message ids), the documents already in the space, who decided and when.
    details = models.JSONField(default=dict, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["ebox", "folder", "mail_key"], name="mail_once_per_space")
        ]
        indexes = [models.Index(fields=["ebox", "-received_at", "-id"], name="intake_activity")]


class PendingMail(models.Model):
    """A received mail waiting for a decision, its raw message kept encrypted (``blob``, through
    the document store) until accepted, refused or discarded, or until it expires (30 days)."""

    activity = models.OneToOneField(IntakeMail, on_delete=models.CASCADE, related_name="pending")
    ebox = models.ForeignKey(Ebox, on_delete=models.CASCADE, related_name="+")
    folder = models.CharField(max_length=10, choices=Folder.choices)
    # The address's decision (an enterprise's space and a usable sender address), else None.
    approval = models.ForeignKey(
        SenderApproval, null=True, blank=True, on_delete=models.SET_NULL, related_name="waiting"
    )
    approvers = models.CharField(max_length=30, choices=Approvers.choices)
    sender_address = models.CharField(max_length=254, blank=True)
    blob = models.ForeignKey(Blob, on_delete=models.PROTECT, related_name="+")
    received_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    # May the sender be told of the decision (not a bounce, not auto-submitted, ...), and in which
    # language; the Message-ID the reply refers to.
    may_reply = models.BooleanField(default=False)
    language = models.CharField(max_length=2, default="fr")
    message_id_header = models.CharField(max_length=300, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["expires_at"], name="pending_expiry"),
            models.Index(fields=["ebox", "approvers"], name="pending_by_approvers"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(approvers="owner") | Q(approval__isnull=True), name="owner_decides_per_mail"
            )
        ]
