"""Publication profile: ``publishMessage``, ``linkEboxMessage`` (broadcast) and
``searchMessageStatus`` (status of the caller's own publications).

``publishMessage`` reads its multipart body with ``SealingUploadHandler``: every file part is
hashed and encrypted while it arrives, the JSON part may come first or last. The body is read
only after the token was checked, so that an unauthenticated upload is never stored.
"""

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import HttpRequest, JsonResponse
from django.http.multipartparser import MultiPartParserError
from ninja import Router

from coffre.api import presenters
from coffre.api.base import EboxBearer, ApiError, actor_of, audit_read, invalid_input, not_found
from coffre.api.publication_input import JSON_PART, Refusal, message_draft, parse_description, read_parts
from coffre.api.schemas import ERRORS, LinkResponseOut, MessageIdEboxId, MessageStatusOut, MessageToLink
from coffre.api.schemas import PublicationStatusOut
from coffre.core.cbe import InvalidCBE, normalize_cbe
from coffre.mailbox import selectors, services
from coffre.mailbox.uploads import PartTooLarge, SealingUploadHandler
from coffre.oauth.scopes import PUBLICATION_SENDER

router = Router(tags=["Messages"])
publication_auth = EboxBearer(PUBLICATION_SENDER)

_MULTIPART_SCHEMA = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": [JSON_PART],
                    "properties": {
                        JSON_PART: {"type": "string", "description": "JSON MessageToPublish (any part order)."},
                        **{f"upfile{n}": {"type": "string", "format": "binary"} for n in range(1, 7)},
                    },
                }
            }
        },
    }
}


def _publisher(request: HttpRequest) -> services.Publisher:
    return services.Publisher(client_id=request.auth.client_id, cbe=request.auth.enterprise_cbe)


def _parse_multipart(request: HttpRequest, handler: SealingUploadHandler):
    if not request.content_type or request.content_type.lower() != "multipart/form-data":
        raise invalid_input("publishMessage takes multipart/form-data.")
    request.upload_handlers = [handler]
    try:
        return request.POST, request.FILES
    except PartTooLarge as exc:
        raise invalid_input(f"The part {exc.field_name} is larger than {exc.limit} bytes.") from None
    except (MultiPartParserError, TooManyFilesSent, TooManyFieldsSent) as exc:
        raise invalid_input(f"The multipart body cannot be read: {exc}") from None
    except RequestDataTooBig:
        # A form field (a part without file name) over the limit: mostly a file sent without one.
        raise invalid_input("A part without file name is larger than 2 MB; every file part needs a file name.") from None


@router.post(
    "publishMessage",
    url_name="postMessage",
    auth=publication_auth,
    response={201: PublicationStatusOut, 400: ERRORS[400], 401: ERRORS[401], 403: ERRORS[403]},
    summary="Publish a message: one JSON part messageToPublish and up to 6 files upfile1..upfile6.",
    openapi_extra=_MULTIPART_SCHEMA,
)
def publish_message(request):
    handler = SealingUploadHandler(request, memory_parts=(JSON_PART,))
    try:
        post, files = _parse_multipart(request, handler)
        raw, sealed = read_parts(post, files)
        draft = message_draft(parse_description(raw), sealed, request.auth.enterprise_cbe)
        published = services.publish_message(draft, _publisher(request), actor_of(request))
    except Refusal as exc:
        handler.discard_all()
        raise ApiError(400, exc.code, exc.message) from None
    except services.PublicationRefused as exc:
        handler.discard_all()
        raise ApiError(400, exc.code, exc.message) from None
    except BaseException:
        handler.discard_all()
        raise
    body = {"messageId": published.message_id, "expirationDate": presenters.timestamp(published.expiration_date)}
    if published.no_digital_user:
        body["code"] = "NO_DIGITAL_USER"
        body["message"] = "The recipient has never consulted its e-Box: it may not read the message soon."
    return JsonResponse(body, status=201)


@router.post(
    "linkEboxMessage",
    url_name="linkMessage",
    auth=publication_auth,
    response={201: LinkResponseOut, **ERRORS},
    summary="Broadcast: link a message published by the caller to other e-Boxes (content stored once).",
)
def link_message(request, payload: MessageToLink):
    recipients, refused = [], []
    for recipient in payload.recipients:
        try:
            if recipient.eboxType != "enterprise":
                raise InvalidCBE("not an enterprise")
            recipients.append(normalize_cbe(recipient.eboxIdValue))
        except InvalidCBE:
            refused.append(recipient.model_dump())
    try:
        linked = services.link_message(payload.messageId, recipients, _publisher(request), actor_of(request))
    except services.MessageNotFound:
        raise not_found(f"Message {payload.messageId} published by {request.auth.enterprise_cbe}") from None
    refused += [{"eboxType": "enterprise", "eboxIdValue": cbe} for cbe in linked.refused]
    return JsonResponse(
        {
            "messageId": linked.message_id,
            "expirationDate": presenters.timestamp(linked.expiration_date),
            "nbSuccessLinks": linked.linked,
            "errorCases": refused,
        },
        status=201,
    )


@router.post(
    "searchMessageStatus",
    url_name="getStatus",
    auth=publication_auth,
    response={201: list[MessageStatusOut], **ERRORS},
    summary="Status (read, visible, expiry) of messages the caller's organization published.",
)
def search_message_status(request, payload: list[MessageIdEboxId]):
    if not payload:
        raise invalid_input("The request lists no messageId/eboxId pair.")
    if len(payload) > 1000:
        raise invalid_input("At most 1000 pairs per request.")
    pairs = []
    for item in payload:
        try:
            pairs.append((item.messageId, normalize_cbe(item.eboxId.eboxIdValue)))
        except InvalidCBE:
            continue  # cannot match a message: reported as not found
    found = selectors.statuses_of_publications(request.auth.enterprise_cbe, pairs)
    if not found:
        raise not_found("Messages")
    audit_read(request, {"messages": [[m.message_id, m.ebox.enterprise.cbe] for m in found]}, status=201)
    return JsonResponse([presenters.message_status(item) for item in found], status=201, safe=False)
