"""Reference data: message types, sender organizations and applications, and their logos.

Responses carry real cache headers (NOTES.md) and an ETag, so that a client revalidates with
``If-None-Match`` and gets 304 when nothing changed.
"""

import hashlib
import json

from django.http import HttpResponse, JsonResponse
from ninja import Query, Router

from coffre.api import presenters
from coffre.api.base import EboxBearer, audit_read, not_found
from coffre.api.schemas import (
    ERRORS,
    MessageTypeOut,
    MessageTypesOut,
    Paging,
    SenderApplicationOut,
    SenderApplicationsOut,
    SenderOrganizationOut,
    SenderOrganizationsOut,
)
from coffre.mailbox import reference
from coffre.oauth.scopes import REFERENCE_DATA

router = Router(tags=["ReferenceData"])
reference_auth = EboxBearer(REFERENCE_DATA)
CACHE_CONTROL = "public, no-transform, proxy-revalidate, max-age=86400"


def _cached(request, body: bytes, content_type: str) -> HttpResponse:
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    if etag in [tag.strip() for tag in request.headers.get("If-None-Match", "").split(",")]:
        response = HttpResponse(status=304)
    else:
        response = HttpResponse(body, content_type=content_type)
    response["Cache-Control"] = CACHE_CONTROL
    response["ETag"] = etag
    response["Vary"] = "Authorization"
    return response


def _json(request, data) -> HttpResponse:
    return _cached(request, json.dumps(data, ensure_ascii=False).encode(), "application/json")


def _paged(request, queryset, paging: Paging, shape):
    items, total = reference.page(queryset, paging.page, paging.pageSize)
    audit_read(request, {"totalItems": total})
    return _json(request, {"items": [shape(item) for item in items], "totalItems": total})


@router.get(
    "referenceData/messageTypes",
    url_name="getAllMessagesTypes",
    auth=reference_auth,
    response={200: MessageTypesOut, **ERRORS},
    summary="List message types.",
)
def message_types(request, paging: Query[Paging]):
    return _paged(request, reference.message_types(), paging, presenters.message_type)


@router.get(
    "referenceData/messageTypes/{messageTypeId}",
    url_name="getMessageTypeById",
    auth=reference_auth,
    response={200: MessageTypeOut, **ERRORS},
    summary="Get a message type.",
)
def message_type(request, messageTypeId: str):
    item = reference.message_types().filter(message_type_id=messageTypeId).first()
    if item is None:
        raise not_found(f"messageType {messageTypeId}")
    audit_read(request, {"messageTypeId": messageTypeId})
    return _json(request, presenters.message_type(item))


@router.get(
    "referenceData/senderApplications",
    url_name="findAllSenderApplications",
    auth=reference_auth,
    response={200: SenderApplicationsOut, **ERRORS},
    summary="List sender applications.",
)
def sender_applications(request, paging: Query[Paging]):
    root = presenters.base_url(request)
    return _paged(request, reference.applications(), paging, lambda item: presenters.sender_application(item, root))


@router.get(
    "referenceData/senderApplications/{senderApplicationId}",
    url_name="getSenderApplicationById",
    auth=reference_auth,
    response={200: SenderApplicationOut, **ERRORS},
    summary="Get a sender application.",
)
def sender_application(request, senderApplicationId: str):
    item = reference.applications().filter(application_id=senderApplicationId).first()
    if item is None:
        raise not_found(f"senderApplication {senderApplicationId}")
    audit_read(request, {"senderApplicationId": senderApplicationId})
    return _json(request, presenters.sender_application(item, presenters.base_url(request)))


@router.get(
    "referenceData/senderOrganizations",
    url_name="findAllSenderOrganizations",
    auth=reference_auth,
    response={200: SenderOrganizationsOut, **ERRORS},
    summary="List sender organizations.",
)
def sender_organizations(request, paging: Query[Paging]):
    root = presenters.base_url(request)
    return _paged(request, reference.organizations(), paging, lambda item: presenters.sender_organization(item, root))


@router.get(
    "referenceData/senderOrganizations/{senderOrganizationId}",
    url_name="getSenderOrganizationById",
    auth=reference_auth,
    response={200: SenderOrganizationOut, **ERRORS},
    summary="Get a sender organization by its CBE number.",
)
def sender_organization(request, senderOrganizationId: str):
    item = reference.organizations().filter(organization_id=senderOrganizationId).first()
    if item is None:
        raise not_found(f"senderOrganization {senderOrganizationId}")
    audit_read(request, {"senderOrganizationId": senderOrganizationId})
    return _json(request, presenters.sender_organization(item, presenters.base_url(request)))


def _image(request, owner_field: str, owner_id: str, image_id: str) -> HttpResponse:
    logo = reference.logo_of(owner_field, owner_id, image_id)
    if logo is None:
        raise not_found(f"Image {image_id}")
    audit_read(request, {owner_field: owner_id, "imageId": image_id})
    response = _cached(request, bytes(logo.content), logo.media_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'"
    return response


@router.get(
    "referenceData/senderApplications/{senderApplicationId}/images/{imageId}/content",
    url_name="getImageForSenderApplication",
    auth=reference_auth,
    response={200: bytes, **ERRORS},
    summary="Get a logo of a sender application.",
    openapi_extra={"responses": {"200": {"content": {"application/octet-stream": {}}}}},
)
def application_image(request, senderApplicationId: str, imageId: str):
    return _image(request, "application", senderApplicationId, imageId)


@router.get(
    "referenceData/senderOrganizations/{senderOrganizationId}/images/{imageId}/content",
    url_name="getImageForSenderOrganization",
    auth=reference_auth,
    response={200: bytes, **ERRORS},
    summary="Get a logo of a sender organization.",
    openapi_extra={"responses": {"200": {"content": {"application/octet-stream": {}}}}},
)
def organization_image(request, senderOrganizationId: str, imageId: str):
    return _image(request, "organization", senderOrganizationId, imageId)
