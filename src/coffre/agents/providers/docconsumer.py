"""The e-Box DocConsumer agent: an enterprise's e-Box messages from a Message Registry REST v2.1.

The registry is the official e-Box Enterprise or any other provider of the contract (another
Coffre instance). The person sets it up as docs/agents-docconsumer.md tells: Coffre makes a key
and a self-signed certificate (``docconsumer_setup``), the certificate is registered at the e-Box
side as a webservice account with the DocConsumer permission, and its client id comes back here.

One sync (``coffre.agents.sdk``): ``open_session`` gets an access token (``ebox_registry``:
``private_key_jwt``); ``list_documents`` pages through ``GET /ebox/messages`` and gives the
messages oldest first; ``download`` reads one message (``GET /ebox/messages/{id}``), its
attachments' contents, its body, and its sender organization and message type (reference data,
when the client may read it), and keeps sender, type, dates, payment data and expiration.

The cursor is the receipt date and id of the last message stored. The next listing asks for the
messages received from two calendar days before that date (``receivedAfter`` is a day, read in the
registry's time zone), so that a message that became visible late, or whose publication committed
after a later one, is still listed; the engine skips the ones it has by their id. A listing is
repeated (a few times at most) when the registry's count moved while paging, so that a message
published or expired meanwhile cannot shift another out of the pages.

Downloading a message's main content marks it read at the registry, as any DocConsumer does.
Never logs or puts in a message the private key, an assertion or a token.
"""

import base64
import datetime as dt
import hashlib
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal, InvalidOperation
from urllib.parse import quote
from zoneinfo import ZoneInfo

from django.utils import translation
from django.utils.translation import gettext_lazy as _

from coffre.agents.providers import ebox_registry
from coffre.agents.providers.pem import PemError, pem_text
from coffre.agents.sdk import (
    Agent,
    Category,
    CredentialField,
    FetchedDocument,
    FieldKind,
    LoginFailed,
    PaymentFacts,
    RemoteDocument,
    RemoteFile,
    Session,
    UnknownAgentError,
)
from coffre.core.cbe import InvalidCBE, normalize_cbe
from coffre.intake.filenames import clean_text
from coffre.oauth.assertions import load_private_key
from coffre.oauth.errors import ClientError

logger = logging.getLogger("coffre.agents.docconsumer")
BRUSSELS = ZoneInfo("Europe/Brussels")
LANGUAGES = ("fr", "nl", "de")
_MEDIA_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$")
MAX_FILE_NAME = 120


def _text(value, language: str = "") -> str:
    """One language of a TranslatedString: the active one, else fr, nl, de."""
    if isinstance(value, str):
        return clean_text(value)
    if not isinstance(value, dict):
        return ""
    for code in (language, *LANGUAGES):
        text = value.get(code)
        if isinstance(text, str) and text.strip():
            return clean_text(text)
    return ""


def _translations(value) -> dict:
    """A TranslatedString as kept in the details: its non-empty string values."""
    if not isinstance(value, dict):
        return {}
    return {code: text for code, text in value.items() if isinstance(code, str) and isinstance(text, str) and text}


def _moment(value, what: str) -> dt.datetime:
    """A contract date-time (or date) as an aware datetime; a date alone is midnight in Brussels."""
    if not isinstance(value, str):
        raise UnknownAgentError(f"{what} is missing or not a date-time")
    try:
        moment = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        raise UnknownAgentError(f"{what} is not a date-time: {value[:40]!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=BRUSSELS)


def _decimal(value, what: str) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise UnknownAgentError(f"{what} is not a number")
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise UnknownAgentError(f"{what} is not a number") from None
    if not number.is_finite():
        raise UnknownAgentError(f"{what} is not a finite number")
    return number


def _cursor(receipt: dt.datetime, message_id: str) -> str:
    return f"{receipt.astimezone(dt.UTC).isoformat()}|{message_id}"


def received_after(cursor: str, overlap_days: int) -> dt.date | None:
    """The ``receivedAfter`` day of the listing that resumes after ``cursor`` (None: everything)."""
    moment_text, bar, _message_id = (cursor or "").partition("|")
    if not bar:
        return None
    try:
        moment = dt.datetime.fromisoformat(moment_text)
    except ValueError:
        return None  # a cursor of another version: list everything again (the engine skips what it has)
    if moment.tzinfo is None:
        return None
    return moment.astimezone(BRUSSELS).date() - dt.timedelta(days=overlap_days)


def _digest_matches(content: bytes, digest) -> bool:
    """True unless the attachment's sha_256 digest (base64url) says otherwise."""
    if not isinstance(digest, dict) or str(digest.get("digestMethod", "")).lower() != "sha_256":
        return True
    value = digest.get("digestValue")
    if not isinstance(value, str):
        return True
    try:
        expected = base64.urlsafe_b64decode(value.strip() + "=" * (-len(value.strip()) % 4))
    except ValueError:
        return False
    return hashlib.sha256(content).digest() == expected


def _file_name(name, fallback: str) -> str:
    text = clean_text(name) if isinstance(name, str) else ""
    text = re.split(r"[\\/]", text)[-1].strip(" .")
    return (text or fallback)[:MAX_FILE_NAME]


def _media_type(value) -> str:
    text = value.strip().lower() if isinstance(value, str) else ""
    return text if _MEDIA_TYPE.match(text) else "application/octet-stream"


def _reference(value) -> str:
    """The payment reference: a string, or the text of the contract's reference object."""
    if isinstance(value, str):
        return clean_text(value)[:140]
    if isinstance(value, dict):
        for key in ("value", "reference", "structuredReference", "text"):
            if isinstance(value.get(key), str):
                return clean_text(value[key])[:140]
    return ""


class DocConsumerAgent(Agent):
    id = "ebox-docconsumer"
    name = "e-Box Enterprise (DocConsumer)"
    provider = "e-Box Enterprise"
    logo = "coffre/agents/ebox.svg"
    category = Category.ADMINISTRATION
    frequency = dt.timedelta(days=1)
    max_concurrent = 4
    description = _(
        "Brings the messages of an enterprise's e-Box, with their attachments, dates and payment "
        "data, from the official e-Box Enterprise or another e-Box provider."
    )
    credential_fields = (
        CredentialField(
            "registry_url",
            _("Message Registry address"),
            FieldKind.URL,
            required=False,
            help_text=_(
                "Leave empty for the official e-Box Enterprise. Another Coffre: "
                "https://its-address/REST/ebox/enterprise/messageRegistry/v2/"
            ),
        ),
        CredentialField(
            "token_url",
            _("Token endpoint address"),
            FieldKind.URL,
            required=False,
            help_text=_("Leave empty: the official one, or the one another Coffre announces."),
        ),
        CredentialField(
            "audience",
            _("Token audience"),
            FieldKind.URL,
            required=False,
            help_text=_("Leave empty unless the e-Box provider gives one."),
        ),
        CredentialField("client_id", _("Client ID"), help_text=_("The client ID the e-Box side gave.")),
        CredentialField("enterprise", _("Enterprise number"), help_text=_("The CBE number of the e-Box.")),
        CredentialField(
            "private_key",
            _("Private key"),
            FieldKind.MULTILINE,
            secret=True,
            help_text=_("Made by Coffre with the certificate; never shown again."),
        ),
    )
    #: Messages per page of ``GET /ebox/messages`` (the contract's maximum).
    page_size = 100
    #: Calendar days listed again before the cursor's day (see the module's doc).
    overlap_days = 2
    #: Listings of one sync when the registry's count moves while paging.
    listing_passes = 3

    # --- session -------------------------------------------------------------------------------------

    @contextmanager
    def open_session(self, credentials: dict) -> Iterator[Session]:
        values = dict(credentials)
        client_id = str(values.get("client_id", "")).strip()
        if not client_id:
            raise LoginFailed("the client id is missing")
        try:
            enterprise = normalize_cbe(str(values.get("enterprise", "")), lenient=True)
        except InvalidCBE:
            raise LoginFailed("the enterprise number is not a valid CBE number") from None
        try:
            key = load_private_key(pem_text(str(values.get("private_key", ""))))
        except (PemError, ClientError) as exc:
            raise LoginFailed(f"the private key cannot be used: {exc}") from None
        where = ebox_registry.endpoints(
            str(values.get("registry_url", "")), str(values.get("token_url", "")), str(values.get("audience", ""))
        )
        with ebox_registry.RegistryClient(where, client_id, key) as registry:
            registry.authenticate()
            yield Session(
                credentials=values,
                state={"registry": registry, "enterprise": enterprise, "names": {}},
            )

    # --- listing -------------------------------------------------------------------------------------

    def list_documents(self, session: Session, cursor: str) -> Iterator[RemoteDocument]:
        registry: ebox_registry.RegistryClient = session.state["registry"]
        params: dict = {"pageSize": self.page_size}
        since = received_after(cursor, self.overlap_days)
        if since is not None:
            params["receivedAfter"] = since.isoformat()
        listed: dict[str, tuple[dt.datetime, dict]] = {}
        for _pass in range(self.listing_passes):
            if self._list_once(registry, params, listed):
                break
        else:
            logger.warning(
                "docconsumer: the registry's message count kept moving during %d listings; "
                "the next sync lists the same days again",
                self.listing_passes,
            )
        language = translation.get_language() or ""
        for message_id, (receipt, item) in sorted(listed.items(), key=lambda pair: (pair[1][0], pair[0])):
            yield self._remote(message_id, receipt, item, language[:2])

    def _list_once(self, registry, params: dict, listed: dict) -> bool:
        """One listing through every page into ``listed``; True when it is consistent (the count
        did not move and every message it counts was seen)."""
        seen: set[str] = set()
        totals: set[int] = set()
        page = 1
        while True:
            body = registry.get_json(
                "ebox/messages",
                {**params, "page": page},
                absent="the registry has no e-Box for this enterprise; activate it at the e-Box side",
            )
            items, total = self._page(body)
            totals.add(total)
            fresh = 0
            for item in items:
                message_id = item["messageId"]
                if message_id not in seen:
                    fresh += 1
                    seen.add(message_id)
                listed[message_id] = (_moment(item.get("receiptDate"), f"message {message_id}: receiptDate"), item)
            if len(items) < self.page_size or len(seen) >= total or not fresh:
                break
            page += 1
        return len(totals) == 1 and len(seen) >= min(totals)

    @staticmethod
    def _page(body) -> tuple[list[dict], int]:
        if not isinstance(body, dict) or not isinstance(body.get("items"), list):
            raise UnknownAgentError("GET ebox/messages: the answer has no items list")
        total = body.get("totalItems")
        if isinstance(total, bool) or not isinstance(total, int) or total < 0:
            raise UnknownAgentError("GET ebox/messages: the answer has no totalItems count")
        for item in body["items"]:
            if not isinstance(item, dict) or not isinstance(item.get("messageId"), str) or not item["messageId"]:
                raise UnknownAgentError("GET ebox/messages: a listed message has no messageId")
        return body["items"], total

    def _remote(self, message_id: str, receipt: dt.datetime, item: dict, language: str) -> RemoteDocument:
        payment = item.get("paymentData") if isinstance(item.get("paymentData"), dict) else {}
        return RemoteDocument(
            remote_id=message_id,
            cursor=_cursor(receipt, message_id),
            title=_text(item.get("subject"), language),
            issued_on=receipt.astimezone(BRUSSELS).date(),
            amount=_decimal(payment.get("amount"), f"message {message_id}: paymentData.amount"),
            currency=str(payment.get("currency", ""))[:3] if payment else "",
            details={
                "receiptDate": item.get("receiptDate"),
                "messageTypeId": item.get("messageTypeId", ""),
                "senderOrganizationId": item.get("senderOrganizationId", ""),
            },
        )

    # --- download ------------------------------------------------------------------------------------

    def download(self, session: Session, document: RemoteDocument) -> FetchedDocument:
        registry: ebox_registry.RegistryClient = session.state["registry"]
        message_id = document.remote_id
        path = f"ebox/messages/{quote(message_id, safe='')}"
        message = registry.get_json(path, optional=True)
        if message is None:
            raise UnknownAgentError(f"GET {path}: the message is no longer available (expired or hidden)")
        if not isinstance(message, dict) or message.get("messageId") != message_id:
            raise UnknownAgentError(f"GET {path}: the answer is not this message")
        language = (translation.get_language() or "")[:2]
        files = self._files(registry, path, message)
        organization_id = str(message.get("senderOrganizationId") or "")
        organization = self._reference(session, "senderOrganizations", organization_id)
        message_type_id = str(message.get("messageTypeId") or "")
        message_type = self._reference(session, "messageTypes", message_type_id)
        sender_names = _translations((organization or {}).get("organizationShortName"))
        sender_name = _text(sender_names, language)
        details = {
            "messageId": message_id,
            "ebox": session.state["enterprise"],
            "subject": _translations(message.get("subject")),
            "senderOrganizationName": sender_names,
            "senderApplicationId": str(message.get("senderApplicationId") or ""),
            "messageTypeName": _translations((message_type or {}).get("messageTypeName")),
            "registeredMail": message.get("registeredMail") is True,
            "originalMessageId": str(message.get("originalMessageId") or ""),
        }
        payment = self._payment(message, sender_name or organization_id, details)
        return FetchedDocument(
            files=tuple(files),
            subject=_text(message.get("subject"), language),
            sender_name=sender_name,
            sender_id=organization_id,
            message_type=message_type_id,
            issued_at=_moment(message.get("receiptDate"), f"message {message_id}: receiptDate"),
            expires_at=(
                _moment(message["expirationDate"], f"message {message_id}: expirationDate")
                if message.get("expirationDate")
                else None
            ),
            payment=payment,
            details={key: value for key, value in details.items() if value not in ("", {}, False)},
        )

    def _files(self, registry, path: str, message: dict) -> list[RemoteFile]:
        """The main content first (the body or the main attachment), then the others in order."""
        listing = message.get("attachments")
        if not isinstance(listing, dict) or not isinstance(listing.get("items"), list):
            listing = registry.get_json(f"{path}/attachments")
        items = listing.get("items") if isinstance(listing, dict) else None
        if not isinstance(items, list):
            raise UnknownAgentError(f"GET {path}/attachments: the answer has no items list")
        attachments = []
        for position, item in enumerate(items, start=1):
            attachment_id = item.get("attachmentId") if isinstance(item, dict) else None
            if not isinstance(attachment_id, str) or not attachment_id:
                raise UnknownAgentError(f"{path}: an attachment has no attachmentId")
            content_path = f"{path}/attachments/{quote(attachment_id, safe='')}/content"
            # The URL is built from the root, never taken from contentHref: a token goes nowhere else.
            content = registry.get_content(content_path)
            if not _digest_matches(content, item.get("digest")):
                raise UnknownAgentError(f"GET {content_path}: the content does not match its sha_256 digest")
            remote = RemoteFile(
                _file_name(item.get("fileName"), f"attachment-{position}"), _media_type(item.get("mediaType")), content
            )
            attachments.append((item.get("mainContent") is not True, remote))
        attachments.sort(key=lambda pair: pair[0])  # stable: the main content first
        files = [remote for _annex, remote in attachments]
        body = registry.get_json(f"{path}/body", optional=True)
        text = self._body_text(body)
        if text:
            body_file = RemoteFile("message.txt", "text/plain", text.encode("utf-8"))
            if message.get("bodyMainContent") is True:
                files.insert(0, body_file)
            else:
                files.append(body_file)
        if not files:
            raise UnknownAgentError(f"GET {path}: the message has neither attachment nor body")
        return files

    @staticmethod
    def _body_text(body) -> str:
        """The body's texts, each language once (most bodies are given in one language)."""
        if not isinstance(body, dict):
            return ""
        texts: list[str] = []
        for code in (*LANGUAGES, *sorted(set(body) - set(LANGUAGES))):
            text = body.get(code)
            if isinstance(text, str) and text.strip() and text.strip() not in texts:
                texts.append(text.strip())
        return "\n\n---\n\n".join(texts) + ("\n" if texts else "")

    @staticmethod
    def _reference(session: Session, kind: str, reference_id: str) -> dict | None:
        """A sender organization or message type, once per sync; None when the client may not read
        reference data (403) or the registry does not know it (404)."""
        registry: ebox_registry.RegistryClient = session.state["registry"]
        if not reference_id or ebox_registry.REFERENCE_DATA not in registry.scopes:
            return None  # a token without reference data would be refused (403) for each one
        names: dict = session.state["names"]
        key = (kind, reference_id)
        if key not in names:
            found = registry.get_json(
                f"referenceData/{kind}/{quote(reference_id, safe='')}", optional=True
            )
            names[key] = found if isinstance(found, dict) else None
        return names[key]

    @staticmethod
    def _payment(message: dict, beneficiary: str, details: dict) -> PaymentFacts | None:
        payment = message.get("paymentData")
        if not isinstance(payment, dict):
            return None
        message_id = message["messageId"]
        due = payment.get("dueDate")
        details["paymentDataId"] = str(payment.get("paymentDataId") or "")
        return PaymentFacts(
            amount=_decimal(payment.get("amount"), f"message {message_id}: paymentData.amount"),
            vat_amount=_decimal(payment.get("vatAmount"), f"message {message_id}: paymentData.vatAmount"),
            currency=str(payment.get("currency") or "")[:3].upper(),
            due_date=(
                _moment(due, f"message {message_id}: paymentData.dueDate").astimezone(BRUSSELS).date()
                if due
                else None
            ),
            iban=re.sub(r"\s+", "", str(payment.get("iban") or "")).upper()[:34],
            bic=str(payment.get("bic") or "").strip().upper()[:11],
            reference=_reference(payment.get("reference")),
            beneficiary=beneficiary,
        )
