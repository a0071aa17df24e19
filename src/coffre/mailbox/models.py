"""Boxes (enterprises' e-Boxes and people's "My documents"), the messages in them, their
attachments, the encrypted blobs, and reference data.

A box holds spaces (``Message.folder``): an enterprise's box has "documents" (its e-Box) and
"purchases" (invoices to process, seed 002's "Image"); a person's box has "documents" only. A
message comes from the e-Box API (``origin`` "api": a sender organization, a message type) or
from elsewhere (the e-mail intake, an agent: a ``sender_address`` instead). The e-Box API sees
only origin "api" messages of enterprises' boxes; the portal shows every message of a space.

Translated strings (the contract's ``TranslatedString``) are stored as given by the sender, a JSON
object with some of ``fr``, ``nl``, ``de``, ``en``; the missing languages are filled on output
(``coffre.mailbox.translations``). Models hold data and invariants only: every change goes through
``coffre.mailbox.services``.
"""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from coffre.accounts.models import Enterprise, User

NOTIFICATION_STATES = [("verified", "verified"), ("pending", "waiting for confirmation"), ("failing", "failing")]


class Folder(models.TextChoices):
    """The spaces of a box."""

    DOCUMENTS = "documents", _("Documents")
    PURCHASES = "purchases", _("Purchases")


class Origin(models.TextChoices):
    """Where a message came from."""

    API = "api", _("e-Box API")
    EMAIL = "email", _("E-mail")
    AGENT = "agent", _("Agent")


class Ebox(models.Model):
    """A box of documents: the one e-Box of an enterprise (``enterprise``, created with it), or a
    person's "My documents" (``owner``, created when first needed). Exactly one of the two is set.

    A person's box is never reachable through the e-Box API (which names e-Boxes by CBE number)
    and writes no events; its notification fields stay empty.
    """

    enterprise = models.OneToOneField(
        Enterprise, null=True, blank=True, on_delete=models.PROTECT, related_name="ebox"
    )
    owner = models.OneToOneField(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="personal_box"
    )
    created_at = models.DateTimeField(default=timezone.now)
    # Last time the enterprise consulted its e-Box (API as own e-Box, later the portal).
    last_consulted_at = models.DateTimeField(null=True, blank=True)
    # The one notification address of the enterprise (seed 000), its state, and the address
    # waiting for confirmation when a manager changes it.
    notification_email = models.EmailField(blank=True)
    notification_status = models.CharField(max_length=10, choices=NOTIFICATION_STATES, default="pending")
    notification_verified_at = models.DateTimeField(null=True, blank=True)
    notification_failure = models.CharField(max_length=300, blank=True)
    pending_email = models.EmailField(blank=True)
    pending_token_sha256 = models.CharField(max_length=64, blank=True)
    pending_expires_at = models.DateTimeField(null=True, blank=True)
    # Carried by every notification so that people can tell a genuine one from a phishing copy.
    anti_phishing_phrase = models.CharField(max_length=100, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(enterprise__isnull=False, owner__isnull=True)
                | Q(enterprise__isnull=True, owner__isnull=False),
                name="ebox_has_one_holder",
            )
        ]

    def __str__(self):
        if self.enterprise_id is None:
            return f"My documents of person {self.owner_id}"
        return f"e-Box {self.enterprise.cbe}"

    @property
    def is_personal(self) -> bool:
        return self.enterprise_id is None

    def folders(self) -> list[str]:
        """The spaces of this box."""
        return [Folder.DOCUMENTS] if self.is_personal else [Folder.DOCUMENTS, Folder.PURCHASES]


# --- reference data -------------------------------------------------------------------------------


class SenderOrganization(models.Model):
    organization_id = models.CharField(max_length=10, unique=True)  # CBE number
    short_name = models.JSONField()
    long_name = models.JSONField(default=dict, blank=True)
    url = models.JSONField(default=dict, blank=True)
    contact_business = models.CharField(max_length=500, blank=True)
    contact_technical = models.CharField(max_length=500, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["organization_id"]

    def __str__(self):
        return self.organization_id


class SenderApplication(models.Model):
    application_id = models.CharField(max_length=100, unique=True)
    name = models.JSONField()
    description = models.JSONField(default=dict, blank=True)
    url = models.JSONField(default=dict, blank=True)
    contact_business = models.CharField(max_length=500, blank=True)
    contact_technical = models.CharField(max_length=500, blank=True)
    organizations = models.ManyToManyField(SenderOrganization, related_name="applications", blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["application_id"]

    def __str__(self):
        return self.application_id


class MessageType(models.Model):
    UNITS = [("day", "day"), ("month", "month"), ("year", "year")]

    message_type_id = models.CharField(max_length=100, unique=True)
    name = models.JSONField()
    description = models.JSONField(default=dict, blank=True)
    validity_number = models.PositiveIntegerField()
    validity_unit = models.CharField(max_length=5, choices=UNITS)
    organizations = models.ManyToManyField(SenderOrganization, related_name="message_types", blank=True)
    applications = models.ManyToManyField(SenderApplication, related_name="message_types", blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["message_type_id"]
        constraints = [models.CheckConstraint(condition=Q(validity_number__gt=0), name="validity_positive")]

    def __str__(self):
        return self.message_type_id


class Logo(models.Model):
    """A logo of a sender organization or application (public reference data, small, in the DB)."""

    MEDIA_TYPES = ["image/jpg", "image/jpeg", "image/png", "image/gif", "image/svg+xml"]

    image_id = models.CharField(max_length=36, unique=True)
    organization = models.ForeignKey(
        SenderOrganization, null=True, blank=True, on_delete=models.CASCADE, related_name="logos"
    )
    application = models.ForeignKey(
        SenderApplication, null=True, blank=True, on_delete=models.CASCADE, related_name="logos"
    )
    media_type = models.CharField(max_length=20, choices=[(t, t) for t in MEDIA_TYPES])
    language = models.CharField(max_length=2, blank=True, choices=[("nl", "nl"), ("fr", "fr"), ("de", "de")])
    content = models.BinaryField()
    size = models.PositiveIntegerField()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(organization__isnull=True) ^ Q(application__isnull=True), name="logo_has_one_owner"
            )
        ]


# --- documents ------------------------------------------------------------------------------------


class Blob(models.Model):
    """Encrypted content, stored once per enterprise (``scope``) when identical, or once per person
    (``owner``) for the documents of "My documents"; exactly one of the two is set."""

    scope = models.ForeignKey(Enterprise, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    owner = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    sha256 = models.CharField(max_length=64)  # hex digest of the plaintext
    size = models.BigIntegerField()  # plaintext bytes
    storage_name = models.CharField(max_length=200, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["scope", "sha256"], name="blob_once_per_scope"),
            models.UniqueConstraint(fields=["owner", "sha256"], name="blob_once_per_owner"),
            models.CheckConstraint(
                condition=Q(scope__isnull=False, owner__isnull=True)
                | Q(scope__isnull=True, owner__isnull=False),
                name="blob_has_one_scope",
            ),
        ]


class BlobSweep(models.Model):
    """How far the search for orphan blobs has gone (one row, pk=1).

    Blobs are written under hour buckets (``YYYY/MM/DD/HH/<name>``, UTC) before the transaction
    that names them in a ``Blob`` commits; a process killed in between leaves a file that no
    ``Blob`` names. ``coffre.mailbox.orphans`` compares each bucket, once it is older than a grace
    period, with the ``Blob`` rows of its names, and then moves this mark past it: every bucket
    that starts before ``swept_before`` has been checked and is never listed again.
    """

    swept_before = models.DateTimeField()


class Message(models.Model):
    # The contract's messageId. A broadcast (linkEboxMessage) copies the message into other e-Boxes
    # under the same id, so it is unique per e-Box only.
    message_id = models.CharField(max_length=36)
    ebox = models.ForeignKey(Ebox, on_delete=models.PROTECT, related_name="messages")
    subject = models.JSONField()
    receipt_date = models.DateTimeField()
    expiration_date = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)
    visible = models.BooleanField(default=True)
    registered_mail = models.BooleanField(default=False)
    for_attention_id = models.CharField(max_length=100, blank=True)
    for_attention_type = models.CharField(max_length=100, blank=True)
    for_attention_name = models.CharField(max_length=100, blank=True)
    # The space of the box the message is in, and where it came from (see the module's docstring).
    folder = models.CharField(max_length=10, choices=Folder.choices, default=Folder.DOCUMENTS)
    origin = models.CharField(max_length=5, choices=Origin.choices, default=Origin.API)
    # Reference data of the e-Box API: always set for origin "api", never for the others.
    message_type = models.ForeignKey(
        MessageType, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    sender_organization = models.ForeignKey(
        SenderOrganization, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The e-mail address that sent a message of origin "email" (lower case), else empty.
    sender_address = models.EmailField(max_length=254, blank=True)
    # Who sent a message of origin "agent", as the agent names it (the provider, or another e-Box's
    # sender organization), else empty.
    sender_name = models.CharField(max_length=200, blank=True)
    sender_application = models.ForeignKey(
        SenderApplication, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    original_message_id = models.CharField(max_length=100, blank=True)
    body = models.JSONField(null=True, blank=True)
    body_main_content = models.BooleanField(default=False)
    business_data = models.JSONField(default=list, blank=True)
    reply_authorized = models.BooleanField(default=False)
    attachments_size = models.BigIntegerField(default=0)  # bytes, for the e-Box size
    # Client id of the webservice client that published (or linked) it: searchMessageStatus.
    publisher_client_id = models.CharField(max_length=100, blank=True)
    # Normalised text (lower case, no accents) searched by q/qlang, one per language.
    search_fr = models.TextField(blank=True)
    search_nl = models.TextField(blank=True)
    search_de = models.TextField(blank=True)
    search_en = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["ebox", "message_id"], name="message_once_per_ebox"),
            models.CheckConstraint(
                condition=~Q(origin="api") | Q(message_type__isnull=False, sender_organization__isnull=False),
                name="message_api_has_reference_data",
            ),
        ]
        indexes = [
            # Pages of an e-Box in receipt order; the expiry is in the index so that skipping to a
            # deep page filters out expired messages without reading them (docs/benchmarks.md).
            models.Index(fields=["ebox", "-receipt_date", "-id", "expiration_date"], name="message_list"),
            models.Index(fields=["ebox", "expiration_date"], name="message_expiry"),
            models.Index(fields=["message_id"], name="message_by_id"),
            # The web list's filters, in list order, so that a rare sender, type or the few unread
            # messages of a large e-Box are found without reading the others (docs/portal-mailbox.md).
            models.Index(
                fields=["ebox", "-receipt_date", "-id"], condition=Q(read_at__isnull=True), name="message_unread"
            ),
            models.Index(fields=["ebox", "sender_organization", "-receipt_date", "-id"], name="message_by_sender"),
            models.Index(fields=["ebox", "message_type", "-receipt_date", "-id"], name="message_by_type"),
            # The portal's list of one space (a folder of a box), newest first.
            models.Index(fields=["ebox", "folder", "-receipt_date", "-id"], name="message_space_list"),
        ]

    def __str__(self):
        return self.message_id

    @property
    def read(self) -> bool:
        return self.read_at is not None


class Attachment(models.Model):
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    attachment_id = models.CharField(max_length=36)
    position = models.PositiveSmallIntegerField()
    title = models.JSONField(null=True, blank=True)
    file_name = models.CharField(max_length=255)
    media_type = models.CharField(max_length=255)
    main_content = models.BooleanField(default=False)
    signed = models.BooleanField(default=False)
    blob = models.ForeignKey(Blob, on_delete=models.PROTECT, related_name="attachments")

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["message", "attachment_id"], name="attachment_once_per_message")
        ]


class PaymentData(models.Model):
    message = models.OneToOneField(Message, on_delete=models.CASCADE, related_name="payment_data")
    payment_data_id = models.CharField(max_length=100)
    amount = models.DecimalField(max_digits=15, decimal_places=2)
    vat_amount = models.DecimalField(max_digits=15, decimal_places=2)
    currency = models.CharField(max_length=3)
    due_date = models.DateTimeField()
    iban = models.CharField(max_length=34)
    bic = models.CharField(max_length=11, blank=True)
    reference = models.JSONField(null=True, blank=True)
