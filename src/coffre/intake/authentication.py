"""Sender authentication, the second step of the intake: may the From address be believed?

``authenticate(raw_message, mail_from=..., client_ip=..., helo=...)`` returns a ``Verdict``:

``pass``
    SPF passed for the envelope domain, or a DKIM signature verified, and that domain is aligned
    with the From domain (DMARC alignment: relaxed by default, strict with ``aspf=s``/``adkim=s``).
    Only then may the From address count as an approved sender or as the account's own.
``fail``
    No aligned pass, and the From domain *publishes* sender authentication, so it is held to it.
    Also: no usable sender (no From, several From headers or addresses, a malformed From).
``none``
    No aligned pass, and the From domain publishes nothing: "unauthenticated".
``temperror``
    No aligned pass, and a DNS lookup that could have changed that (or that decides between fail
    and none) got no answer: ask again later.
``disabled``
    ``COFFRE_SENDER_AUTH`` is off (a closed demo): nothing is checked, the sender is
    unauthenticated and shown as such.

A From domain **publishes** sender authentication when at least one holds:
a DMARC record applies to it (``_dmarc.<domain>``, or its organizational domain's); it has an SPF
record of its own, or the envelope domain checked by SPF is aligned with it and has one (any SPF
result but ``none``); a DKIM signature aligned with it names a key that exists in DNS (whatever
the verification gave). docs/sender-authentication.md says what the intake does with each verdict.

Every DNS lookup goes through one ``coffre.intake.resolver.Resolver`` (the settings' unless one
is given). This module decides; it stores nothing and tells no one. Must never: read the From
domain with authheaders (see shared/LIBRARY-NOTES.md), or raise because of what a message holds.
"""

import enum
import ipaddress
from dataclasses import dataclass, field

from django.conf import settings

from coffre.intake import dmarc as dmarc_rules
from coffre.intake.dkim_check import check_dkim
from coffre.intake.resolver import DnsSession, DnsTemporaryError, Resolver, resolver_from_settings
from coffre.intake.sender_address import SenderAddress, parse_from
from coffre.intake.spf_check import SpfResult, check_spf, has_spf_record

DETAILS_VERSION = 1


class Status(enum.StrEnum):
    PASS = "pass"
    FAIL = "fail"
    NONE = "none"
    TEMPERROR = "temperror"
    DISABLED = "disabled"


@dataclass(frozen=True)
class Verdict:
    """What sender authentication concluded about one message.

    ``from_address`` / ``from_domain``: the From header's one address and its domain (lowercase
    IDNA A-labels), None when there is no usable one. ``reason``: one English sentence for people
    (the portal shows ``status``, translated). ``details``: JSON-serialisable, for the activity log:
    ``code`` (a stable name of the reason), ``from``, ``smtp`` (the facts the check used), and once
    DNS was asked ``spf``, ``dkim``, ``dmarc``, ``alignment``, ``aligned``, ``dns`` (lookups made,
    unanswered ones) and, without an aligned pass, ``published``. docs/sender-authentication.md
    shows an example.
    """

    status: Status
    from_address: str | None
    from_domain: str | None
    reason: str
    details: dict = field(default_factory=dict)

    @property
    def authenticated(self) -> bool:
        return self.status == Status.PASS

    def as_dict(self) -> dict:
        return {
            "status": str(self.status),
            "from_address": self.from_address,
            "from_domain": self.from_domain,
            "reason": self.reason,
            "details": self.details,
        }


def authenticate(raw_message: bytes, *, mail_from: str, client_ip: str, helo: str,
                 resolver: Resolver | None = None) -> Verdict:
    """The verdict on the sender of ``raw_message``, received from ``client_ip`` (which said
    ``helo``) with envelope sender ``mail_from`` ("" for ``MAIL FROM:<>``).

    Raises ValueError when ``client_ip`` is not an IP address (the SMTP server always knows it).
    """
    client_ip = str(ipaddress.ip_address(client_ip.strip()))
    mail_from, helo = mail_from or "", helo or ""
    sender = parse_from(raw_message)
    details = {
        "version": DETAILS_VERSION,
        "from": {"address": sender.address, "domain": sender.domain, "problem": sender.problem,
                 "addresses": list(sender.addresses)},
        "smtp": {"mail_from": mail_from, "helo": helo, "client_ip": client_ip},
    }
    if not settings.COFFRE_SENDER_AUTH:
        return _verdict(Status.DISABLED, sender, "disabled",
                        "sender authentication is turned off: the sender is unauthenticated", details)
    if sender.problem:
        return _verdict(Status.FAIL, sender, "no-sender",
                        f"{sender.problem}: the sender cannot be authenticated", details)

    session = DnsSession(resolver or resolver_from_settings())
    from_domain = sender.domain
    spf = check_spf(session, client_ip=client_ip, mail_from=mail_from, helo=helo)
    signatures = check_dkim(session, raw_message)
    dmarc_error = None
    try:
        policy = dmarc_rules.find_policy(session, from_domain)
    except DnsTemporaryError as exc:
        policy, dmarc_error = None, str(exc)
    aspf = policy.aspf if policy else "r"
    adkim = policy.adkim if policy else "r"

    spf_aligned = dmarc_rules.aligned(spf.domain, from_domain, aspf)
    dkim_entries = [
        {**signature.as_dict(), "aligned": dmarc_rules.aligned(signature.domain, from_domain, adkim)}
        for signature in signatures
    ]
    details.update({
        "spf": {**spf.as_dict(), "aligned": spf_aligned},
        "dkim": dkim_entries,
        "dmarc": policy.as_dict() if policy else ({"error": dmarc_error} if dmarc_error else None),
        "alignment": {"spf": aspf, "dkim": adkim},
    })

    dkim_passes = [entry for entry in dkim_entries if entry["result"] == "pass" and entry["aligned"]]
    spf_passes = spf.result == "pass" and spf_aligned
    details["aligned"] = bool(dkim_passes or spf_passes)
    if dkim_passes:
        return _verdict(Status.PASS, sender, "dkim-aligned-pass",
                        f"DKIM signature of {dkim_passes[0]['domain']} verified, aligned with the From "
                        f"domain {from_domain}", details, session)
    if spf_passes:
        return _verdict(Status.PASS, sender, "spf-aligned-pass",
                        f"SPF passed for {spf.domain}, aligned with the From domain {from_domain}",
                        details, session)

    # No aligned pass. Could an unanswered lookup have given one?
    unsure = (spf.result == "temperror" and spf_aligned) or any(
        entry["result"] == "temperror" and entry["aligned"] for entry in dkim_entries
    )
    published = {
        "dmarc": policy is not None if dmarc_error is None else None,
        "spf": _spf_published(session, spf, from_domain, spf_aligned),
        "dkim_key": any(entry["key_found"] and entry["aligned"] for entry in dkim_entries),
    }
    details["published"] = published
    if unsure:
        return _verdict(Status.TEMPERROR, sender, "dns-temperror",
                        "a DNS lookup that could authenticate the sender got no answer: try again later",
                        details, session)
    if any(published.values()):
        what = " and ".join(_PUBLISHED_NAMES[name] for name, value in published.items() if value)
        return _verdict(Status.FAIL, sender, "not-aligned",
                        f"{from_domain} publishes {what}, and the message passes neither SPF nor DKIM "
                        f"aligned with it{_policy_note(policy)}", details, session)
    if None in published.values():
        return _verdict(Status.TEMPERROR, sender, "dns-temperror",
                        f"DNS did not tell whether {from_domain} publishes SPF or DMARC: try again later",
                        details, session)
    return _verdict(Status.NONE, sender, "nothing-published",
                    f"{from_domain} publishes no SPF record, DKIM key or DMARC record: the sender is "
                    "unauthenticated", details, session)


_PUBLISHED_NAMES = {"dmarc": "a DMARC record", "spf": "an SPF record", "dkim_key": "DKIM keys"}


def _spf_published(session: DnsSession, spf: SpfResult, from_domain: str, spf_aligned: bool) -> bool | None:
    """Whether the From domain has SPF (see the module's doc); None when DNS did not tell."""
    if spf.domain == from_domain and spf.result != "temperror":
        return spf.result != "none"
    if spf_aligned and spf.result not in ("none", "temperror"):
        return True
    try:
        return has_spf_record(session, from_domain)
    except DnsTemporaryError:
        return None


def _policy_note(policy) -> str:
    return f" (its DMARC policy: p={policy.policy})" if policy else ""


def _verdict(status: Status, sender: SenderAddress, code: str, reason: str, details: dict,
             session: DnsSession | None = None) -> Verdict:
    details["code"] = code
    if session is not None:
        details["dns"] = {
            "lookups": len(session.lookups),
            "unanswered": [f"{name} {rdtype}" for name, rdtype, outcome in session.lookups
                           if outcome == "temperror"],
        }
    return Verdict(status, sender.address, sender.domain, reason, details)
