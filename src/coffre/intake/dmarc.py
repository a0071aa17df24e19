"""DMARC (RFC 7489): a From domain's policy record, its organizational domain, and alignment.

``find_policy`` looks for ``_dmarc.<from domain>`` and, when there is none, for the record of the
organizational domain (``_dmarc.<org domain>``, whose ``sp=`` then applies). The organizational
domain is the public suffix plus one label, from the Public Suffix List shipped inside the
``publicsuffixlist`` wheel (no download): ``mail.fidu-lebrun.be`` -> ``fidu-lebrun.be``,
``sales.example.co.uk`` -> ``example.co.uk`` (never "the last two labels": ``co.uk`` is a suffix).

``aligned`` compares an authenticated domain (SPF's, DKIM's ``d=``) with the From domain: relaxed
(the same organizational domain) by default, strict (the same name) when the record says
``aspf=s`` / ``adkim=s``. Must never: fetch the suffix list over the network.
"""

import functools
import re
from dataclasses import asdict, dataclass

from publicsuffixlist import PublicSuffixList

from coffre.intake.resolver import DnsSession

POLICIES = ("none", "quarantine", "reject")
_VERSION = re.compile(r"^v\s*=\s*DMARC1\s*(;|$)")


@functools.cache
def _suffix_list() -> PublicSuffixList:
    return PublicSuffixList()  # the list bundled with the package


def organizational_domain(domain: str) -> str:
    """The registrable domain of ``domain`` (itself when it is a public suffix or unknown)."""
    domain = domain.rstrip(".").lower()
    return _suffix_list().privatesuffix(domain) or domain


def aligned(authenticated_domain: str | None, from_domain: str, mode: str = "r") -> bool:
    """Whether an authenticated domain aligns with the From domain (mode ``r`` relaxed, ``s`` strict)."""
    if not authenticated_domain:
        return False
    authenticated_domain = authenticated_domain.rstrip(".").lower()
    from_domain = from_domain.rstrip(".").lower()
    if mode == "s":
        return authenticated_domain == from_domain
    return organizational_domain(authenticated_domain) == organizational_domain(from_domain)


@dataclass(frozen=True)
class DmarcPolicy:
    """A DMARC record that applies to a From domain.

    ``record_domain`` is where it was found (the From domain or its organizational domain);
    ``policy`` the one that applies to the From domain (``sp=`` for a subdomain that has no record
    of its own); ``problem`` notes a record DMARC would not apply as such (several records, no
    valid ``p=``): the domain still counts as publishing DMARC.
    """

    record_domain: str
    record: str
    policy: str
    adkim: str = "r"
    aspf: str = "r"
    pct: int = 100
    problem: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


def parse_record(text: str) -> dict[str, str] | None:
    """The tags of a DMARC record (names lowercased), or None when it is not one (no ``v=DMARC1`` first)."""
    if not _VERSION.match(text.strip()):
        return None
    tags = {}
    for part in text.split(";"):
        name, sep, value = part.partition("=")
        if sep and name.strip():
            tags.setdefault(name.strip().lower(), value.strip())
    return tags


def _policy_from(record_domain: str, record: str, tags: dict[str, str], *, subdomain: bool,
                 problem: str = "") -> DmarcPolicy:
    policy = tags.get("p", "").lower()
    if policy not in POLICIES:
        problem = problem or "no valid p= tag: read as p=none"
        policy = "none"
    if subdomain and tags.get("sp", "").lower() in POLICIES:
        policy = tags["sp"].lower()
    adkim = "s" if tags.get("adkim", "").lower() == "s" else "r"
    aspf = "s" if tags.get("aspf", "").lower() == "s" else "r"
    pct_text = tags.get("pct", "100")
    pct = min(int(pct_text), 100) if pct_text.isdigit() else 100
    return DmarcPolicy(record_domain, record[:500], policy, adkim, aspf, pct, problem)


def _records_at(session: DnsSession, domain: str) -> list[tuple[str, dict[str, str]]]:
    found = []
    for raw in session.txt(f"_dmarc.{domain}"):
        text = raw.decode("utf-8", "replace")
        tags = parse_record(text)
        if tags is not None:
            found.append((text, tags))
    return found


def find_policy(session: DnsSession, from_domain: str) -> DmarcPolicy | None:
    """The DMARC record that applies to ``from_domain``, or None when neither it nor its
    organizational domain publishes one. Raises ``DnsTemporaryError`` when DNS does not tell."""
    org_domain = organizational_domain(from_domain)
    for record_domain in dict.fromkeys((from_domain, org_domain)):
        records = _records_at(session, record_domain)
        if not records:
            continue
        text, tags = records[0]
        problem = "several DMARC records (RFC 7489 6.6.3)" if len(records) > 1 else ""
        return _policy_from(record_domain, text, tags, subdomain=record_domain != from_domain,
                            problem=problem)
    return None
