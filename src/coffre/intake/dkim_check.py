"""DKIM signatures (RFC 6376) of a message, each verified with dkimpy through Coffre's resolver.

Every ``DKIM-Signature`` header is verified (the first ``MAX_SIGNATURES``; a message may carry
more to waste our time): which signing domain (``d=``) passed, which failed and why, and whether
the key the signature names exists in DNS (``key_found``: a TXT record at
``<selector>._domainkey.<d>``), which tells that the domain publishes DKIM keys.

Results, as in Authentication-Results (RFC 8601): ``pass``; ``fail`` (the body or the signed
headers changed, or the signature does not match the key); ``permerror`` (a malformed signature,
no key, an unusable key); ``temperror`` (the key lookup got no answer). dkimpy gets the session's
TXT lookups as its ``dnsfunc``; it turns a lookup's timeout into a plain False, so the adapter
remembers what happened to each lookup. Must never: fetch keys elsewhere, or raise on a bad
signature.
"""

import logging
from dataclasses import asdict, dataclass

import dkim
from dkim.util import InvalidTagValueList, parse_tag_value

from coffre.intake.resolver import DnsSession, DnsTemporaryError
from coffre.intake.sender_address import normalize_domain

MAX_SIGNATURES = 5
# dkimpy logs a missing or bad key as an error; for a receiver that is the sender's problem.
_dkimpy_logger = logging.getLogger("coffre.intake.dkimpy")


@dataclass(frozen=True)
class DkimSignatureResult:
    domain: str | None  # d=, as lowercase A-labels
    selector: str | None
    result: str
    key_found: bool
    reason: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


class _KeyLookup:
    """dkimpy's ``dnsfunc`` for one signature: the session's TXT lookup, and what it found."""

    def __init__(self, session: DnsSession):
        self.session = session
        self.key_found = False
        self.key_problem: str | None = None
        self.temporary_error: str | None = None

    def __call__(self, name: bytes, timeout: float = 5) -> bytes | None:
        try:
            text_name = name.decode("ascii")
        except UnicodeDecodeError:
            return None
        try:
            records = self.session.txt(text_name)
        except DnsTemporaryError as exc:
            self.temporary_error = str(exc)
            raise dkim.DnsTimeoutError(str(exc)) from None
        if not records:
            return None
        self.key_found = True
        # One key record per selector (RFC 6376 3.6.2.2); prefer one that says it is a key.
        record = next((r for r in records if r.lstrip().startswith(b"v=DKIM1")), records[0])
        try:
            dkim.evaluate_pk(name, record)
        except Exception as exc:  # noqa: BLE001 - dkimpy raises several kinds for a bad key
            self.key_problem = f"unusable key: {exc}"[:200]
        return record


def _signature_tags(value: bytes) -> tuple[str | None, str | None]:
    try:
        tags = parse_tag_value(value)
    except (InvalidTagValueList, ValueError, IndexError):
        return None, None
    domain = tags.get(b"d")
    selector = tags.get(b"s")
    domain_text = normalize_domain(domain.decode("ascii", "replace")) if domain else None
    selector_text = selector.decode("ascii", "replace").strip().lower() if selector else None
    return domain_text, selector_text


def check_dkim(session: DnsSession, raw_message: bytes) -> list[DkimSignatureResult]:
    """The result of each DKIM signature of ``raw_message``, in header order ([] when unsigned)."""
    try:
        verifier = dkim.DKIM(raw_message, logger=_dkimpy_logger)
    except Exception as exc:  # noqa: BLE001 - dkimpy's parser on a broken message
        if b"dkim-signature" not in raw_message.lower():
            return []
        return [DkimSignatureResult(None, None, "permerror", False, f"unreadable message: {exc}"[:200])]
    signatures = [value for name, value in verifier.headers if name.lower() == b"dkim-signature"]
    results = []
    for index, value in enumerate(signatures[:MAX_SIGNATURES]):
        domain, selector = _signature_tags(value)
        keys = _KeyLookup(session)
        try:
            verified = bool(verifier.verify(index, dnsfunc=keys))
            reason = ""
        except dkim.ValidationError as exc:
            verified, reason = False, str(exc)
        except Exception as exc:  # noqa: BLE001 - MessageFormatError, KeyFormatError, bad base64...
            verified, reason = False, f"{exc.__class__.__name__}: {exc}"
        results.append(_classify(domain, selector, verified, reason, keys))
    for value in signatures[MAX_SIGNATURES:]:
        domain, selector = _signature_tags(value)
        results.append(
            DkimSignatureResult(domain, selector, "neutral", False, "not checked: too many signatures")
        )
    return results


def _classify(domain, selector, verified: bool, reason: str, keys: _KeyLookup) -> DkimSignatureResult:
    if domain is None and not reason:
        reason = "no valid d= domain"
    if verified and domain is not None:
        return DkimSignatureResult(domain, selector, "pass", True)
    if keys.temporary_error:
        return DkimSignatureResult(domain, selector, "temperror", False, keys.temporary_error[:200])
    if reason.startswith("body hash mismatch"):
        return DkimSignatureResult(domain, selector, "fail", keys.key_found, "the body was changed")
    if reason:
        return DkimSignatureResult(domain, selector, "permerror", keys.key_found, reason[:200])
    if not keys.key_found:
        return DkimSignatureResult(domain, selector, "permerror", False, "no key published for this selector")
    if keys.key_problem:
        return DkimSignatureResult(domain, selector, "permerror", True, keys.key_problem)
    return DkimSignatureResult(domain, selector, "fail", True, "the signature does not match the key")
