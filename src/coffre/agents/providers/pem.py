"""PEM text kept in a one-line credential field, and back.

A connection's credentials are one-line fields (a browser's text input drops line breaks, and the
credential checks refuse control characters), so a PEM private key or certificate is kept on one
line: ``one_line`` joins its lines with spaces. ``pem_text`` gives back standard PEM (64-character
lines) from that form, from a PEM whose line breaks were dropped, or from PEM itself.

Never puts any part of the input in an error message: only the block's label ("PRIVATE KEY").
"""

import base64
import binascii
import re

_BLOCK = re.compile(r"-----BEGIN ([A-Z0-9 ]{1,40})-----(.*?)-----END \1-----", re.S)


class PemError(ValueError):
    """The text holds no usable PEM block (the message names the label at most)."""


def one_line(pem: str) -> str:
    """``pem`` on one line: its lines joined by single spaces (``pem_text`` reverses it)."""
    return " ".join(pem.split())


def pem_text(text: str) -> str:
    """The PEM blocks of ``text`` as standard PEM, whatever became of their line breaks."""
    blocks = []
    for label, body in _BLOCK.findall(text or ""):
        data = "".join(body.split())
        try:
            base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            raise PemError(f"the {label.lower()} is damaged (its base64 does not decode)") from None
        lines = [data[start : start + 64] for start in range(0, len(data), 64)]
        blocks.append(f"-----BEGIN {label}-----\n" + "\n".join(lines) + f"\n-----END {label}-----\n")
    if not blocks:
        raise PemError("no PEM block (-----BEGIN ...-----) was found")
    return "".join(blocks)
