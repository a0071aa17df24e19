"""Safe file names for documents received by e-mail.

A sender chooses the name of an attachment; Coffre shows it, offers it as a download name, and
an accountant's desktop may save it. ``safe_filename`` makes it harmless everywhere: the last
path component only (no ``../``, no ``C:\\``), Unicode NFC, no control or format characters
(including the right-to-left override that turns ``invoice\u202efdp.exe`` into
``invoiceexe.pdf`` on screen), none of ``<>:"/\\|?*``, no leading or trailing dots and spaces,
no Windows reserved device names (``CON``, ``NUL``, ``COM1``...), at most ``max_length``
characters and 255 UTF-8 bytes, and always the extension of the type the *content* is.
A missing name becomes one derived from the mail's subject.
"""

import re
import unicodedata

from coffre.intake.filetypes import KNOWN_EXTENSIONS, FileType

_FORBIDDEN = re.compile(r'[<>:"/\\|?*]')
_SPACES = re.compile(r"\s+")
_RESERVED = {
    "CON",
    "PRN",
    "AUX",
    "NUL",
    "CONIN$",
    "CONOUT$",
    "CLOCK$",
    *(f"COM{n}" for n in "123456789¹²³"),
    *(f"LPT{n}" for n in "123456789¹²³"),
}
_REMOVED_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}
_SPACE_CONTROLS = "\t\n\r\x0b\x0c"
MAX_BYTES = 255
DEFAULT_STEM = "document"


def clean_text(text: str) -> str:
    """One line of printable text: NFC, no control or format characters, single spaces."""
    text = unicodedata.normalize("NFC", text.encode("utf-8", "replace").decode("utf-8"))
    kept = []
    for char in text:
        if char in _SPACE_CONTROLS or unicodedata.category(char) == "Zs":
            kept.append(" ")
        elif unicodedata.category(char) not in _REMOVED_CATEGORIES:
            kept.append(char)
    return _SPACES.sub(" ", "".join(kept)).strip()


def _clean_component(text: str, *, path: bool = True) -> str:
    """``path``: keep the last path component only (a sender's name); else slashes become "_"."""
    if path:
        text = text.replace("\\", "/").rsplit("/", 1)[-1]
    text = _FORBIDDEN.sub("_", clean_text(text))
    return text.strip(" .")


def _truncate(stem: str, room_chars: int, room_bytes: int) -> str:
    stem = stem[: max(room_chars, 0)]
    while len(stem.encode("utf-8")) > room_bytes:
        stem = stem[:-1]
    return stem.rstrip(" .")


def safe_filename(
    name: str | None, file_type: FileType, *, fallback: str | None = None, max_length: int = 120
) -> str:
    """A harmless name for a document of ``file_type``, from the sender's ``name``.

    ``fallback`` (e.g. the subject) gives the name when ``name`` is empty or nothing of it is
    left; else ``document``. The extension is the type's own when the name's is not one of the
    type's (a known extension of another type is replaced, an unknown one kept before it).
    """
    max_length = max(max_length, 16)
    cleaned = _clean_component(name or "")
    stem, dot, ext = cleaned.rpartition(".")
    if not dot or not stem.strip(" ."):
        stem, ext = cleaned, ""
    ext_lower = ext.lower()
    if ext_lower in file_type.extensions:
        extension = ext_lower
    else:
        extension = file_type.extension
        if ext and ext_lower not in KNOWN_EXTENSIONS:
            stem = f"{stem}.{ext}"  # "report.v2" holding a PDF -> "report.v2.pdf"
    stem = stem.strip(" .")
    if not stem:
        stem = _clean_component(fallback or "", path=False) or DEFAULT_STEM
    if stem.split(".", 1)[0].strip().upper() in _RESERVED:
        stem = f"_{stem}"
    suffix = f".{extension}"
    stem = _truncate(stem, max_length - len(suffix), MAX_BYTES - len(suffix.encode("utf-8")))
    return f"{stem or DEFAULT_STEM}{suffix}"


def unique_filename(name: str, taken: set[str], *, max_length: int = 120) -> str:
    """``name``, or ``stem (2).ext``, ``stem (3).ext``... so that no two documents of a mail share one."""
    if name.lower() not in taken:
        return name
    stem, _, extension = name.rpartition(".")
    number = 2
    while True:
        marker = f" ({number})"
        room = max_length - len(marker) - len(extension) - 1
        candidate = (
            f"{_truncate(stem, room, MAX_BYTES - len(marker) - len(extension) - 1)}{marker}.{extension}"
        )
        if candidate.lower() not in taken:
            return candidate
        number += 1
