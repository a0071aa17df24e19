"""SPF (RFC 7208) of the envelope sender, checked with pyspf through Coffre's resolver.

pyspf resolves through one module-level function, ``spf.DNSLookup``. Importing this module
replaces it, once, with ``_lookup``: it asks the ``DnsSession`` of the check under way (a context
variable set by ``check_spf``), and answers any lookup made outside such a check with an SPF
TempError, so that pyspf never reaches a resolver of its own (the system's or dnspython's
default). Must never: let pyspf do DNS outside a session, or raise on a bad SPF record (that is a
``permerror`` result).
"""

import contextvars
import logging
from dataclasses import asdict, dataclass

import spf

from coffre.intake.resolver import DnsSession, DnsTemporaryError
from coffre.intake.sender_address import envelope_domain

logger = logging.getLogger(__name__)

RESULTS = ("pass", "fail", "softfail", "neutral", "none", "permerror", "temperror")
_session: contextvars.ContextVar[DnsSession | None] = contextvars.ContextVar(
    "coffre_spf_session", default=None
)


def _lookup(name, qtype, strict=True, timeout=None):
    """``spf.DNSLookup``: pyspf's question, answered in the shape of its dnspython driver."""
    session = _session.get()
    if session is None:
        raise spf.TempError("DNS: no resolver (SPF is checked through coffre.intake.spf_check only)")
    try:
        records = session.lookup(str(name), qtype)
    except DnsTemporaryError as exc:
        raise spf.TempError(f"DNS {exc}") from None
    answers = []
    for rdata in records:
        if qtype in ("A", "AAAA"):
            answers.append(((name, qtype), rdata.address))
        elif qtype == "MX":
            answers.append(((name, qtype), (rdata.preference, rdata.exchange)))
        elif qtype == "PTR":
            answers.append(((name, qtype), rdata.target.to_text(True)))
        elif qtype in ("TXT", "SPF"):
            answers.append(((name, qtype), rdata.strings))
    return answers


spf.DNSLookup = _lookup


@dataclass(frozen=True)
class SpfResult:
    """``result`` (one of ``RESULTS``) for ``domain`` checked as ``identity`` (mailfrom / helo)."""

    result: str
    domain: str | None
    identity: str
    explanation: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


def check_spf(session: DnsSession, *, client_ip: str, mail_from: str, helo: str) -> SpfResult:
    """Whether ``client_ip`` may send for the MAIL FROM domain (the HELO name when MAIL FROM is
    empty), per the domain's SPF record."""
    domain, identity = envelope_domain(mail_from, helo)
    if domain is None:
        return SpfResult("none", None, identity, "no domain to check")
    if identity == "mailfrom":
        local_part = mail_from.strip().strip("<>").rsplit("@", 1)[0] or "postmaster"
    else:
        local_part = "postmaster"
    token = _session.set(session)
    try:
        query = spf.query(i=client_ip, s=f"{local_part}@{domain}", h=helo or domain, strict=True)
        result, _code, explanation = query.check()
    except Exception as exc:  # noqa: BLE001 - a bug of pyspf on odd input must not stop the intake
        logger.warning("SPF check of %s failed: %s", domain, exc.__class__.__name__)
        result, explanation = "permerror", f"the SPF check failed ({exc.__class__.__name__})"
    finally:
        _session.reset(token)
    result = result if result in RESULTS else "permerror"
    return SpfResult(result, domain, identity, str(explanation or "")[:300])


def has_spf_record(session: DnsSession, domain: str) -> bool:
    """Whether ``domain`` publishes an SPF record (a TXT record starting ``v=spf1``).

    Raises ``DnsTemporaryError`` when DNS does not tell.
    """
    return any(spf.RE_SPF.match(text) for text in session.txt(domain))
