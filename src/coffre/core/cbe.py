"""CBE/KBO enterprise numbers (Crossroads Bank for Enterprises).

A number has 10 digits, the first 0 or 1, and its last two digits are 97 minus the first eight
modulo 97. Tokens and old systems drop the leading zero: 9 digits are left-padded.
"""

import re

_SEPARATORS = re.compile(r"[.\s]")


class InvalidCBE(ValueError):
    pass


def cbe_check_digits(first_eight: str) -> int:
    return 97 - int(first_eight) % 97


def normalize_cbe(value: str, *, lenient: bool = False) -> str:
    """Return the 10-digit form of a CBE number or raise InvalidCBE.

    ``lenient`` also accepts the printed forms ``0123.456.749`` / ``BE 0123 456 749`` (CLI input).
    """
    if not isinstance(value, str):
        raise InvalidCBE("a CBE number is a string of digits")
    text = value
    if lenient:
        text = _SEPARATORS.sub("", text.strip())
        if text[:2].upper() == "BE":
            text = text[2:]
    if not text.isascii() or not text.isdigit():
        raise InvalidCBE(f"{value!r} is not a CBE number (digits only)")
    if len(text) == 9:
        text = "0" + text
    if len(text) != 10:
        raise InvalidCBE(f"{value!r} is not a CBE number (10 digits)")
    if text[0] not in "01":
        raise InvalidCBE(f"{value!r} is not a CBE number (first digit 0 or 1)")
    if cbe_check_digits(text[:8]) != int(text[8:]):
        raise InvalidCBE(f"{value!r} is not a CBE number (check digits)")
    return text


def is_cbe(value: str) -> bool:
    try:
        normalize_cbe(value)
    except InvalidCBE:
        return False
    return True


def make_cbe(first_eight: int) -> str:
    """Build a valid number from its first eight digits (demo data, tests)."""
    body = f"{first_eight:08d}"
    return body + f"{cbe_check_digits(body):02d}"
