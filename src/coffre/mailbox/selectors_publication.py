"""The look-ups of every publication: may this sender publish this type, and to which e-Box.

They run once per ``publishMessage``, before its transaction, so they are written SQL
(``coffre.core.rows``): the ORM needed about 0.5 ms to build each of these joins and the
database a few hundredths of that to answer. They read the reference data and the e-Box as they
are now, without any cache: a revoked authorisation or a deactivated enterprise is refused from
the next publication on, in every process.

The usual case is one query each; only a refusal looks again, step by step, to say what is wrong
(``sender_refusal``).
"""

import datetime as dt
from dataclasses import dataclass

from coffre.accounts.models import Enterprise
from coffre.core import rows
from coffre.mailbox.models import Ebox, MessageType, SenderApplication, SenderOrganization


@dataclass(frozen=True)
class Authorisation:
    """What a sender may publish: the rows it names and the type's validity period."""

    organization_pk: int
    application_pk: int | None
    message_type_pk: int
    validity_number: int
    validity_unit: str


@dataclass(frozen=True)
class Recipient:
    ebox_id: int
    enterprise_id: int
    cbe: str
    last_consulted_at: dt.datetime | None


# The message type is one of the organization's; with an application, the type is also one of
# the application's and the application one of the organization's.
_TYPE_OF_ORGANIZATION = """
    SELECT o."id", t."id", t."validity_number", t."validity_unit"{application_column}
    FROM "mailbox_messagetype" t
    JOIN "mailbox_messagetype_organizations" t_o ON t_o."messagetype_id" = t."id"
    JOIN "mailbox_senderorganization" o ON o."id" = t_o."senderorganization_id"
    {application_join}
    WHERE t."message_type_id" = %s AND o."organization_id" = %s {application_condition}
    LIMIT 1
"""
_WITHOUT_APPLICATION = _TYPE_OF_ORGANIZATION.format(application_column="", application_join="",
                                                    application_condition="")
_WITH_APPLICATION = _TYPE_OF_ORGANIZATION.format(
    application_column=', a."id"',
    application_join="""
    JOIN "mailbox_messagetype_applications" t_a ON t_a."messagetype_id" = t."id"
    JOIN "mailbox_senderapplication" a ON a."id" = t_a."senderapplication_id"
    JOIN "mailbox_senderapplication_organizations" a_o
        ON a_o."senderapplication_id" = a."id" AND a_o."senderorganization_id" = o."id"
    """,
    application_condition='AND a."application_id" = %s',
)
_AUTHORISATION_FIELDS = (None, None, rows.field(MessageType, "validity_number"),
                         rows.field(MessageType, "validity_unit"), None)

_RECIPIENT = """
    SELECT b."id", e."id", e."cbe", b."last_consulted_at"
    FROM "mailbox_ebox" b JOIN "accounts_enterprise" e ON e."id" = b."enterprise_id"
    WHERE e."cbe" = %s AND e."active" = %s
"""
_RECIPIENT_FIELDS = (None, None, rows.field(Enterprise, "cbe"), rows.field(Ebox, "last_consulted_at"))


def authorisation(organization_id: str, application_id: str | None, message_type_id: str) -> Authorisation | None:
    """The authorisation of an organization (CBE number), an optional application and a message
    type to publish together, or None when the reference data does not allow it."""
    if application_id is None:
        row = rows.fetch_one(_WITHOUT_APPLICATION, [message_type_id, organization_id], _AUTHORISATION_FIELDS[:4])
        return None if row is None else Authorisation(row[0], None, row[1], row[2], row[3])
    row = rows.fetch_one(_WITH_APPLICATION, [message_type_id, organization_id, application_id], _AUTHORISATION_FIELDS)
    return None if row is None else Authorisation(row[0], row[4], row[1], row[2], row[3])


def sender_refusal(organization_id: str, application_id: str | None, message_type_id: str) -> str:
    """Why ``authorisation`` found nothing, in the words of a StatusMessage."""
    organization = SenderOrganization.objects.filter(organization_id=organization_id).first()
    if organization is None:
        return f"{organization_id} is not a registered sender organization."
    if application_id is not None:
        if not SenderApplication.objects.filter(application_id=application_id, organizations=organization).exists():
            return (
                f"senderApplicationId {application_id!r} is unknown or not an application of the sender organization."
            )
    return f"messageTypeId {message_type_id!r} is unknown or may not be published by this sender."


def recipient(cbe: str) -> Recipient | None:
    """The e-Box of an active enterprise, by its CBE number."""
    row = rows.fetch_one(_RECIPIENT, [cbe, True], _RECIPIENT_FIELDS)
    return None if row is None else Recipient(*row)
