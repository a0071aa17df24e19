"""The message page and its documents: download, and the inline preview of PDFs.

Documents are verified in full (``store.open_verified``) before the first byte leaves; a document
that fails is never served: the person gets an error page, and the message is not marked read.
Opening the main content (the body when it is the main content, or the main attachment previewed
or downloaded) reads the message; every consultation is audited.

The preview is for PDFs only, served same-origin (the page frames it) with
``Content-Disposition: inline``, its own media type, ``nosniff`` and a CSP ``sandbox``: whatever the
bytes are, they run nowhere and reach no cookie. Chromium's PDF viewer renders such a response in a
frame (checked in Chromium 156, see docs/portal-mailbox.md); what it refuses is a frame carrying
the ``sandbox`` *attribute*, so the page's ``<iframe>`` has none. Every other type is download
only (``Content-Disposition: attachment``).
"""

import unicodedata
from dataclasses import dataclass
from urllib.parse import quote

from django.contrib.auth.decorators import login_required
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from coffre.accounts.permissions import Action, allowed
from coffre.mailbox import selectors, services, store
from coffre.mailbox.models import Attachment, Ebox, Message
from coffre.mailbox.translations import in_language
from coffre.mailbox.views import BoxPages, ebox_for, page_language, private, sender_of, type_of, web_actor

PDF = "application/pdf"
PDF_MAGIC = b"%PDF-"
PDF_MAGIC_WITHIN = 1024  # readers accept the header anywhere in the first kilobyte
DOCUMENT_CSP = "sandbox; default-src 'none'; frame-ancestors 'self'"
MAX_FILE_NAME = 150


def media_type_of(attachment: Attachment) -> str:
    return attachment.media_type.split(";", 1)[0].strip().lower()


def is_pdf(attachment: Attachment) -> bool:
    return media_type_of(attachment) == PDF


def safe_file_name(name: str) -> str:
    """The file name offered to the browser: no directory, no control or quoting characters."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(
        "_" if unicodedata.category(char).startswith("C") or char in '"*:<>?|' else char for char in name
    )
    name = name.strip(" .")[:MAX_FILE_NAME].strip(" .")
    return name or "document"


def content_disposition(kind: str, file_name: str) -> str:
    name = safe_file_name(file_name)
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().replace("%", "_")
    ascii_name = ascii_name.strip(" .") or "document"
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


@dataclass
class AttachmentRow:
    attachment: Attachment
    title: str
    size: int
    is_pdf: bool
    download_url: str
    preview_url: str | None
    page_preview_url: str | None


def _message(ebox, message_id: str) -> Message:
    message = selectors.message_in(ebox, message_id, origin=None)
    if message is None:
        raise Http404("no such message in this e-Box")
    return message


def _attachment(message: Message, attachment_id: str) -> Attachment:
    attachment = selectors.attachment_of(message, attachment_id)
    if attachment is None:
        raise Http404("no such attachment")
    return attachment


def _business_data(items: list, lang: str) -> list[tuple[str, list[str]]]:
    rows = []
    for item in items or []:
        name = in_language(item.get("name"), lang) or item.get("key", "")
        values = [in_language(value, lang) for value in item.get("values", [])]
        rows.append((name, [value for value in values if value]))
    return rows


def _reference(value) -> tuple[str, list[tuple[str, str]]]:
    """A payment reference as text, or as (key, value) pairs when the sender gave an object."""
    if isinstance(value, dict):
        return "", [(str(key), str(item)) for key, item in value.items()]
    return ("" if value is None else str(value)), []


@login_required
@require_GET
def message_page(request, cbe: str, message_id: str):
    enterprise, ebox = ebox_for(request, cbe, Action.VIEW_MESSAGES)
    return render_message(
        request, ebox, message_id, BoxPages.of_enterprise(enterprise),
        current_enterprise=enterprise,
        can_hide=allowed(request.standing, Action.HIDE_MESSAGES),
        audit={"ebox": enterprise.cbe},
    )


def render_message(request, box: Ebox, message_id: str, pages: BoxPages, *, current_enterprise=None,
                   can_hide: bool = False, audit: dict):
    """The page of one message of ``box`` (any origin), after the caller's permission check."""
    message = _message(box, message_id)
    services.note_consultation(box)
    lang = page_language()
    body = in_language(message.body, lang)
    services.consult(
        message,
        web_actor(request),
        "web.message",
        main_content=message.body_main_content and bool(body),
        details=audit,
    )
    message_url = pages.message_url(message.message_id)
    rows = [
        AttachmentRow(
            attachment=item,
            title=in_language(item.title, lang) or item.file_name,
            size=item.blob.size,
            is_pdf=is_pdf(item),
            download_url=pages.attachment_url(pages.download_view, message.message_id, item.attachment_id),
            preview_url=pages.attachment_url(pages.preview_view, message.message_id, item.attachment_id)
            if is_pdf(item)
            else None,
            page_preview_url=f"{message_url}?preview={quote(item.attachment_id)}" if is_pdf(item) else None,
        )
        for item in message.attachments.all()
    ]
    wanted = request.GET.get("preview")
    previewed = next((row for row in rows if row.is_pdf and row.attachment.attachment_id == wanted), None)
    if previewed is None and not wanted:
        previewed = next((row for row in rows if row.is_pdf and row.attachment.main_content), None)
    payment = getattr(message, "payment_data", None)
    reference_text, reference_items = _reference(payment.reference if payment else None)
    organization = message.sender_organization
    context = {
        "current_enterprise": current_enterprise,
        "personal": box.is_personal,
        "list_url": pages.list_url + (f"?folder={message.folder}" if message.folder != "documents" else ""),
        "visibility_url": pages.visibility_url,
        "message": message,
        "subject": in_language(message.subject, lang),
        "sender": sender_of(message, lang),
        "sender_long": in_language(organization.long_name, lang) if organization else "",
        "application": in_language(message.sender_application.name, lang)
        if message.sender_application
        else "",
        "message_type": type_of(message, lang),
        "body": body,
        "business_data": _business_data(message.business_data, lang),
        "payment": payment,
        "reference_text": reference_text,
        "reference_items": reference_items,
        "attachments": rows,
        "previewed": previewed,
        "can_hide": can_hide and pages.visibility_url is not None,
    }
    return private(render(request, "mailbox/message.html", context))


def _refuse(request, pages: BoxPages, message: Message, *, bare: bool, status: int, reason: str,
            download_url=None):
    """The page shown instead of a document (never its bytes)."""
    context = {
        "reason": reason,
        "download_url": download_url,
        "layout": "mailbox/bare.html" if bare else "base.html",
        "message_url": pages.message_url(message.message_id),
    }
    response = render(request, "mailbox/content_error.html", context, status=status)
    response["X-Content-Type-Options"] = "nosniff"
    return private(response)


def _serve(request, cbe: str, message_id: str, attachment_id: str, *, inline: bool):
    enterprise, ebox = ebox_for(request, cbe, Action.DOWNLOAD)
    return serve_attachment(request, ebox, BoxPages.of_enterprise(enterprise), message_id, attachment_id,
                            inline=inline, audit={"ebox": enterprise.cbe})


def serve_attachment(request, box: Ebox, pages: BoxPages, message_id: str, attachment_id: str, *,
                     inline: bool, audit: dict):
    """A document of a message of ``box``, verified in full first, after the caller's permission
    check: the PDF preview (``inline``) or the download."""
    message = _message(box, message_id)
    item = _attachment(message, attachment_id)
    if inline and not is_pdf(item):
        raise Http404("only PDF documents are previewed")
    try:
        content = store.open_verified(item.blob)  # the whole blob, checked before anything is sent
    except store.BlobIntegrityError:
        return _refuse(request, pages, message, bare=inline, status=500, reason="integrity")
    chunks = iter(content)
    first = next(chunks, b"")
    if inline and PDF_MAGIC not in first[:PDF_MAGIC_WITHIN]:
        download = pages.attachment_url(pages.download_view, message.message_id, item.attachment_id)
        return _refuse(
            request, pages, message, bare=True, status=415, reason="not_pdf", download_url=download
        )
    services.consult(
        message,
        web_actor(request),
        "web.preview" if inline else "web.download",
        main_content=item.main_content,
        details={
            **audit,
            "attachmentId": item.attachment_id,
            "mediaType": item.media_type,
            "size": item.blob.size,
            "digest": item.blob.sha256,
        },
    )

    def stream():
        if first:
            yield first
        yield from chunks

    response = StreamingHttpResponse(stream(), content_type=PDF if inline else item.media_type)
    response["Content-Length"] = str(item.blob.size)
    response["Content-Disposition"] = content_disposition(
        "inline" if inline else "attachment", item.file_name
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = DOCUMENT_CSP
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    response["Referrer-Policy"] = "no-referrer"
    response["X-Frame-Options"] = "SAMEORIGIN"
    return private(response)


@login_required
@require_GET
def preview(request, cbe: str, message_id: str, attachment_id: str):
    return _serve(request, cbe, message_id, attachment_id, inline=True)


@login_required
@require_GET
def download(request, cbe: str, message_id: str, attachment_id: str):
    return _serve(request, cbe, message_id, attachment_id, inline=False)
