"""Schemas of the event API (``ebox-enterprise-event-api-1.1.1.yaml``): the feed's query, the
submitted events (strictly parsed), and the documented page.

The class names are the contract's definition names, so that ``/api/docs`` shows them as the
contract does. Date-times are RFC 3339 with an offset (``2026-03-02T10:00:00+01:00`` or ``...Z``);
a null is never accepted for a property of the contract (leave it out instead), as in the
publication profile; unknown properties are ignored.
"""

import datetime as dt
import re
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from ninja import Field, Schema
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, StrictBool, StringConstraints
from pydantic import WithJsonSchema, model_validator

from coffre.api.publication_input import SUBJECT_MAX
from coffre.core.cbe import InvalidCBE, normalize_cbe
from coffre.events.models import EventType

BRUSSELS = ZoneInfo("Europe/Brussels")
INT64_MAX = 2**63 - 1
#: Bounds of ``pageSize``: events are small, and a reader catching up wants large pages.
FEED_PAGE_MAX = 1000
#: Events per submission: larger batches are split by the provider (400 otherwise).
SUBMIT_MAX = 1000
ID_MAX = 100
CORRELATION_ID_MAX = 200
EVENT_TYPES = tuple(EventType.values)
_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})", re.IGNORECASE)
DATE_TIME_HINT = "a date-time with offset, e.g. 2026-03-02T10:00:00+01:00 or 2026-03-02T09:00:00Z"


def parse_date_time(text: str) -> dt.datetime:
    """An RFC 3339 date-time with offset; ``ValueError`` for anything else."""
    if not isinstance(text, str) or not _DATE_TIME.fullmatch(text):
        raise ValueError(f"expected {DATE_TIME_HINT}")
    try:
        return dt.datetime.fromisoformat(text.upper())
    except ValueError:
        raise ValueError(f"not a valid date-time: expected {DATE_TIME_HINT}") from None


def _stored_instant(value) -> dt.datetime:
    instant = parse_date_time(value)
    try:  # stored in UTC, shown in Brussels by the portal: both must exist
        instant.astimezone(dt.UTC).astimezone(BRUSSELS)
    except OverflowError:
        raise ValueError("outside the years 1 to 9999 once in UTC or in Europe/Brussels") from None
    return instant


def _encodable(value: str) -> str:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("contains a lone surrogate (\\ud800-\\udfff), which is not a character") from None
    return value


def _cbe(value: str) -> str:
    try:
        return normalize_cbe(value)
    except InvalidCBE as exc:
        raise ValueError(str(exc)) from None


def _text(min_length: int, max_length: int):
    """A string within bounds, of characters only (no lone surrogate: no database could store it)."""
    return Annotated[
        str, StringConstraints(min_length=min_length, max_length=max_length), AfterValidator(_encodable)
    ]


Identifier = _text(1, ID_MAX)
Instant = Annotated[
    dt.datetime, BeforeValidator(_stored_instant), WithJsonSchema({"type": "string", "format": "date-time"})
]
CBENumber = Annotated[
    str,
    StringConstraints(pattern=r"^[0-9]{10}$"),
    AfterValidator(_cbe),
    WithJsonSchema(
        {"type": "string", "pattern": "^[0-9]{10}$", "description": "the kbo/cbe number of the enterprise"}
    ),
]


Translation = _text(0, SUBJECT_MAX)


class TranslatedString(BaseModel):
    """The contract's TranslatedString, parsed strictly (a plain pydantic model: ninja's ``Schema``
    would read a bare string as an object without properties)."""

    model_config = ConfigDict(extra="ignore")

    nl: Translation | None = None
    fr: Translation | None = None
    de: Translation | None = None
    en: Translation | None = None


class EboxEnterpriseDocumentEvent(BaseModel):
    """An event about a document of an e-Box (submitted, and ``eventData`` of the feed)."""

    model_config = ConfigDict(extra="ignore")

    eventType: Literal["newDocument", "newDocumentReminder", "readDocument", "documentExpirationAlert"]
    eventCorrelationId: _text(1, CORRELATION_ID_MAX) | None = Field(
        None,
        description="The submitting provider's identifier of this event: a second submission with the same id "
        "and the same content is accepted and not stored again; with another content it is refused (409).",
    )
    enterpriseId: CBENumber
    messageId: Identifier
    receiptDate: Instant
    expirationDate: Instant
    registeredMail: StrictBool
    messageTypeId: Identifier | None = None
    senderOrganizationId: Identifier | None = None
    senderApplicationId: Identifier | None = None
    subject: TranslatedString | None = None

    @model_validator(mode="before")
    @classmethod
    def _no_null(cls, data):
        """A known property that is null is refused (unknown properties are ignored, nulls too)."""
        if not isinstance(data, dict):
            return data
        subject = data.get("subject")
        nulls = [name for name in cls.model_fields if name in data and data[name] is None] + [
            f"subject.{lang}"
            for lang in TranslatedString.model_fields
            if isinstance(subject, dict) and lang in subject and subject[lang] is None
        ]
        if nulls:
            raise ValueError(f"{nulls[0]} is null: leave the property out instead")
        return data

    @model_validator(mode="after")
    def _coherent(self):
        if self.expirationDate < self.receiptDate:
            raise ValueError("expirationDate is before receiptDate")
        return self


class EventFeedQuery(Schema):
    lastSequenceNbr: int = Field(
        ...,
        ge=0,
        le=INT64_MAX,
        description="The eventSequenceNbr of the last event of the previous page (0 to start from the first).",
    )
    pageSize: int = Field(
        ...,
        ge=1,
        le=FEED_PAGE_MAX,
        description=f"The maximum number of events to return (1 to {FEED_PAGE_MAX}).",
    )
    startTime: str | None = Field(
        None, max_length=64, description=f"Only events written at or after this instant ({DATE_TIME_HINT})."
    )
    clientId: str | None = Field(
        None, max_length=200, description="When given, the client id of the access token (403 otherwise)."
    )
    filter: str | None = Field(
        None,
        max_length=200,
        description="Only events of these types: a comma-separated list of eventType values, without spaces, "
        f"e.g. newDocument,readDocument (known types: {', '.join(EVENT_TYPES)}).",
    )


class SubmitQuery(Schema):
    clientId: str | None = Field(
        None, max_length=200, description="When given, the client id of the access token (403 otherwise)."
    )


class EboxEnterpriseDocumentEventPageItem(Schema):
    eventSequenceNbr: int
    eventTime: str = Field(..., json_schema_extra={"format": "date-time"})
    eventProviderId: str = Field(
        ..., description="The client id of the submitting provider, or this registry's id."
    )
    eventData: EboxEnterpriseDocumentEvent


class EventPageInfo(Schema):
    lastSequenceNbr: int = Field(
        ..., description="The last eventSequenceNbr of this page (the request's when empty)."
    )
    hasNext: bool


class EboxEnterpriseDocumentEventPage(Schema):
    EboxEnterpriseDocumentEvents: list[EboxEnterpriseDocumentEventPageItem]
    pageInfo: EventPageInfo


class SubmissionOut(Schema):
    """Extension (the contract gives the 201 no body): what the submission did."""

    eventsCreated: int
    eventsAlreadyStored: int
