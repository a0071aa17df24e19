"""Filing documents into a space as the e-mail intake does, for the tests of spaces."""

from django.db import transaction

from coffre.mailbox import services_spaces, store
from coffre.mailbox.models import Ebox, Origin


def file_document(
    box: Ebox,
    content: bytes,
    *,
    folder: str = "documents",
    file_name: str = "invoice.pdf",
    subject: str = "Invoice",
    sender: str = "supplier@example.be",
) -> services_spaces.Filed:
    """One document filed into a space of ``box`` (origin e-mail), as one transaction."""
    staged = store.write_content([content])
    store.stage([staged])
    draft = services_spaces.DocumentDraft(staged, file_name, "application/pdf", subject)
    with transaction.atomic():
        filed = services_spaces.file_documents(
            box, folder, [draft], origin=Origin.EMAIL, sender_address=sender, language="fr"
        )
    store.abandon(filed.skipped_contents)
    return filed
