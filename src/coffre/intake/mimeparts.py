"""Reading the parts of a received mail tolerantly: the helpers of ``coffre.intake.mime``.

``parse(raw)`` parses with the ``email`` package's ``policy.default``, bounded (``IntakePolicy``);
the other functions read one part's headers, payload and text, and never raise for what the part
holds: a broken header gives "", an undecodable payload None, an unknown charset a fallback (and
its name, for the caller to list). ``defects(part)`` names what the parser noticed.

Nothing here stores, logs or fetches anything.
"""

import binascii
import codecs
import re
from email.header import decode_header, make_header
from email.message import Message
from email.parser import BytesParser
from email.policy import EmailPolicy

from coffre.intake.filenames import clean_text

HEADER_MAX = 998
# Header values are cut at this length before being parsed: policy.default's header parser costs
# several microseconds per character (docs/intake-documents.md, "Bounded work").
_HEADER_CHARS = 4096
# Headers that give the MIME structure, kept as plain text (the parser reads Content-Type several
# times per part; the compat32 parameter parsing is an order of magnitude cheaper).
_STRUCTURE_HEADERS = {
    "content-type",
    "content-disposition",
    "content-transfer-encoding",
    "content-id",
    "mime-version",
}
_FOLD = re.compile(r"\r?\n(?=[ \t])")
_END_OF_HEADERS = re.compile(rb"\r?\n\r?\n")
_NOT_BASE64 = re.compile(rb"[^A-Za-z0-9+/]")
_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")
_MAIL_HEADERS = {"from", "date", "subject", "message-id", "received", "return-path", "mime-version", "to"}


class IntakePolicy(EmailPolicy):
    """``policy.default`` with bounded header work: values cut at ``_HEADER_CHARS``, and the
    structure headers returned as text instead of header objects."""

    def header_fetch_parse(self, name, value):
        if hasattr(value, "name"):
            return value
        value = value[:_HEADER_CHARS]
        if name.lower() in _STRUCTURE_HEADERS:
            return _FOLD.sub("", value).strip()
        return super().header_fetch_parse(name, value)


POLICY = IntakePolicy()


def parse(raw: bytes, *, headers_only: bool = False) -> Message:
    if headers_only:
        return BytesParser(policy=POLICY).parsebytes(header_section(raw), headersonly=True)
    return BytesParser(policy=POLICY).parsebytes(raw)


def header_section(raw: bytes) -> bytes:
    """The header section of a message (its first 64 kB when it never ends)."""
    match = _END_OF_HEADERS.search(raw, 0, 1024 * 1024)
    return raw[: match.end()] if match else raw[: 64 * 1024]


def header_text(message: Message, name: str, limit: int = HEADER_MAX) -> str:
    """A header decoded to one clean line ("" when absent or unreadable)."""
    try:
        value = message.get(name)
        text = "" if value is None else str(value)
    except Exception:  # noqa: BLE001 - the header parser has raised on odd input
        text = _raw_header(message, name)
    return clean_text(text)[:limit]


def _raw_header(message: Message, name: str) -> str:
    for key, value in message.raw_items():
        if key.lower() == name.lower():
            try:
                return str(make_header(decode_header(value)))
            except Exception:  # noqa: BLE001 - unknown charset, broken encoded word
                return str(value)
    return ""


def defects(part: Message) -> list[tuple[str, str]]:
    """(code, sentence) of each defect the parser noted on ``part``, e.g. ``invalid-base64-padding``."""
    found = []
    for defect in getattr(part, "defects", ()) or ():
        name = type(defect).__name__.removesuffix("Defect")
        code = _CAMEL.sub("-", name).lower() or "defect"
        text = (type(defect).__doc__ or name).strip().splitlines()[0].rstrip(".")
        found.append((code, f"malformed MIME: {text[:1].lower()}{text[1:]}"))
    return found


def content_type(part: Message) -> str:
    try:
        return part.get_content_type()
    except Exception:  # noqa: BLE001
        return "application/octet-stream"


def disposition(part: Message) -> str | None:
    try:
        return part.get_content_disposition()
    except Exception:  # noqa: BLE001
        return None


def filename(part: Message) -> str:
    """The sender's name for the part, cleaned for display ("" when none)."""
    try:
        name = part.get_filename() or part.get_param("name", header="content-type") or ""
    except Exception:  # noqa: BLE001 - broken RFC 2231 parameters
        name = ""
    if isinstance(name, tuple):  # an undecoded RFC 2231 value
        name = name[2] if len(name) == 3 else ""
    return clean_text(str(name))[:HEADER_MAX]


def content_id(part: Message) -> str:
    return header_text(part, "Content-ID").strip("<> ").lower()


def payload(part: Message) -> bytes | None:
    """The decoded content of a leaf part; None when it cannot be decoded at all."""
    try:
        content = part.get_payload(decode=True)
        if isinstance(content, bytes) and any(
            type(defect).__name__ == "InvalidBase64LengthDefect" for defect in part.defects
        ):
            # The email package hands back the undecoded text then; decode what can be decoded.
            content = lenient_base64(content)
    except Exception:  # noqa: BLE001
        return None
    if isinstance(content, str):
        return content.encode("utf-8", "surrogateescape")
    return content if isinstance(content, bytes) else b""


def lenient_base64(text: bytes) -> bytes:
    """Base64 decoded as far as it goes: stray characters dropped, a dangling last sextet ignored."""
    cleaned = _NOT_BASE64.sub(b"", text)
    remainder = len(cleaned) % 4
    if remainder == 1:
        cleaned = cleaned[:-1]
    elif remainder:
        cleaned += b"=" * (4 - remainder)
    return binascii.a2b_base64(cleaned)


def text(part: Message, content: bytes) -> tuple[str, str | None]:
    """``content`` of a text part as text, and the charset it names when that one is unknown
    (then it was read as UTF-8, else Windows-1252)."""
    try:
        charset = part.get_content_charset() or ""
    except Exception:  # noqa: BLE001
        charset = ""
    unknown = None
    if charset:
        try:
            return content.decode(codecs.lookup(charset).name, "replace"), None
        except (LookupError, ValueError):
            unknown = clean_text(charset)[:40]
    try:
        return content.decode("utf-8"), unknown
    except UnicodeDecodeError:
        return content.decode("cp1252", "replace"), unknown


def looks_like_mail(content: bytes | None) -> bool:
    """Whether a file (an attachment named .eml) starts with the header section of a mail."""
    if not content or content.startswith((b"%PDF", b"MZ", b"\x7fELF", b"PK")):
        return False
    try:
        headers = parse(content[: 64 * 1024], headers_only=True)
        names = {key.lower() for key, _value in headers.raw_items()}
    except Exception:  # noqa: BLE001
        return False
    return len(names & _MAIL_HEADERS) >= 2
