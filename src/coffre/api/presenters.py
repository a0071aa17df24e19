"""Shape domain objects into the contract's JSON (``Message``, ``Attachment``, ``Ebox``, ...).

Optional properties are left out rather than sent as null (Swagger 2.0 has no nullable), and
translated strings carry nl, fr and de.
"""

import base64
import datetime as dt

from django.conf import settings
from django.http import HttpRequest

from coffre.api.base import REGISTRY_ROOT
from coffre.mailbox.models import Attachment, Logo, Message, MessageType, PaymentData, SenderApplication
from coffre.mailbox.models import SenderOrganization
from coffre.mailbox.selectors import Summary
from coffre.mailbox.selectors_rows import ListedAttachment, ListedMessage, ListedPayment
from coffre.mailbox.translations import fill


def timestamp(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def kilobytes(size: int) -> float:
    return round(size / 1024, 3)


def sha256_b64url(hex_digest: str) -> str:
    return base64.urlsafe_b64encode(bytes.fromhex(hex_digest)).decode("ascii")


def sha256_b64(hex_digest: str) -> str:
    return base64.b64encode(bytes.fromhex(hex_digest)).decode("ascii")


def base_url(request: HttpRequest) -> str:
    return settings.COFFRE_BASE_URL or f"{request.scheme}://{request.get_host()}"


def _put(target: dict, key: str, value) -> None:
    if value not in (None, "", [], {}):
        target[key] = value


def ebox_summary(data: Summary) -> dict:
    body = {
        "numberOfMessages": data.number_of_messages,
        "numberOfUnreadMessages": data.number_of_unread_messages,
        "eboxSize": kilobytes(data.size_bytes),
    }
    if data.last_receipt_date:
        body["lastReceiptDate"] = timestamp(data.last_receipt_date)
    if data.last_consultation_date:
        body["lastConsultationDate"] = timestamp(data.last_consultation_date)
    return body


def attachment(item: Attachment | ListedAttachment, message_id: str, root: str) -> dict:
    body = {
        "attachmentId": item.attachment_id,
        "fileName": item.file_name,
        "mainContent": item.main_content,
        "mediaType": item.media_type,
        "size": kilobytes(item.blob.size),
        "digest": {"digestMethod": "sha_256", "digestValue": sha256_b64url(item.blob.sha256)},
        "attachmentSigned": item.signed,
        "contentHref": f"{root}/{REGISTRY_ROOT}ebox/messages/{message_id}/attachments/{item.attachment_id}/content",
    }
    _put(body, "attachmentTitle", fill(item.title))
    return body


def attachments(items: list[Attachment | ListedAttachment], message_id: str, root: str) -> dict:
    shaped = [attachment(item, message_id, root) for item in items]
    return {"items": shaped, "totalItems": len(shaped)}


def payment_data(payment: PaymentData | ListedPayment) -> dict:
    body = {
        "paymentDataId": payment.payment_data_id,
        "amount": float(payment.amount),
        "vatAmount": float(payment.vat_amount),
        "currency": payment.currency,
        "dueDate": timestamp(payment.due_date),
        "iban": payment.iban,
    }
    _put(body, "bic", payment.bic)
    _put(body, "reference", payment.reference)
    return body


def business_data(items: list) -> dict:
    shaped = []
    for item in items:
        entry = {
            "key": item["key"],
            "name": fill(item.get("name")) or fill({"fr": item["key"]}),
            "values": [fill(value) or {} for value in item.get("values", [])],
        }
        _put(entry, "description", fill(item.get("description")))
        shaped.append(entry)
    return {"items": shaped, "totalItems": len(shaped)}


def message(item: ListedMessage, root: str) -> dict:
    body = {
        "messageId": item.message_id,
        "subject": fill(item.subject),
        "receiptDate": timestamp(item.receipt_date),
        "expirationDate": timestamp(item.expiration_date),
        "readStatus": item.read_at is not None,
        "visible": item.visible,
        "registeredMail": item.registered_mail,
        "messageTypeId": item.message_type_code,
        "senderOrganizationId": item.organization_code,
        "attachments": attachments(item.attachments, item.message_id, root),
        "bodyMainContent": item.body_main_content,
        "replyAuthorized": item.reply_authorized,
    }
    _put(body, "originalMessageId", item.original_message_id)
    attention = {}
    _put(attention, "id", item.for_attention_id)
    _put(attention, "type", item.for_attention_type)
    _put(attention, "name", item.for_attention_name)
    _put(body, "forTheAttentionOf", attention)
    if item.application_code:
        body["senderApplicationId"] = item.application_code
    if item.payment_data is not None:
        body["paymentData"] = payment_data(item.payment_data)
    if item.business_data:
        body["businessDataList"] = business_data(item.business_data)
    return body


def message_status(item: Message) -> dict:
    return {
        "messageId": item.message_id,
        "eboxId": {"eboxType": "enterprise", "eboxIdValue": item.ebox.enterprise.cbe},
        "expirationDate": timestamp(item.expiration_date),
        "readStatus": item.read_at is not None,
        "visible": item.visible,
    }


# --- reference data -------------------------------------------------------------------------------


def image(logo: Logo, href: str) -> dict:
    body = {"imageId": logo.image_id, "size": kilobytes(logo.size), "mediaType": logo.media_type, "contentHref": href}
    _put(body, "language", logo.language)
    return body


def _logo_href(root: str, kind: str, owner_id: str, image_id: str) -> str:
    return f"{root}/{REGISTRY_ROOT}referenceData/{kind}/{owner_id}/images/{image_id}/content"


def sender_organization(item: SenderOrganization, root: str) -> dict:
    body = {
        "organizationId": item.organization_id,
        "organizationShortName": fill(item.short_name),
        "senderApplicationIds": [app.application_id for app in item.applications.all()],
        "messageTypeIds": [kind.message_type_id for kind in item.message_types.all()],
    }
    _put(body, "organizationLongName", fill(item.long_name))
    _put(body, "organizationUrl", fill(item.url))
    _put(body, "contactBusiness", item.contact_business)
    _put(body, "contactTechnical", item.contact_technical)
    logos = [
        image(logo, _logo_href(root, "senderOrganizations", item.organization_id, logo.image_id))
        for logo in item.logos.all()
    ]
    _put(body, "organizationLogos", logos)
    return body


def sender_application(item: SenderApplication, root: str) -> dict:
    body = {
        "applicationId": item.application_id,
        "applicationName": fill(item.name),
        "senderOrganizationIds": [org.organization_id for org in item.organizations.all()],
        "messageTypeIds": [kind.message_type_id for kind in item.message_types.all()],
    }
    _put(body, "applicationDescription", fill(item.description))
    _put(body, "applicationUrl", fill(item.url))
    _put(body, "contactBusiness", item.contact_business)
    _put(body, "contactTechnical", item.contact_technical)
    logos = [
        image(logo, _logo_href(root, "senderApplications", item.application_id, logo.image_id))
        for logo in item.logos.all()
    ]
    _put(body, "applicationLogos", logos)
    return body


def message_type(item: MessageType) -> dict:
    body = {
        "messageTypeId": item.message_type_id,
        "messageTypeName": fill(item.name),
        "validityPeriod": {"validityPeriodNumber": item.validity_number, "validityPeriodUnit": item.validity_unit},
        "senderOrganizationIds": [org.organization_id for org in item.organizations.all()],
        "senderApplicationIds": [app.application_id for app in item.applications.all()],
    }
    _put(body, "messageTypeDescription", fill(item.description))
    return body
