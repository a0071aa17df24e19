"""The addresses sender authentication is about: the From header's, and the envelope's domains.

``parse_from(raw_message)`` reads the From header with the ``email`` package (``policy.default``,
headers decoded as UTF-8 so that internationalised addresses (RFC 6532) come out whole) and gives
the one sender address, or says why there is none: no From header, several From headers, several
addresses in it, a group without address, or a malformed header (any defect that makes the parse
a guess). Domains are returned as lowercase IDNA A-labels (``café.be`` -> ``xn--caf-dma.be``, UTS 46
mapping of the ``idna`` package), the form DNS and DKIM's ``d=`` use.

Never take authheaders' ``get_domain_part`` for this: it cuts hyphenated domains
(``fidu-lebrun.be`` -> ``fidu``, see shared/LIBRARY-NOTES.md).
"""

import re
from dataclasses import dataclass
from email import errors, policy
from email.headerregistry import Address
from email.parser import Parser

import idna

# A header field line ends the header section at the first empty line.
_END_OF_HEADERS = re.compile(rb"\r?\n\r?\n")
_LDH_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
# Defects after which the parsed address is a guess (missing '>', stray text, a lone local part...).
_FATAL_DEFECTS = (errors.InvalidHeaderDefect, errors.HeaderMissingRequiredValue)


@dataclass(frozen=True)
class SenderAddress:
    """The From header's sender: ``address`` and ``domain`` when there is exactly one usable one.

    ``problem`` says why there is none (``None`` when there is one); ``addresses`` lists what the
    header held (several, for the activity's details).
    """

    address: str | None
    domain: str | None
    problem: str | None
    addresses: tuple[str, ...] = ()


def header_section(raw_message: bytes) -> str:
    """The header section of a message as text (UTF-8, undecodable bytes replaced)."""
    end = _END_OF_HEADERS.search(raw_message)
    head = raw_message[: end.start()] if end else raw_message
    return head.decode("utf-8", errors="replace") + "\n\n"


def normalize_domain(domain: str) -> str | None:
    """A domain name as lowercase A-labels, or None when it is not a host name.

    ``Example.BE.`` -> ``example.be``; ``café.be`` -> ``xn--caf-dma.be``. Address literals
    (``[192.0.2.1]``), empty labels and labels of other characters are refused.
    """
    domain = domain.strip().rstrip(".")
    if not domain or len(domain) > 253:
        return None
    if domain.isascii():
        ascii_domain = domain.lower()
    else:
        try:
            ascii_domain = idna.encode(domain, uts46=True).decode("ascii").lower()
        except (idna.IDNAError, UnicodeError, ValueError):
            return None
    labels = ascii_domain.split(".")
    if len(labels) < 2 or not all(_LDH_LABEL.match(label) for label in labels):
        return None
    if labels[-1].isdigit():
        return None  # a dotted IP address, not a domain
    if any(label.startswith("xn--") for label in labels):
        try:
            idna.decode(ascii_domain)
        except (idna.IDNAError, UnicodeError, ValueError):
            return None  # an A-label that decodes to nothing valid
    return ascii_domain


def parse_from(raw_message: bytes) -> SenderAddress:
    try:
        headers = Parser(policy=policy.default).parsestr(header_section(raw_message), headersonly=True)
        fields = headers.get_all("From") or []
        if not fields:
            return SenderAddress(None, None, "the message has no From header")
        parsed = [(field.addresses, field.defects) for field in fields]
    except Exception:  # noqa: BLE001 - the email package's header parser has raised on odd input
        return SenderAddress(None, None, "the From header cannot be parsed")
    listed = tuple(str(address.addr_spec) for addresses, _ in parsed for address in addresses)
    if len(fields) > 1:
        return SenderAddress(None, None, "the message has several From headers", listed)
    addresses, defects = parsed[0]
    if any(isinstance(defect, _FATAL_DEFECTS) for defect in defects):
        return SenderAddress(None, None, "the From header is malformed", listed)
    if not addresses:
        return SenderAddress(None, None, "the From header holds no address")
    if len(addresses) > 1:
        return SenderAddress(None, None, "the From header holds several addresses", listed)
    local_part, domain_text = addresses[0].username, addresses[0].domain
    domain = normalize_domain(domain_text or "")
    if not local_part or domain is None:
        return SenderAddress(None, None, "the From address has no usable domain", listed)
    try:
        address = Address(username=local_part, domain=domain).addr_spec  # quotes a local part if needed
    except (ValueError, TypeError, errors.HeaderParseError):
        return SenderAddress(None, None, "the From header is malformed", listed)
    return SenderAddress(address, domain, None, listed)


def envelope_domain(mail_from: str, helo: str) -> tuple[str | None, str]:
    """The domain SPF checks and its identity: the MAIL FROM's (``"mailfrom"``), or the HELO name's
    when MAIL FROM is empty or has no domain (``"helo"``, RFC 7208 2.3). None when not a domain."""
    address = (mail_from or "").strip().strip("<>")
    if "@" in address:
        return normalize_domain(address.rsplit("@", 1)[1]), "mailfrom"
    return normalize_domain(helo or ""), "helo"
