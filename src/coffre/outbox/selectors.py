"""Reads of the outbox for the operator's pages: keyset pages of the mails, newest first.

A page is found by position, never by OFFSET: the cursor names the last mail seen as its
(created_at, id), and the next page is the ``size`` mails after it in the order
(created_at DESC, id DESC), which walks the ``outgoing_mail_recent`` index whatever the depth.
Only the operator (staff) reads these: the views check it.
"""

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Q

from coffre.outbox.models import MailStatus, OutgoingMail
from coffre.outbox.transport import bounce_address

PAGE_SIZE = 50
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MICROSECOND = dt.timedelta(microseconds=1)
# Backends that keep the mail on this machine: the operator page is where one reads it.
LOCAL_BACKENDS = {
    "django.core.mail.backends.filebased.EmailBackend",
    "django.core.mail.backends.locmem.EmailBackend",
    "django.core.mail.backends.console.EmailBackend",
}


@dataclass(frozen=True)
class Cursor:
    created_at: dt.datetime
    pk: int

    def encode(self) -> str:
        return f"{(self.created_at - _EPOCH) // _MICROSECOND}_{self.pk}"

    @classmethod
    def decode(cls, text: str | None) -> "Cursor | None":
        """The cursor ``encode`` wrote; None for anything else (the list starts over)."""
        if not text or len(text) > 40:
            return None
        micros, sep, pk = text.partition("_")
        if not sep or not pk.isdigit() or not micros.lstrip("-").isdigit() or int(pk) > 2**63 - 1:
            return None
        try:
            return cls(_EPOCH + int(micros) * _MICROSECOND, int(pk))
        except OverflowError:
            return None


@dataclass(frozen=True)
class MailPage:
    mails: list[OutgoingMail]
    next_cursor: str | None  # the older mails, when there are any


def mail_page(*, status: str = "", before: Cursor | None = None, size: int = PAGE_SIZE) -> MailPage:
    mails = OutgoingMail.objects.defer("text", "html").order_by("-created_at", "-id")
    if status in MailStatus.values:
        mails = mails.filter(status=status)
    if before is not None:
        mails = mails.filter(
            Q(created_at__lte=before.created_at) & (Q(created_at__lt=before.created_at) | Q(pk__lt=before.pk))
        )
    rows = list(mails[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    next_cursor = Cursor(rows[-1].created_at, rows[-1].pk).encode() if more else None
    return MailPage(rows, next_cursor)


def mail_by_id(pk: int) -> OutgoingMail | None:
    return OutgoingMail.objects.select_related("ebox__enterprise").filter(pk=pk).first()


def envelope_sender(mail: OutgoingMail) -> str:
    return bounce_address(mail.bounce_token) or mail.from_address


def content_shown() -> bool:
    """Whether the operator's pages show what mails say: only when the mail stays on this machine
    (the embedded default). With a relay, mails may carry sign-in links meant for one person."""
    return settings.EMAIL_BACKEND in LOCAL_BACKENDS
