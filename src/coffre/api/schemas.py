"""Schemas of the e-Box REST API: query parameters (strictly parsed) and documented outputs.

Outputs are built by ``coffre.api.presenters``; the output schemas here document them in the
OpenAPI of ``/api/docs`` and follow the official Swagger definitions.
"""

import re
from datetime import date
from typing import Annotated, Literal

from ninja import Field, Schema
from pydantic import BeforeValidator, ConfigDict, StrictBool

INT32_MAX = 2**31 - 1
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _strict_date(value):
    if isinstance(value, str) and not _DATE.fullmatch(value):
        raise ValueError("expected a date as yyyy-MM-dd")
    return value


def _no_control_characters(value):
    if isinstance(value, str) and any(ord(char) < 32 or ord(char) == 127 for char in value):
        raise ValueError("control characters are not allowed")
    return value


StrictDate = Annotated[date, BeforeValidator(_strict_date)]
SearchText = Annotated[str, BeforeValidator(_no_control_characters)]


class Paging(Schema):
    page: int = Field(1, ge=1, le=INT32_MAX, description="The index of the current page of items.")
    pageSize: int = Field(25, ge=1, le=100, description="The maximal number of results per page.")


class MessageQuery(Paging):
    receivedBefore: StrictDate | None = Field(None, description="Received before this day (Europe/Brussels).")
    receivedAfter: StrictDate | None = Field(None, description="Received on this day or later.")
    expiredBefore: StrictDate | None = Field(None, description="Expiring before this day.")
    expiredAfter: StrictDate | None = Field(None, description="Expiring on this day or later.")
    readStatus: bool | None = None
    visible: bool | None = None
    messageTypeId: str | None = None
    senderOrganizationId: str | None = None
    senderApplicationId: str | None = None
    registeredMail: bool | None = None
    q: SearchText | None = Field(
        None,
        description="Substring (case- and accent-insensitive) of the subject, business data values, "
        "forTheAttentionOf, or the names and descriptions of the sender organization, application "
        "or message type, in language qlang.",
    )
    qlang: Literal["fr", "nl", "de", "en"] | None = Field(None, description="Required with q.")


class SummaryQuery(Schema):
    eboxIdValue: str | None = Field(
        None,
        description="Extension: the CBE number of another e-Box, for clients with the summaryallebox scope.",
    )


# --- documented outputs ---------------------------------------------------------------------------


class TranslatedString(Schema):
    nl: str | None = None
    fr: str | None = None
    de: str | None = None
    en: str | None = None


class StatusMessageOut(Schema):
    id: str
    code: str
    message: str
    environment: str | None = None


class EboxOut(Schema):
    numberOfMessages: int
    numberOfUnreadMessages: int | None = None
    lastReceiptDate: str | None = None
    lastConsultationDate: str | None = None
    eboxSize: float | None = None


class DigestOut(Schema):
    digestMethod: Literal["sha_256"]
    digestValue: str


class AttachmentOut(Schema):
    attachmentId: str | None = None
    attachmentTitle: TranslatedString | None = None
    fileName: str
    mainContent: bool
    mediaType: str
    size: float
    digest: DigestOut | None = None
    attachmentSigned: bool | None = None
    contentHref: str | None = None


class AttachmentsOut(Schema):
    items: list[AttachmentOut]
    totalItems: int


class PaymentDataOut(Schema):
    paymentDataId: str
    amount: float
    vatAmount: float
    currency: str
    dueDate: str
    iban: str
    bic: str | None = None
    reference: dict | None = None


class ForTheAttentionOf(Schema):
    id: str | None = None
    type: str | None = None
    name: str | None = None


class BusinessDataOut(Schema):
    key: str
    name: TranslatedString
    description: TranslatedString | None = None
    values: list[TranslatedString]


class BusinessDataListOut(Schema):
    items: list[BusinessDataOut]
    totalItems: int


class MessageOut(Schema):
    messageId: str
    originalMessageId: str | None = None
    subject: TranslatedString
    receiptDate: str
    expirationDate: str
    readStatus: bool
    visible: bool | None = None
    registeredMail: bool
    forTheAttentionOf: ForTheAttentionOf | None = None
    messageTypeId: str
    senderOrganizationId: str
    senderApplicationId: str | None = None
    attachments: AttachmentsOut | None = None
    bodyMainContent: bool
    paymentData: PaymentDataOut | None = None
    businessDataList: BusinessDataListOut | None = None
    replyAuthorized: bool


class MessagesOut(Schema):
    items: list[MessageOut]
    totalItems: int


class MessageToUpdate(Schema):
    model_config = ConfigDict(extra="ignore")
    messageId: str = Field(..., min_length=1, max_length=100)
    visible: StrictBool  # a JSON boolean: "no" or 0 is malformed (400), not false


class MessagesToUpdate(Schema):
    model_config = ConfigDict(extra="ignore")
    items: list[MessageToUpdate] = Field(..., max_length=1000)
    totalItems: int | None = None


class EboxId(Schema):
    eboxType: Literal["enterprise", "citizen"]
    eboxIdValue: str = Field(..., min_length=1, max_length=20)


class MessageIdEboxId(Schema):
    messageId: str = Field(..., min_length=1, max_length=100)
    eboxId: EboxId


class MessageStatusOut(Schema):
    messageId: str
    eboxId: EboxId
    expirationDate: str | None = None
    readStatus: bool
    visible: bool | None = None


class MessageToLink(Schema):
    messageId: str = Field(..., min_length=1, max_length=100)
    recipients: list[EboxId] = Field(..., min_length=1, max_length=10000)


class LinkResponseOut(Schema):
    messageId: str
    expirationDate: str
    nbSuccessLinks: int
    errorCases: list[EboxId]


class PublicationStatusOut(Schema):
    messageId: str
    expirationDate: str
    code: str | None = None
    message: str | None = None


class ImageOut(Schema):
    imageId: str
    size: float
    mediaType: str
    language: str | None = None
    contentHref: str


class ValidityPeriodOut(Schema):
    validityPeriodNumber: int
    validityPeriodUnit: Literal["day", "month", "year"]


class MessageTypeOut(Schema):
    messageTypeId: str
    messageTypeName: TranslatedString
    messageTypeDescription: TranslatedString | None = None
    validityPeriod: ValidityPeriodOut | None = None
    senderOrganizationIds: list[str] = []
    senderApplicationIds: list[str] = []


class MessageTypesOut(Schema):
    items: list[MessageTypeOut]
    totalItems: int


class SenderOrganizationOut(Schema):
    organizationId: str
    organizationShortName: TranslatedString
    organizationLongName: TranslatedString | None = None
    organizationLogos: list[ImageOut] = []
    organizationUrl: TranslatedString | None = None
    senderApplicationIds: list[str] = []
    messageTypeIds: list[str] = []
    contactBusiness: str | None = None
    contactTechnical: str | None = None


class SenderOrganizationsOut(Schema):
    items: list[SenderOrganizationOut]
    totalItems: int


class SenderApplicationOut(Schema):
    applicationId: str
    applicationName: TranslatedString
    applicationDescription: TranslatedString | None = None
    applicationLogos: list[ImageOut] = []
    applicationUrl: TranslatedString | None = None
    senderOrganizationIds: list[str] = []
    messageTypeIds: list[str] = []
    contactBusiness: str | None = None
    contactTechnical: str | None = None


class SenderApplicationsOut(Schema):
    items: list[SenderApplicationOut]
    totalItems: int


ERRORS = {400: StatusMessageOut, 401: StatusMessageOut, 403: StatusMessageOut, 404: StatusMessageOut}
