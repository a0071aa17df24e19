"""Reading a delivery status notification (DSN, RFC 3464) received at a bounce address.

A DSN is a ``multipart/report; report-type=delivery-status`` whose ``message/delivery-status``
part holds one block of per-message fields, then one block per recipient (``Final-Recipient``,
``Action``, ``Status``, ``Diagnostic-Code``). Only ``Action: failed`` with a ``5.x.x`` status is a
permanent failure; ``delayed`` (4.x.x), ``delivered``, ``relayed`` and ``expanded`` reports, as
well as anything that is not a DSN (an auto-reply, a person answering the bounce address), are
read as such and change nothing.

Pure parsing: no Django, no database. The texts it keeps come from remote servers: they are
stripped of control characters and shortened, and must still be escaped where shown.
"""

import email
import email.policy
import re
import unicodedata
from dataclasses import dataclass

REPORT_TYPE = "delivery-status"
_STATUS = re.compile(r"^\s*([245])\.(\d{1,3})\.(\d{1,3})\b")
TEXT_MAX = 200


@dataclass(frozen=True)
class DeliveryReport:
    kind: str  # "failed", "delayed", "delivered", "relayed", "expanded", "not a report"
    status: str = ""  # the enhanced status code, e.g. "5.1.1"
    recipient: str = ""  # Final-Recipient, without its address type
    diagnostic: str = ""  # Diagnostic-Code, without its type

    @property
    def is_permanent_failure(self) -> bool:
        return self.kind == "failed" and self.status.startswith("5.")

    def summary(self) -> str:
        """What the notification address's page says about it (no recipient address: it is known)."""
        text = f"bounce {self.status}"
        return f"{text}: {self.diagnostic}" if self.diagnostic else text


def _clean(value) -> str:
    text = " ".join(str(value or "").split())
    text = "".join(char for char in text if not unicodedata.category(char).startswith("C"))
    return text[:TEXT_MAX]


def _typed_value(value) -> str:
    """``rfc822; someone@example.be`` -> ``someone@example.be``; ``smtp; 550 ...`` -> ``550 ...``."""
    _type, sep, rest = str(value or "").partition(";")
    return _clean(rest if sep else value)


def _status(value) -> str:
    match = _STATUS.match(str(value or ""))
    return ".".join(match.groups()) if match else ""


def _recipient_blocks(message) -> list:
    for part in message.iter_parts():
        if part.get_content_type() == "message/delivery-status":
            payload = part.get_payload()
            if isinstance(payload, list) and len(payload) > 1:
                return payload[1:]  # the first block is about the message, the others per recipient
    return []


_PRECEDENCE = ["failed", "delayed", "delivered", "relayed", "expanded"]


def read_report(raw: bytes) -> DeliveryReport:
    """The most serious outcome the notification reports (a failure before a delay, ...)."""
    try:
        message = email.message_from_bytes(raw, policy=email.policy.default)
        if message.get_content_type() != "multipart/report" or (
            str(message.get_param("report-type", "")).lower() != REPORT_TYPE
        ):
            return DeliveryReport("not a report")
        reports = []
        for block in _recipient_blocks(message):
            action = _clean(block.get("Action")).lower()
            if action in _PRECEDENCE:
                reports.append(
                    DeliveryReport(
                        kind=action,
                        status=_status(block.get("Status")),
                        recipient=_typed_value(block.get("Final-Recipient")),
                        diagnostic=_typed_value(block.get("Diagnostic-Code")),
                    )
                )
    except (ValueError, TypeError, IndexError, LookupError):  # a malformed message is no report
        return DeliveryReport("not a report")
    if not reports:
        return DeliveryReport("not a report")
    permanent = [report for report in reports if report.is_permanent_failure]
    if permanent:
        return permanent[0]
    return min(reports, key=lambda report: _PRECEDENCE.index(report.kind))
