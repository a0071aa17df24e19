"""What becomes a document when a mail arrives: the parse step of the intake (docs/intake-documents.md).

``extract(raw, limits)`` reads a received message with the standard library's ``email`` package
(``policy.default``) and returns an ``Extraction``: the decoded subject, From and Message-ID, the
``documents`` (each with a safe file name, the media type its *content* is, and its bytes, ready
for ``coffre.mailbox.store.write_content(document.chunks())``), and the ``problems``: every file
refused and why, everything skipped (signature logos, S/MIME signatures, duplicates), and every
defect of the input that was worked around (broken base64, unknown charsets, missing boundaries).

What becomes a document, in the order of the mail:
- each attachment whose content is an accepted type (``coffre.intake.filetypes``);
- the attachments of a forwarded mail (a ``message/rfc822`` part or an attached ``.eml``),
  recursively up to ``Limits.max_forward_depth``;
- a mail (or forwarded mail) with no attachment at all: its body, as one UTF-8 ``.txt`` document
  (the text/plain part, else the HTML part's text) headed by its From, Date and Subject;
- tiny inline images (inline or referenced by ``cid:``, and at most ``inline_image_max_size``
  bytes or ``inline_image_max_pixels`` on their longer side) are skipped: signatures and logos.

Never: raise for what a message holds (any failure becomes a problem), run or fetch anything a
message names, write anything, or log content.
"""

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import Message

from django.conf import settings

from coffre.intake import filetypes, mimeparts
from coffre.intake.bodytext import html_to_text
from coffre.intake.filenames import clean_text, safe_filename, unique_filename
from coffre.intake.mimeparts import header_text

MB = 1024 * 1024
CHUNK_SIZE = 64 * 1024
SUBJECT_MAX = 255
MAX_PROBLEMS = 200
# Lines starting with "--" (MIME delimiters, but also text separators) allowed per part of the limit.
_DELIMITERS_PER_PART = 4
_MAX_MIME_DEPTH = 30  # nested multiparts within one message; the parser itself recurses per level
_SIGNATURES = {"application/pkcs7-signature", "application/x-pkcs7-signature", "application/pgp-signature"}
_ENCRYPTED = {"application/pkcs7-mime", "application/x-pkcs7-mime", "application/pgp-encrypted"}
_REPORTS = {
    "message/delivery-status",
    "message/disposition-notification",
    "text/rfc822-headers",
    "message/feedback-report",
    "message/global-delivery-status",
    "message/global-headers",
}
_FORWARDED = {"message/rfc822", "message/global"}
_CID = re.compile(r"""cid:([^"'\s)>]+)""", re.I)


@dataclass(frozen=True)
class Limits:
    """Bounds of one extraction; ``from_settings()`` reads them from the COFFRE_INTAKE_* settings."""

    max_message_size: int = 25 * MB
    max_file_size: int = 25 * MB
    max_documents: int = 20
    max_forward_depth: int = 3
    max_parts: int = 500
    max_name_length: int = 120
    inline_image_max_size: int = 10 * 1024
    inline_image_max_pixels: int = 200
    accept_zip: bool = True
    archive_max_entries: int = 10_000
    archive_max_size: int = 256 * MB
    archive_max_ratio: int = 200

    @classmethod
    def from_settings(cls) -> "Limits":
        return cls(
            max_message_size=settings.COFFRE_INTAKE_MAX_MESSAGE_SIZE,
            max_file_size=settings.COFFRE_INTAKE_MAX_FILE_SIZE,
            max_documents=settings.COFFRE_INTAKE_MAX_DOCUMENTS,
            max_forward_depth=settings.COFFRE_INTAKE_MAX_FORWARD_DEPTH,
            inline_image_max_size=settings.COFFRE_INTAKE_INLINE_IMAGE_MAX_SIZE,
            inline_image_max_pixels=settings.COFFRE_INTAKE_INLINE_IMAGE_MAX_PIXELS,
            accept_zip=settings.COFFRE_INTAKE_ACCEPT_ZIP,
            archive_max_entries=settings.COFFRE_INTAKE_ARCHIVE_MAX_ENTRIES,
            archive_max_size=settings.COFFRE_INTAKE_ARCHIVE_MAX_SIZE,
            archive_max_ratio=settings.COFFRE_INTAKE_ARCHIVE_MAX_RATIO,
        )


DEFAULT = Limits()

# Problem kinds: a file not stored (the sender should know), something left out on purpose, a
# defect of the input that was worked around.
REFUSED, SKIPPED, DEFECT = "refused", "skipped", "defect"


@dataclass(frozen=True)
class Problem:
    kind: str  # REFUSED, SKIPPED or DEFECT
    code: str  # stable name: "executable", "archive-bomb", "inline-image", "bad-base64"...
    message: str  # one English sentence
    part: str = ""  # MIME position ("2", "2.1" inside a forwarded mail at 2), "" for the message
    filename: str = ""  # the sender's name for the file, cleaned for display

    def as_dict(self) -> dict:
        return {
            "kind": self.kind,
            "code": self.code,
            "message": self.message,
            "part": self.part,
            "filename": self.filename,
        }


@dataclass(frozen=True)
class Document:
    filename: str  # safe (coffre.intake.filenames), unique within the extraction
    media_type: str  # decided by the content
    content: bytes = field(repr=False)
    origin: str = "attachment"  # "attachment", "forwarded" (in a forwarded mail) or "body"
    part: str = ""
    declared_name: str = ""  # the sender's name, cleaned for display
    declared_type: str = ""
    sha256: str = ""

    @property
    def size(self) -> int:
        return len(self.content)

    def chunks(self, size: int = CHUNK_SIZE) -> Iterator[bytes]:
        """The content in chunks, for ``coffre.mailbox.store.write_content``."""
        for start in range(0, len(self.content), size):
            yield self.content[start : start + size]

    def as_dict(self) -> dict:
        return {
            "filename": self.filename,
            "media_type": self.media_type,
            "size": self.size,
            "sha256": self.sha256,
            "origin": self.origin,
            "part": self.part,
            "declared_name": self.declared_name,
            "declared_type": self.declared_type,
        }


@dataclass(frozen=True)
class Extraction:
    subject: str
    from_header: str
    message_id: str
    documents: tuple[Document, ...]
    problems: tuple[Problem, ...]

    @property
    def refused(self) -> tuple[Problem, ...]:
        return tuple(problem for problem in self.problems if problem.kind == REFUSED)

    def as_dict(self) -> dict:
        """JSON-serialisable, without content (for the activity)."""
        return {
            "subject": self.subject,
            "from": self.from_header,
            "message_id": self.message_id,
            "documents": [document.as_dict() for document in self.documents],
            "problems": [problem.as_dict() for problem in self.problems],
        }


@dataclass
class _Candidate:
    content: bytes
    filename: str
    declared_type: str
    part: str
    origin: str
    fallback_name: str
    file_type: filetypes.FileType | None = None  # known already (a body)


@dataclass
class _State:
    limits: Limits
    problems: list[Problem] = field(default_factory=list)
    candidates: list[_Candidate] = field(default_factory=list)
    parts_seen: int = 0

    def note(self, kind: str, code: str, message: str, part: str = "", filename: str = "") -> None:
        problem = Problem(kind, code, clean_text(message), part, clean_text(filename))
        if problem in self.problems:
            return  # e.g. a part's defects, seen when walking and again when decoding
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(problem)
        elif len(self.problems) == MAX_PROBLEMS:
            self.problems.append(
                Problem(DEFECT, "too-many-problems", "more problems were found and not listed")
            )


def extract(raw: bytes, limits: Limits | None = None) -> Extraction:
    """The documents and problems of ``raw`` (a whole RFC 5322 message); never raises.

    ``limits``: ``Limits.from_settings()`` when not given.
    """
    state = _State(limits or Limits.from_settings())
    subject = from_header = message_id = ""
    try:
        raw = bytes(raw)
        refusal = _refusal_before_parsing(raw, state.limits)
        if refusal:
            state.note(REFUSED, *refusal)
            message = mimeparts.parse(raw, headers_only=True)
            subject, from_header, message_id = _identity(message)
        else:
            message = mimeparts.parse(raw)
            subject, from_header, message_id = _identity(message)
            _read_message(message, "", 0, state)
    except Exception as exc:  # noqa: BLE001 - whatever a message holds, the server goes on
        state.note(DEFECT, "unreadable", f"the message could not be read to the end ({type(exc).__name__})")
    documents = _documents(state)
    return Extraction(subject, from_header, message_id, tuple(documents), tuple(state.problems))


def _refusal_before_parsing(raw: bytes, limits: Limits) -> tuple[str, str] | None:
    """Messages not worth parsing: too large, or with so many MIME delimiter lines that the
    parser alone (a fraction of a millisecond per part) would hold the server for seconds."""
    if len(raw) > limits.max_message_size:
        return (
            "message-too-large",
            f"the message is {_mb(len(raw))}, more than the {_mb(limits.max_message_size)} accepted",
        )
    if raw.count(b"\n--") > _DELIMITERS_PER_PART * limits.max_parts:
        return (
            "too-many-parts",
            f"the message has far more than {limits.max_parts} MIME parts; it was not read",
        )
    return None


def _mb(size: int) -> str:
    return f"{size / MB:.1f} MB"


def _identity(message: Message) -> tuple[str, str, str]:
    return (
        header_text(message, "Subject", SUBJECT_MAX),
        header_text(message, "From"),
        header_text(message, "Message-ID"),
    )


def _defects(part: Message, path: str, state: _State) -> None:
    for code, message in mimeparts.defects(part):
        state.note(DEFECT, code, message, path)


def _walk(part: Message, path: str, depth: int, state: _State, leaves: list) -> None:
    """The leaves of one message's MIME tree, in order, into ``leaves`` as (part, path, type)."""
    state.parts_seen += 1
    if state.parts_seen > state.limits.max_parts:
        if state.parts_seen == state.limits.max_parts + 1:
            state.note(
                REFUSED,
                "too-many-parts",
                f"the message has more than {state.limits.max_parts} MIME parts; the rest was not read",
                path,
            )
        return
    content_type = mimeparts.content_type(part)
    if not content_type.startswith("multipart/"):
        _defects(part, path or "1", state)
        leaves.append((part, path or "1", content_type))
        return
    _defects(part, path, state)
    if content_type == "multipart/encrypted":
        state.note(REFUSED, "encrypted", "the message is encrypted (PGP/MIME): Coffre cannot read it", path)
        return
    if depth >= _MAX_MIME_DEPTH:
        state.note(
            REFUSED,
            "too-deep",
            f"multiparts are nested more than {_MAX_MIME_DEPTH} deep; the deeper parts were not read",
            path,
        )
        return
    children = part.get_payload()
    if not isinstance(children, list):
        state.note(DEFECT, "no-parts", "a multipart has no readable parts (missing boundary?)", path)
        return
    for index, child in enumerate(children, 1):
        if isinstance(child, Message):
            _walk(child, f"{path}.{index}" if path else str(index), depth + 1, state, leaves)


def _payload(part: Message, path: str, state: _State) -> bytes | None:
    content = mimeparts.payload(part)
    if content is None:
        state.note(DEFECT, "undecodable", "a part could not be decoded and was left out", path)
    _defects(part, path, state)  # decoding adds the base64 and quoted-printable defects
    return content


def _text_of(part: Message, path: str, state: _State) -> str:
    text, unknown_charset = mimeparts.text(part, _payload(part, path, state) or b"")
    if unknown_charset is not None:
        state.note(
            DEFECT,
            "unknown-charset",
            f"unknown character set {unknown_charset!r}: read as UTF-8 or Windows-1252",
            path,
        )
    return text


def _read_message(message: Message, prefix: str, forward_depth: int, state: _State) -> None:
    """One message (the received one, or a forwarded one at ``prefix``): its candidates."""
    leaves: list = []
    _walk(message, prefix, 0, state, leaves)
    origin = "forwarded" if forward_depth else "attachment"
    subject = header_text(message, "Subject", SUBJECT_MAX)
    html_bodies = [
        (part, path)
        for part, path, content_type in leaves
        if content_type == "text/html" and mimeparts.disposition(part) != "attachment"
    ]
    cids = {cid.lower() for part, path in html_bodies for cid in _CID.findall(_text_of(part, path, state))}
    has_attachment = False
    plain, html = [], []
    for part, path, content_type in leaves:
        disposition = mimeparts.disposition(part)
        filename = mimeparts.filename(part)
        if content_type in _SIGNATURES:
            state.note(SKIPPED, "signature", "a digital signature of the mail was left out", path, filename)
            continue
        if content_type in _ENCRYPTED:
            has_attachment = True
            state.note(
                REFUSED,
                "encrypted",
                "the message is encrypted (S/MIME or PGP): Coffre cannot read it",
                path,
                filename,
            )
            continue
        if content_type in _REPORTS:
            state.note(SKIPPED, "report", f"a delivery or read report ({content_type}) was left out", path)
            continue
        if content_type in _FORWARDED or (
            filetypes.extension_of(filename) == "eml"
            and mimeparts.looks_like_mail(_payload(part, path, state))
        ):
            has_attachment = True
            _read_forwarded(part, path, forward_depth + 1, state, filename)
            continue
        if content_type in ("text/plain", "text/html") and disposition != "attachment" and not filename:
            (plain if content_type == "text/plain" else html).append((part, path))
            continue
        content = _payload(part, path, state)
        if content is None:
            continue
        if _is_small_inline_image(part, disposition, content, cids if html_bodies else None, state.limits):
            state.note(
                SKIPPED,
                "inline-image",
                "a small inline image (a signature or logo) was left out",
                path,
                filename,
            )
            continue
        has_attachment = True
        state.candidates.append(_Candidate(content, filename, content_type, path, origin, subject))
    if not has_attachment:
        _body_candidate(message, plain, html, prefix or "1", forward_depth, state)


def _read_forwarded(part: Message, path: str, depth: int, state: _State, filename: str) -> None:
    if depth > state.limits.max_forward_depth:
        state.note(
            REFUSED,
            "too-deep",
            f"a mail forwarded inside more than {state.limits.max_forward_depth} others was not read",
            path,
            filename,
        )
        return
    inner = None
    if mimeparts.content_type(part) in _FORWARDED:
        payload = part.get_payload()
        if isinstance(payload, list) and payload and isinstance(payload[0], Message):
            inner = payload[0]
    if inner is None:
        content = _payload(part, path, state) or b""
        if len(content) > state.limits.max_file_size:
            state.note(
                REFUSED,
                "too-large",
                f"an attached mail of {_mb(len(content))} is larger than the "
                f"{_mb(state.limits.max_file_size)} accepted",
                path,
                filename,
            )
            return
        inner = mimeparts.parse(content)
    _read_message(inner, path, depth, state)


def _is_small_inline_image(
    part: Message, disposition: str | None, content: bytes, cids: set[str] | None, limits: Limits
) -> bool:
    """``cids``: the Content-IDs the HTML body refers to (None: the mail has no HTML body)."""
    image = filetypes.image_type(content)
    if image is None or disposition == "attachment":
        return False
    content_id = mimeparts.content_id(part)
    # Inline: said so, or referenced by the HTML body, or (no HTML body to tell) given a Content-ID.
    inline = disposition == "inline" or bool(
        content_id and (content_id in cids if cids is not None else True)
    )
    if not inline:
        return False
    if len(content) <= limits.inline_image_max_size:
        return True
    size = filetypes.image_size(content, image)
    return size is not None and 0 < max(size) <= limits.inline_image_max_pixels


def _body_candidate(
    message: Message, plain: list, html: list, path: str, forward_depth: int, state: _State
) -> None:
    texts = [_text_of(part, part_path, state) for part, part_path in plain]
    if not any(text.strip() for text in texts):
        texts = [html_to_text(_text_of(part, part_path, state)) for part, part_path in html]
    body = "\n\n".join(text.strip("\r\n") for text in texts if text.strip())
    if not body.strip():
        state.note(SKIPPED, "empty", "the mail has no attachment and no text: nothing to store", path)
        return
    subject = header_text(message, "Subject", SUBJECT_MAX)
    lines = [
        f"{name}: {value}" for name in ("From", "Date", "Subject") if (value := header_text(message, name))
    ]
    text = "\n".join(lines) + "\n\n" + body.replace("\r\n", "\n") + "\n"
    content = text.encode("utf-8", "replace")
    state.candidates.append(
        _Candidate(content, "", "text/plain", path, "body", subject or "message", filetypes.TXT)
    )


def _documents(state: _State) -> list[Document]:
    documents: list[Document] = []
    seen: set[str] = set()
    taken: set[str] = set()
    for candidate in state.candidates:
        try:
            document = _document(candidate, state, seen, taken, len(documents))
        except Exception as exc:  # noqa: BLE001 - a file that breaks a check is refused, not the mail
            state.note(
                REFUSED,
                "unreadable",
                f"the file could not be checked ({type(exc).__name__})",
                candidate.part,
                candidate.filename,
            )
            continue
        if document is not None:
            documents.append(document)
    return documents


def _document(
    candidate: _Candidate, state: _State, seen: set[str], taken: set[str], count: int
) -> Document | None:
    limits = state.limits
    content, part, filename = candidate.content, candidate.part, candidate.filename
    if len(content) > limits.max_file_size:
        state.note(
            REFUSED,
            "too-large",
            f"the file is {_mb(len(content))}, more than the {_mb(limits.max_file_size)} accepted",
            part,
            filename,
        )
        return None
    if not content:
        state.note(SKIPPED, "empty", "an empty file was left out", part, filename)
        return None
    file_type = candidate.file_type
    if file_type is None:
        verdict = filetypes.classify(content, filename, candidate.declared_type, limits)
        if not verdict.accepted:
            state.note(REFUSED, verdict.code, f"not stored: {verdict.reason}", part, filename)
            return None
        file_type = verdict.file_type
    digest = hashlib.sha256(content).hexdigest()
    if digest in seen:
        state.note(SKIPPED, "duplicate", "the same file came twice in this mail; stored once", part, filename)
        return None
    if count >= limits.max_documents:
        state.note(
            REFUSED,
            "too-many-documents",
            f"the mail holds more than {limits.max_documents} documents; the rest were not stored",
            part,
            filename,
        )
        return None
    seen.add(digest)
    name = safe_filename(
        filename, file_type, fallback=candidate.fallback_name, max_length=limits.max_name_length
    )
    name = unique_filename(name, taken, max_length=limits.max_name_length)
    taken.add(name.lower())
    return Document(
        name, file_type.media_type, content, candidate.origin, part, filename, candidate.declared_type, digest
    )
