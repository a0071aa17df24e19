"""Reference codes of the notification e-mails, and e-mail addresses as the genuine page shows them.

A code is 16 characters of Crockford's base32 (80 random bits from ``secrets``): unguessable,
read aloud or typed without ambiguity (no I, L, O, U; typing them is forgiven: I and L read as 1,
O as 0), shown in groups of four (``7KQ2-M9XD-...``). Stored without dashes, upper case.
"""

import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
LENGTH = 16  # 16 x 5 bits = 80 bits
_FORGIVEN = str.maketrans({"I": "1", "L": "1", "O": "0"})


def new_code() -> str:
    number = int.from_bytes(secrets.token_bytes(LENGTH * 5 // 8), "big")
    return "".join(ALPHABET[(number >> shift) & 31] for shift in range(0, LENGTH * 5, 5))


def display(code: str) -> str:
    return "-".join(code[index:index + 4] for index in range(0, len(code), 4))


def normalize(text: str) -> str | None:
    """The stored form of a code as a person typed it, or None when it cannot be one."""
    compact = "".join(text.split()).replace("-", "").upper().translate(_FORGIVEN)
    if len(compact) != LENGTH or any(char not in ALPHABET for char in compact):
        return None
    return compact


def mask_email(address: str) -> str:
    """``marie.dupont@boulangerie-dupont.be`` -> ``m***@b***.be``: enough to recognise one's own
    address, not enough to learn someone else's."""
    local, _, domain = address.strip().rpartition("@")
    labels = domain.split(".")
    top = labels[-1] if len(labels) > 1 else ""
    masked_domain = f"{labels[0][:1]}***" + (f".{top}" if top else "")
    return f"{local[:1]}***@{masked_domain}"
