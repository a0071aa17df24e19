"""Reading a ``publishMessage`` request: the JSON description and its file parts, checked against
the contract (NOTES.md, "Publication rules") into a ``MessageDraft``.

Every refusal is a ``Refusal(code, message)`` naming the property or part at fault. Nothing here
touches the database: sender and recipient checks belong to ``mailbox.services.publish_message``.
"""

import base64
import binascii
import datetime as dt
import json
import re
from decimal import Decimal, InvalidOperation
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr
from pydantic import ValidationError as PydanticValidationError

from coffre.core.cbe import InvalidCBE, normalize_cbe
from coffre.core.nul import nul_in
from coffre.mailbox.services import AttachmentDraft, MessageDraft, PaymentDraft
from coffre.mailbox.uploads import MemoryUpload, SealedUpload

BRUSSELS = ZoneInfo("Europe/Brussels")
MAX_FILES = 6
FILE_PARTS = {f"upfile{number}" for number in range(1, MAX_FILES + 1)}
JSON_PART = "messageToPublish"

# The Swagger's Attachment.mediaType enumeration, plus the image types the official publication
# examples send (NOTES.md: a documented deviation).
DOCUMENT_TYPES = frozenset({
    "application/pdf", "application/zip", "text/csv", "text/html", "text/plain", "text/xml",
    "application/vnd.oasis.opendocument.text", "application/vnd.oasis.opendocument.spreadsheet",
    "application/vnd.oasis.opendocument.presentation", "application/vnd.oasis.opendocument.graphics",
    "application/vnd.ms-excel", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.ms-powerpoint", "application/msword",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
})
IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/tiff"})
ACCEPTED_TYPES = DOCUMENT_TYPES | IMAGE_TYPES
# Magic numbers of executables (PE, ELF, Mach-O, scripts with a shebang, Java classes).
EXECUTABLE_MAGIC = (b"MZ", b"\x7fELF", b"\xfe\xed\xfa", b"\xce\xfa\xed\xfe", b"\xcf\xfa\xed\xfe", b"#!",
                    b"\xca\xfe\xba\xbe")

SUBJECT_MAX = 255
FILE_NAME_MAX = 80
BUSINESS_VALUE_MAX_BYTES = 256
ATTENTION_NAME_MAX = 100
_B64URL = re.compile(r"[A-Za-z0-9_-]+={0,2}")


class Refusal(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def invalid(message: str) -> Refusal:
    return Refusal("INVALID_INPUT", message)


class _In(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)


class TranslatedIn(_In):
    nl: StrictStr | None = None
    fr: StrictStr | None = None
    de: StrictStr | None = None
    en: StrictStr | None = None

    def given(self) -> dict:
        return {lang: text for lang, text in self.model_dump(exclude_none=True).items() if text}


class EboxIdIn(_In):
    eboxType: Literal["enterprise", "citizen"]
    eboxIdValue: StrictStr


class AttentionIn(_In):
    id: StrictStr | None = Field(None, max_length=100)
    type: StrictStr | None = Field(None, max_length=100)
    name: StrictStr | None = Field(None, max_length=ATTENTION_NAME_MAX)


class DigestIn(_In):
    digestMethod: StrictStr
    digestValue: StrictStr


class AttachmentIn(_In):
    httpPartName: StrictStr
    mainContent: StrictBool
    attachmentTitle: TranslatedIn | None = None
    digest: DigestIn | None = None
    attachmentSigned: StrictBool = False


class BusinessDataIn(_In):
    key: StrictStr = Field(..., min_length=1, max_length=100)
    values: list[TranslatedIn] = Field(..., min_length=1, max_length=50)
    name: TranslatedIn | None = None
    description: TranslatedIn | None = None


class PaymentDataIn(_In):
    paymentDataId: StrictStr | None = Field(None, max_length=100)
    amount: float
    vatAmount: float
    currency: StrictStr
    dueDate: StrictStr
    iban: StrictStr
    bic: StrictStr | None = None
    reference: dict | StrictStr | None = None


class MessageToPublishIn(_In):
    recipient: EboxIdIn
    subject: TranslatedIn
    bodyMainContent: StrictBool
    replyAuthorized: StrictBool
    messageTypeId: StrictStr = Field(..., min_length=1, max_length=100)
    forTheAttentionOf: AttentionIn | None = None
    originalMessageId: StrictStr | None = Field(None, max_length=100)
    expirationDate: StrictStr | None = None
    senderOrganizationId: StrictStr | None = None
    senderApplicationId: StrictStr | None = Field(None, max_length=100)
    registeredMail: StrictBool = False
    attachments: list[AttachmentIn] = Field(default_factory=list, max_length=MAX_FILES)
    bodyContent: TranslatedIn | None = None
    businessDataList: list[BusinessDataIn] = Field(default_factory=list, max_length=100)
    paymentData: PaymentDataIn | None = None


def _find_null(value, path: str) -> str | None:
    if value is None:
        return path
    if isinstance(value, dict):
        for key, item in value.items():
            found = _find_null(item, f"{path}.{key}")
            if found:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = _find_null(item, f"{path}[{index}]")
            if found:
                return found
    return None


def _pydantic_message(exc: PydanticValidationError) -> str:
    problems = []
    for error in exc.errors()[:5]:
        location = ".".join(str(part) for part in error["loc"])
        problems.append(f"{JSON_PART}.{location}: {error['msg']}")
    return "; ".join(problems)


def parse_description(raw: bytes | str) -> MessageToPublishIn:
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise invalid(f"{JSON_PART} is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise invalid(f"{JSON_PART} must be a JSON object.")
    null_at = _find_null(data, JSON_PART)
    if null_at:
        raise invalid(f"{null_at} is null: leave the property out instead.")
    nul_at = nul_in(data, JSON_PART)
    if nul_at:
        raise invalid(f"{nul_at} contains a NUL character (\\u0000), which is never accepted.")
    try:
        return MessageToPublishIn.model_validate(data)
    except PydanticValidationError as exc:
        raise invalid(_pydantic_message(exc)) from None


def _translated(value: TranslatedIn | None, what: str, max_chars: int | None = None) -> dict | None:
    if value is None:
        return None
    given = value.given()
    if max_chars:
        for lang, text in given.items():
            if len(text) > max_chars:
                raise invalid(f"{what}.{lang} is longer than {max_chars} characters.")
    return given or None


def _timestamp(text: str, what: str) -> dt.datetime:
    """A date-time with offset (``2025-03-31T23:59:59+02:00``), or a day (its start in Brussels)."""
    try:
        if len(text) == 10:
            return dt.datetime.combine(dt.date.fromisoformat(text), dt.time.min, tzinfo=BRUSSELS)
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise invalid(f"{what} is not a date-time (yyyy-MM-ddTHH:mm:ssXXX).") from None
    if value.tzinfo is None:
        raise invalid(f"{what} needs a time zone offset (yyyy-MM-ddTHH:mm:ssXXX).")
    try:  # stored in UTC, shown in Brussels: both must exist (9999-12-31T23:59-05:00 does not)
        value.astimezone(dt.UTC).astimezone(BRUSSELS)
    except OverflowError:
        raise invalid(f"{what} is outside the years 1 to 9999 once in UTC or in Europe/Brussels.") from None
    return value


def _amount(value: float, what: str) -> Decimal:
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise invalid(f"{what} is not a number.") from None
    if not amount.is_finite() or amount < 0:
        raise invalid(f"{what} must be a positive amount.")
    if amount != amount.quantize(Decimal("0.01")):
        raise invalid(f"{what} has more than two decimals.")
    if amount >= Decimal("1e13"):
        raise invalid(f"{what} is too large.")
    return amount


def iban_is_valid(iban: str) -> bool:
    if not re.fullmatch(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}", iban):
        return False
    rearranged = iban[4:] + iban[:4]
    return int("".join(str(int(char, 36)) for char in rearranged)) % 97 == 1


def _payment(data: PaymentDataIn | None) -> PaymentDraft | None:
    if data is None:
        return None
    iban = data.iban.replace(" ", "").upper()
    if not iban_is_valid(iban):
        raise invalid("paymentData.iban is not a valid IBAN.")
    if not re.fullmatch(r"[A-Z]{3}", data.currency):
        raise invalid("paymentData.currency must be an ISO 4217 code such as EUR.")
    bic = (data.bic or "").replace(" ", "").upper()
    if bic and not re.fullmatch(r"[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3})?", bic):
        raise invalid("paymentData.bic is not a BIC (8 or 11 characters).")
    return PaymentDraft(
        amount=_amount(data.amount, "paymentData.amount"),
        vat_amount=_amount(data.vatAmount, "paymentData.vatAmount"),
        currency=data.currency,
        due_date=_timestamp(data.dueDate, "paymentData.dueDate"),
        iban=iban,
        bic=bic,
        reference=data.reference,
        payment_data_id=data.paymentDataId or "",
    )


def _business_data(items: list[BusinessDataIn]) -> list[dict]:
    shaped = []
    for index, item in enumerate(items):
        values = []
        for position, value in enumerate(item.values):
            given = value.given()
            if not given:
                raise invalid(f"businessDataList[{index}].values[{position}] is empty.")
            for lang, text in given.items():
                if len(text.encode()) > BUSINESS_VALUE_MAX_BYTES:
                    raise invalid(
                        f"businessDataList[{index}].values[{position}].{lang} is longer than "
                        f"{BUSINESS_VALUE_MAX_BYTES} bytes."
                    )
            values.append(given)
        entry = {"key": item.key, "values": values}
        for name in ("name", "description"):
            text = _translated(getattr(item, name), f"businessDataList[{index}].{name}", 255)
            if text:
                entry[name] = text
        shaped.append(entry)
    return shaped


def _digest_matches(digest: DigestIn, sha256_hex: str, part: str) -> bool:
    if digest.digestMethod != "sha_256":
        raise invalid(f"The digest of {part} must use digestMethod sha_256.")
    value = digest.digestValue.strip()
    if not _B64URL.fullmatch(value):
        raise invalid(f"The digestValue of {part} is not base64url (RFC 4648 section 5).")
    try:
        decoded = base64.urlsafe_b64decode(value.rstrip("=") + "=" * (-len(value.rstrip("=")) % 4))
    except (binascii.Error, ValueError):
        raise invalid(f"The digestValue of {part} is not base64url (RFC 4648 section 5).") from None
    return decoded.hex() == sha256_hex


def _media_type(upload: SealedUpload, part: str) -> str:
    media_type = (upload.content_type or "").split(";")[0].strip().lower()
    if not media_type:
        raise invalid(f"The file part {part} needs a Content-Type (its media type).")
    if media_type not in ACCEPTED_TYPES:
        raise invalid(
            f"The media type {media_type} of {part} is not accepted; accepted: {', '.join(sorted(ACCEPTED_TYPES))}."
        )
    if upload.content.head.startswith(EXECUTABLE_MAGIC):
        raise invalid(f"The file part {part} is an executable; executables are refused.")
    return media_type


def _file_name(upload: SealedUpload, part: str) -> str:
    name = (upload.name or "").strip()
    if not name:
        raise invalid(f"The file part {part} needs a file name.")
    if len(name) > FILE_NAME_MAX:
        raise invalid(f"The file name of {part} is longer than {FILE_NAME_MAX} characters.")
    return name


def _attachments(description: MessageToPublishIn, files: dict[str, SealedUpload]) -> list[AttachmentDraft]:
    referenced = [item.httpPartName for item in description.attachments]
    duplicates = {name for name in referenced if referenced.count(name) > 1}
    if duplicates:
        raise invalid(f"attachments reference the part(s) {', '.join(sorted(duplicates))} more than once.")
    missing = [name for name in referenced if name not in files]
    if missing:
        raise invalid(f"No file part (with a file name) named {', '.join(missing)} as attachments reference.")
    unreferenced = sorted(set(files) - set(referenced))
    if unreferenced:
        raise invalid(f"The file part(s) {', '.join(unreferenced)} are not referenced by any attachment.")
    drafts = []
    mismatched = []
    for index, item in enumerate(description.attachments):
        upload = files[item.httpPartName]
        part = item.httpPartName
        media_type = _media_type(upload, part)
        file_name = _file_name(upload, part)
        if upload.content.size == 0:
            raise invalid(f"The file part {part} is empty.")
        if item.digest is not None and not _digest_matches(item.digest, upload.content.sha256, part):
            mismatched.append(part)
        drafts.append(
            AttachmentDraft(
                content=upload.content,
                file_name=file_name,
                media_type=media_type,
                main_content=item.mainContent,
                title=_translated(item.attachmentTitle, f"attachments[{index}].attachmentTitle", 255),
                signed=item.attachmentSigned,
            )
        )
    if mismatched:
        raise Refusal(
            "DIGEST_DO_NOT_MATCH", f"The digest of {', '.join(mismatched)} does not match the received content."
        )
    return drafts


def read_parts(post, files) -> tuple[bytes | str, dict[str, SealedUpload]]:
    """The JSON description and the sealed file parts of a parsed multipart request."""
    descriptions = list(post.getlist(JSON_PART)) + [
        upload.data for upload in files.getlist(JSON_PART) if isinstance(upload, MemoryUpload)
    ]
    if len(descriptions) != 1:
        raise invalid(f"The request needs exactly one part named {JSON_PART} (got {len(descriptions)}).")
    unexpected = sorted(set(post) - {JSON_PART})
    for name in unexpected:
        if name in FILE_PARTS:
            raise invalid(f"The part {name} has no file name; every file part needs one.")
    if unexpected:
        raise invalid(f"Unexpected part(s) {', '.join(unexpected)}; file parts are upfile1 to upfile{MAX_FILES}.")
    sealed: dict[str, SealedUpload] = {}
    for name in files:
        if name == JSON_PART:
            continue
        if name not in FILE_PARTS:
            raise invalid(f"Unexpected file part {name}; file parts are upfile1 to upfile{MAX_FILES}.")
        uploads = files.getlist(name)
        if len(uploads) != 1:
            raise invalid(f"The file part {name} appears more than once.")
        sealed[name] = uploads[0]
    return descriptions[0], sealed


def message_draft(description: MessageToPublishIn, files: dict[str, SealedUpload], token_cbe: str) -> MessageDraft:
    """The publication the request describes; raises Refusal at the first broken rule."""
    if description.recipient.eboxType != "enterprise":
        raise invalid("recipient.eboxType must be enterprise: this registry holds enterprise e-Boxes.")
    try:
        recipient = normalize_cbe(description.recipient.eboxIdValue)
    except InvalidCBE as exc:
        raise invalid(f"recipient.eboxIdValue: {exc}.") from None
    subject = _translated(description.subject, "subject", SUBJECT_MAX)
    if not subject:
        raise invalid("subject needs a text in at least one language (nl, fr, de).")
    body = _translated(description.bodyContent, "bodyContent")
    if description.bodyMainContent and body is None:
        raise invalid("bodyMainContent is true but there is no bodyContent.")
    main_contents = sum(item.mainContent for item in description.attachments) + description.bodyMainContent
    if main_contents != 1:
        raise invalid(
            f"A message has exactly one main content (an attachment with mainContent or bodyMainContent); "
            f"this one has {main_contents}."
        )
    attention = description.forTheAttentionOf.model_dump(exclude_none=True) if description.forTheAttentionOf else None
    sender = description.senderOrganizationId
    if sender is None:
        sender = token_cbe
    else:
        try:
            sender = normalize_cbe(sender)
        except InvalidCBE:
            raise Refusal("INVALID_SENDER", "senderOrganizationId is not a CBE number.") from None
    attachments = _attachments(description, files)
    expiration = None
    if description.expirationDate is not None:
        expiration = _timestamp(description.expirationDate, "expirationDate")
    return MessageDraft(
        recipient_cbe=recipient,
        subject=subject,
        message_type_id=description.messageTypeId,
        sender_organization_id=sender,
        sender_application_id=description.senderApplicationId,
        body=body,
        body_main_content=description.bodyMainContent,
        reply_authorized=description.replyAuthorized,
        registered_mail=description.registeredMail,
        for_attention=attention or None,
        original_message_id=description.originalMessageId or "",
        business_data=_business_data(description.businessDataList),
        payment=_payment(description.paymentData),
        expiration_date=expiration,
        attachments=attachments,
    )
