"""The event API (``ebox-enterprise-event-api-1.1.1.yaml``), under its contract's base path
``/events-api/1.0.0/``: the feed of the caller's own enterprise's events, and the submission of
events by other document providers.

- ``GET  ebox/enterprise/document/events`` (``getEboxEnterpriseDocumentEvents``), scope
  ``messagesfull``: the events of the token's enterprise after ``lastSequenceNbr``, in sequence
  order, whoever provided them. Another enterprise's events do not exist for the caller.
- ``POST ebox/enterprise/document/events`` (``submitEboxEnterpriseDocumentEvents``), scope
  ``publicationsender``: the token's client is the provider; it can never submit as another.

Authentication, scopes, StatusMessage errors and the audit trail are those of the Message Registry
(``coffre.api.base``). Reads are audited when they succeed, submissions always.
"""

import datetime as dt

from django.db import transaction
from django.http import HttpRequest, JsonResponse
from ninja import Query, Router

from coffre.api.base import ApiError, OperationBearer, actor_of, audit_read, invalid_input
from coffre.api.events_schemas import (
    DATE_TIME_HINT,
    EVENT_TYPES,
    SUBMIT_MAX,
    EboxEnterpriseDocumentEvent,
    EboxEnterpriseDocumentEventPage,
    EventFeedQuery,
    SubmissionOut,
    SubmitQuery,
    parse_date_time,
)
from coffre.api.schemas import StatusMessageOut
from coffre.audit.services import record
from coffre.core.errors import status_message
from coffre.events import selectors_feed, services_submission
from coffre.events.models import Event
from coffre.events.services_submission import SUBMIT_ACTION, SubmittedEvent
from coffre.mailbox.translations import fill, given
from coffre.oauth.scopes import MESSAGES_FULL, PUBLICATION_SENDER

EVENTS_ROOT = "events-api/1.0.0/"
EVENTS_PATH = "ebox/enterprise/document/events"
FEED_ACTION = "getEboxEnterpriseDocumentEvents"

router = Router(tags=["EboxEnterprise"])


def instant(value: dt.datetime) -> str:
    """ISO 8601 in UTC (``Z``), with the fraction of a second only when there is one."""
    utc = value.astimezone(dt.UTC)
    if utc.microsecond:
        return utc.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return utc.strftime("%Y-%m-%dT%H:%M:%SZ")


def event_item(event: Event) -> dict:
    data = {"eventType": event.event_type}
    if event.correlation_id:
        data["eventCorrelationId"] = event.correlation_id
    data |= {
        "enterpriseId": event.enterprise.cbe,
        "messageId": event.message_id,
        "receiptDate": instant(event.receipt_date),
        "expirationDate": instant(event.expiration_date),
        "registeredMail": event.registered_mail,
    }
    for key, value in (
        ("messageTypeId", event.message_type_id),
        ("senderOrganizationId", event.sender_organization_id),
        ("senderApplicationId", event.sender_application_id),
        ("subject", fill(event.subject)),
    ):
        if value:
            data[key] = value
    return {
        "eventSequenceNbr": event.sequence,
        "eventTime": instant(event.event_time),
        "eventProviderId": event.provider_id,
        "eventData": data,
    }


def _own_client(request: HttpRequest, client_id: str | None) -> None:
    if client_id is not None and client_id != request.auth.client_id:
        raise ApiError(403, "FORBIDDEN", "clientId must be the client id of the access token.")


def _start_time(text: str | None) -> dt.datetime | None:
    if text is None:
        return None
    try:
        value = parse_date_time(text)
    except ValueError:
        raise invalid_input(f"startTime: expected {DATE_TIME_HINT}.") from None
    try:
        return value.astimezone(dt.UTC)
    except OverflowError:  # before year 1 or after 9999 in UTC: every event, or none
        return None if value.year == 1 else dt.datetime.max.replace(tzinfo=dt.UTC)


def _event_types(text: str | None) -> frozenset[str] | None:
    if text is None:
        return None
    names = text.split(",")
    unknown = [name for name in names if name not in EVENT_TYPES]
    if unknown:
        raise invalid_input(
            f"filter: a comma-separated list of event types without spaces ({', '.join(EVENT_TYPES)}); "
            f"{unknown[0]!r} is not one."
        )
    return frozenset(names)


ERRORS = {400: StatusMessageOut, 401: StatusMessageOut, 403: StatusMessageOut}


@router.get(
    EVENTS_PATH,
    url_name=FEED_ACTION,
    operation_id=FEED_ACTION,
    auth=OperationBearer(FEED_ACTION, MESSAGES_FULL),
    response={200: EboxEnterpriseDocumentEventPage, **ERRORS},
    summary="Events of the own enterprise's documents after lastSequenceNbr, in sequence order.",
    description=(
        "The events of the token's enterprise (scope messagesfull), of this registry and of the providers that "
        "submitted them, with eventSequenceNbr > lastSequenceNbr, oldest first. Page with the pageInfo."
        "lastSequenceNbr of the previous page: sequence numbers appear in commit order, so that no event is "
        "skipped or seen twice."
    ),
)
def get_events(request, query: Query[EventFeedQuery]):
    _own_client(request, query.clientId)
    since = _start_time(query.startTime)
    types = _event_types(query.filter)
    context = request.auth
    page = selectors_feed.feed_page(
        context.enterprise_id, query.lastSequenceNbr, query.pageSize, since=since, event_types=types
    )
    items = [event_item(event) for event in page.events]
    last = page.events[-1].sequence if page.events else query.lastSequenceNbr
    audit_read(
        request,
        {
            "lastSequenceNbr": query.lastSequenceNbr,
            "returned": len(items),
            "firstSequenceNbr": page.events[0].sequence if page.events else None,
            "lastReturnedSequenceNbr": last if page.events else None,
        },
    )
    return JsonResponse(
        {
            "EboxEnterpriseDocumentEvents": items,
            "pageInfo": {"lastSequenceNbr": last, "hasNext": page.has_next},
        }
    )


def _submitted(item: EboxEnterpriseDocumentEvent) -> SubmittedEvent:
    subject = given(item.subject.model_dump(exclude_none=True)) if item.subject else {}
    return SubmittedEvent(
        event_type=item.eventType,
        correlation_id=item.eventCorrelationId or "",
        enterprise_cbe=item.enterpriseId,
        message_id=item.messageId,
        receipt_date=item.receiptDate,
        expiration_date=item.expirationDate,
        registered_mail=item.registeredMail,
        message_type_id=item.messageTypeId or "",
        sender_organization_id=item.senderOrganizationId or "",
        sender_application_id=item.senderApplicationId or "",
        subject=subject or None,
    )


@router.post(
    EVENTS_PATH,
    url_name="submitEboxEnterpriseDocumentEvents",
    operation_id=SUBMIT_ACTION,
    auth=OperationBearer(SUBMIT_ACTION, PUBLICATION_SENDER),
    response={201: SubmissionOut, **ERRORS, 409: StatusMessageOut},
    summary=f"Submit events of another document provider (at most {SUBMIT_MAX}, all or none).",
    description=(
        "The token's client (scope publicationsender) is the provider. Each event names an active enterprise "
        "of this registry. Idempotent by eventCorrelationId per provider: an id submitted again with the same "
        "content is accepted and not stored twice; with another content the request is refused (409) and "
        "nothing is stored."
    ),
)
def submit_events(
    request,
    EboxEnterpriseDocumentEvents: list[EboxEnterpriseDocumentEvent],  # noqa: N803 (the contract's name)
    query: Query[SubmitQuery],
):
    _own_client(request, query.clientId)
    items = EboxEnterpriseDocumentEvents
    if len(items) > SUBMIT_MAX:
        raise invalid_input(f"At most {SUBMIT_MAX} events per request.")
    try:
        done = services_submission.submit_events(
            request.auth.client_id, [_submitted(item) for item in items], actor_of(request)
        )
    except services_submission.UnknownEnterprise as exc:
        raise invalid_input(
            f"EboxEnterpriseDocumentEvents.{exc.index}.enterpriseId: {exc.event.enterprise_cbe} is not an active "
            f"enterprise of this registry (messageId {exc.event.message_id!r})."
        ) from None
    except services_submission.CorrelationConflict as exc:
        shown = ", ".join(repr(key) for key in exc.correlation_ids[:10])
        more = f" and {len(exc.correlation_ids) - 10} more" if len(exc.correlation_ids) > 10 else ""
        with transaction.atomic():  # the refused write is audited with the ids at fault
            record(
                actor_of(request),
                SUBMIT_ACTION,
                status=409,
                details={"error": "IDEMPOTENCY_VIOLATION", "eventCorrelationIds": exc.correlation_ids},
            )
        return status_message(
            409,
            "IDEMPOTENCY_VIOLATION",
            f"eventCorrelationId {shown}{more} already used for an event with another content; nothing was stored.",
        )
    return JsonResponse(
        {"eventsCreated": len(done.created), "eventsAlreadyStored": len(done.already_stored)}, status=201
    )
