"""Consultation profile: the caller's own e-Box, its messages, attachments, bodies, payment data.

"Own e-Box" is the e-Box of the enterprise that owns the token's webservice client. A message of
another e-Box does not exist for the caller (404, never 403).
"""

from urllib.parse import quote

from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from ninja import Query, Router

from coffre.api import presenters
from coffre.api.base import ApiError, EboxBearer, OperationBearer, actor_of, audit_read, invalid_input, not_found
from coffre.api.schemas import (
    ERRORS,
    AttachmentOut,
    AttachmentsOut,
    EboxOut,
    MessageOut,
    MessageQuery,
    MessagesOut,
    MessagesToUpdate,
    PaymentDataOut,
    SummaryQuery,
    TranslatedString,
)
from coffre.audit.services import record
from coffre.core.cbe import InvalidCBE, normalize_cbe
from coffre.mailbox import selectors, services, store
from coffre.mailbox.models import Ebox, Message
from coffre.mailbox.translations import fill
from coffre.oauth.scopes import MESSAGES_FULL, SUMMARY_ALL, SUMMARY_OWN

router = Router(tags=["Ebox", "Messages"])
messages_auth = EboxBearer(MESSAGES_FULL)


def own_ebox(request: HttpRequest) -> Ebox:
    ebox = selectors.ebox_of(request.auth.enterprise_cbe)
    if ebox is None:
        raise not_found("e-Box")
    services.note_consultation(ebox)
    return ebox


def own_message(request: HttpRequest, message_id: str) -> Message:
    message = selectors.message_in(own_ebox(request), message_id)
    if message is None:
        raise not_found(f"Message {message_id}")
    return message


@router.get(
    "ebox",
    url_name="getEBoxById",
    auth=EboxBearer(SUMMARY_OWN, SUMMARY_ALL),
    response={200: EboxOut, **ERRORS},
    summary="Get the summary of the ebox.",
)
def get_ebox(request, query: Query[SummaryQuery]):
    context = request.auth
    cbe = context.enterprise_cbe
    if query.eboxIdValue is not None:
        try:
            cbe = normalize_cbe(query.eboxIdValue)
        except InvalidCBE as exc:
            raise invalid_input(f"eboxIdValue: {exc}") from None
    if cbe != context.enterprise_cbe and SUMMARY_ALL not in context.scopes:
        raise ApiError(403, "FORBIDDEN", "Reading another e-Box needs the summaryallebox scope.")
    ebox = selectors.ebox_of(cbe)
    if ebox is None:
        raise not_found(f"e-Box {cbe}")
    body = presenters.ebox_summary(selectors.summary(ebox))
    if cbe == context.enterprise_cbe:
        services.note_consultation(ebox)
    audit_read(request, {"ebox": cbe})
    return JsonResponse(body)


@router.get(
    "ebox/messages",
    url_name="getMessagesByEBoxId",
    auth=messages_auth,
    response={200: MessagesOut, **ERRORS},
    summary="Get a collection of messages (every filter applies; q needs qlang).",
)
def get_messages(request, query: Query[MessageQuery]):
    if query.q is not None and query.qlang is None:
        raise invalid_input("q needs qlang (fr, nl or de).")
    filters = selectors.MessageFilters(
        received_before=query.receivedBefore,
        received_after=query.receivedAfter,
        expired_before=query.expiredBefore,
        expired_after=query.expiredAfter,
        read=query.readStatus,
        visible=query.visible,
        registered_mail=query.registeredMail,
        message_type_id=query.messageTypeId,
        sender_organization_id=query.senderOrganizationId,
        sender_application_id=query.senderApplicationId,
        q=query.q or None,
        qlang=query.qlang,
    )
    items, total = selectors.page_of_messages(own_ebox(request), filters, query.page, query.pageSize)
    root = presenters.base_url(request)
    body = {"items": [presenters.message(item, root) for item in items], "totalItems": total}
    audit_read(request, {"messageIds": [item.message_id for item in items], "totalItems": total})
    return JsonResponse(body)


@router.patch(
    "ebox/messages",
    url_name="patchMessagesByEBoxId",
    # The list's URL: its name alone would audit a refused PATCH as getMessagesByEBoxId. The name
    # is the one set_visibility records for an accepted PATCH.
    auth=OperationBearer("patchMessages", MESSAGES_FULL),
    response={200: None, **ERRORS},
    summary="Hide or show messages of the own e-Box (all or none).",
    openapi_extra={"requestBody": {"content": {"application/merge-patch+json": {}}}},
)
def patch_messages(request, payload: MessagesToUpdate):
    changes: dict[str, bool] = {}
    for item in payload.items:
        if changes.get(item.messageId, item.visible) != item.visible:
            raise invalid_input(f"messageId {item.messageId} is given twice with different values.")
        changes[item.messageId] = item.visible
    try:
        services.set_visibility(own_ebox(request), changes, actor_of(request))
    except services.MessageNotFound as exc:
        raise not_found(f"Message(s) {exc}") from None
    return HttpResponse(status=200)


@router.get(
    "ebox/messages/{messageId}",
    url_name="getMessageById",
    auth=messages_auth,
    response={200: MessageOut, **ERRORS},
    summary="Get a message by its messageId.",
)
def get_message(request, messageId: str):
    message = selectors.listed_message(own_ebox(request), messageId)
    if message is None:
        raise not_found(f"Message {messageId}")
    body = presenters.message(message, presenters.base_url(request))
    audit_read(request, {"messageId": messageId})
    return JsonResponse(body)


@router.get(
    "ebox/messages/{messageId}/attachments",
    url_name="getAttachmentByMessageId",
    auth=messages_auth,
    response={200: AttachmentsOut, **ERRORS},
    summary="Get the attachments' metadata of a message.",
)
def get_attachments(request, messageId: str):
    message = own_message(request, messageId)
    body = presenters.attachments(list(message.attachments.all()), messageId, presenters.base_url(request))
    audit_read(request, {"messageId": messageId, "attachmentIds": [a["attachmentId"] for a in body["items"]]})
    return JsonResponse(body)


@router.get(
    "ebox/messages/{messageId}/attachments/{attachmentId}",
    url_name="getAttachmentById",
    auth=messages_auth,
    response={200: AttachmentOut, **ERRORS},
    summary="Get an attachment's metadata.",
)
def get_attachment(request, messageId: str, attachmentId: str):
    message = own_message(request, messageId)
    item = selectors.attachment_of(message, attachmentId)
    if item is None:
        raise not_found(f"Attachment {attachmentId}")
    body = presenters.attachment(item, messageId, presenters.base_url(request))
    audit_read(request, {"messageId": messageId, "attachmentId": attachmentId})
    return JsonResponse(body)


def _content_disposition(file_name: str) -> str:
    ascii_name = file_name.encode("ascii", "replace").decode().replace('"', "_").replace("?", "_")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(file_name, safe='')}"


@router.get(
    "ebox/messages/{messageId}/attachments/{attachmentId}/content",
    url_name="getAttachmentContentById",
    auth=messages_auth,
    response={200: bytes, **ERRORS},
    summary="Get an attachment's content (reading the main content marks the message read).",
    openapi_extra={"responses": {"200": {"content": {"application/octet-stream": {}}}}},
)
def get_attachment_content(request, messageId: str, attachmentId: str):
    message = own_message(request, messageId)
    item = selectors.attachment_of(message, attachmentId)
    if item is None:
        raise not_found(f"Attachment {attachmentId}")
    content = store.open_verified(item.blob)  # raises before anything is sent
    with transaction.atomic():
        first_read = services.mark_read_if_main(message, main_content=item.main_content)
        record(
            actor_of(request),
            "getAttachmentContentById",
            status=200,
            details={
                "messageId": messageId,
                "attachmentId": attachmentId,
                "mediaType": item.media_type,
                "size": item.blob.size,
                "digest": item.blob.sha256,
                "markedRead": first_read,
            },
        )
    response = StreamingHttpResponse(iter(content), content_type=item.media_type)
    response["Content-Length"] = str(item.blob.size)
    response["Content-Disposition"] = _content_disposition(item.file_name)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response["Cache-Control"] = "private, no-store"
    response["Repr-Digest"] = f"sha-256=:{presenters.sha256_b64(item.blob.sha256)}:"
    return response


@router.get(
    "ebox/messages/{messageId}/body",
    url_name="getBodyContent",
    auth=messages_auth,
    response={200: TranslatedString, **ERRORS},
    summary="Get the body of a message (reading it marks the message read when it is the main content).",
)
def get_body(request, messageId: str):
    message = own_message(request, messageId)
    body = fill(message.body)
    if body is None:
        raise not_found(f"Body of message {messageId}")
    with transaction.atomic():
        first_read = services.mark_read_if_main(message, main_content=message.body_main_content)
        record(
            actor_of(request),
            "getBodyContent",
            status=200,
            details={"messageId": messageId, "markedRead": first_read},
        )
    return JsonResponse(body)


@router.get(
    "ebox/messages/{messageId}/paymentData",
    url_name="getPaymentDataByMessageId",
    auth=messages_auth,
    response={200: PaymentDataOut, **ERRORS},
    summary="Get the payment data of a message.",
)
def get_payment_data(request, messageId: str):
    message = own_message(request, messageId)
    payment = getattr(message, "payment_data", None)
    if payment is None:
        raise not_found(f"PaymentData of message {messageId}")
    audit_read(request, {"messageId": messageId, "paymentDataId": payment.payment_data_id})
    return JsonResponse(presenters.payment_data(payment))
