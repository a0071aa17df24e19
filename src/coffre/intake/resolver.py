"""The one DNS resolver of the intake: every lookup of sender authentication goes through it.

SPF (pyspf), DKIM keys (dkimpy), DMARC records and the A/MX/PTR look-ups SPF needs are all asked
of a ``Resolver``, through a ``DnsSession`` (one per message): pyspf and dkimpy get adapters of it
(``coffre.intake.spf_check``, ``coffre.intake.dkim_check``), never a resolver of their own.

``resolver_from_settings()`` builds it from the settings: ``COFFRE_DNS_NAMESERVERS`` (``ip[:port]``,
empty = the system's nameservers of /etc/resolv.conf), ``COFFRE_DNS_TIMEOUT`` (seconds one
lookup may take, all attempts included) and ``COFFRE_DNS_CACHE_SECONDS``: answers are kept for
their TTL, at most that long (0: no cache), as a caching resolver would; a name that does not
exist, or has no record of the type, is kept as long as its zone's SOA says (RFC 2308), within
the same bound. Temporary failures are never kept. A session also caps the whole message: after
``SESSION_LOOKUPS_BUDGET`` times the timeout, its remaining look-ups fail at once.

It is a stub resolver on dnspython's message and query functions (recursion desired, EDNS with a
1232-byte payload, TCP when an answer is truncated), not ``dns.resolver.Resolver``: that one
measures its lifetime with ``time.time()``, which a test's frozen clock (time-machine) stops, so it
would wait forever on a nameserver that never answers; the deadlines here use ``time.monotonic()``.

Must never: ask a nameserver other than the configured ones, append search domains, or raise
anything but ``DnsTemporaryError`` for a lookup that got no usable answer.
"""

import functools
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.resolver
from django.conf import settings

# One UDP attempt waits at most this long before the next attempt (dnspython's default), so that a
# lost datagram or a dead first nameserver does not use the whole timeout.
ATTEMPT_TIMEOUT = 2.0
# What one message's look-ups may take together, in lookup timeouts.
SESSION_LOOKUPS_BUDGET = 3
EDNS_PAYLOAD = 1232  # the DNS flag day 2020 size: no fragmented UDP
CACHE_ENTRIES = 10_000
cache_clock = time.monotonic  # what the cache's TTLs count in (a test moves it)


class DnsTemporaryError(Exception):
    """A lookup got no usable answer (timeout, SERVFAIL, no nameserver): try again later."""


@dataclass(frozen=True)
class Nameserver:
    address: str
    port: int = 53

    def __str__(self) -> str:
        host = f"[{self.address}]" if ":" in self.address else self.address
        return f"{host}:{self.port}"


def system_nameservers() -> list[Nameserver]:
    """The nameservers of /etc/resolv.conf ([] when it names none or cannot be read)."""
    try:
        system = dns.resolver.Resolver(configure=True)
    except dns.resolver.NoResolverConfiguration:
        return []
    return [Nameserver(str(address), int(system.port)) for address in system.nameservers]


class Resolver:
    """Asks ``nameservers`` (each in turn) for the records of a name, within ``timeout`` seconds."""

    def __init__(self, nameservers: Iterable[Nameserver | tuple[str, int]] | None = None, *,
                 timeout: float = 5.0, cache_seconds: float = 0.0):
        given = [ns if isinstance(ns, Nameserver) else Nameserver(*ns) for ns in (nameservers or ())]
        self.nameservers: tuple[Nameserver, ...] = tuple(given or system_nameservers())
        self.timeout = float(timeout)
        self.cache_seconds = float(cache_seconds)
        self._cache: OrderedDict[tuple[dns.name.Name, str], tuple[float, list]] = OrderedDict()
        self._cache_lock = threading.Lock()

    def __repr__(self) -> str:
        servers = ", ".join(map(str, self.nameservers)) or "none"
        return f"<Resolver nameservers={servers} timeout={self.timeout:g}s>"

    def lookup(self, name: str, rdtype: str, *, deadline: float | None = None) -> list[dns.rdata.Rdata]:
        """The records of type ``rdtype`` of ``name`` (an absolute name, trailing dot or not).

        [] when the name does not exist (NXDOMAIN), has no record of that type, or is not a valid
        DNS name. CNAMEs in the answer are followed. ``deadline`` (``time.monotonic()``) cuts the
        timeout short. Raises ``DnsTemporaryError`` when no nameserver gave a usable answer.
        """
        try:
            qname = dns.name.from_text(name.rstrip(".") + ".")
        except (dns.exception.DNSException, UnicodeError, ValueError):
            return []
        cached = self._cached(qname, rdtype)
        if cached is not None:
            return cached
        records, ttl = self._ask(qname, rdtype, deadline)
        self._keep(qname, rdtype, records, ttl)
        return records

    def _cached(self, qname: dns.name.Name, rdtype: str) -> list | None:
        if self.cache_seconds <= 0:
            return None
        with self._cache_lock:
            entry = self._cache.get((qname, rdtype))
            if entry is None:
                return None
            if entry[0] <= cache_clock():
                del self._cache[(qname, rdtype)]
                return None
            return list(entry[1])

    def _keep(self, qname: dns.name.Name, rdtype: str, records: list, ttl: float) -> None:
        seconds = min(ttl, self.cache_seconds)
        if seconds <= 0:
            return
        with self._cache_lock:
            self._cache[(qname, rdtype)] = (cache_clock() + seconds, list(records))
            self._cache.move_to_end((qname, rdtype))
            while len(self._cache) > CACHE_ENTRIES:
                self._cache.popitem(last=False)

    def _ask(self, qname: dns.name.Name, rdtype: str, deadline: float | None) -> tuple[list, float]:
        """The records and how long they may be kept (0: not at all), from the nameservers."""
        query = dns.message.make_query(qname, rdtype, use_edns=0, payload=EDNS_PAYLOAD)
        stop = time.monotonic() + self.timeout
        if deadline is not None:
            stop = min(stop, deadline)
        candidates = list(self.nameservers)
        problems: dict[Nameserver, str] = {}
        while candidates:
            for nameserver in list(candidates):
                remaining = stop - time.monotonic()
                if remaining <= 0:
                    raise DnsTemporaryError(
                        f"no answer for {qname} {rdtype} in time ({_describe(problems) or 'timeout'})"
                    )
                try:
                    response, _ = dns.query.udp_with_fallback(
                        query, nameserver.address, timeout=min(remaining, ATTEMPT_TIMEOUT),
                        port=nameserver.port, ignore_unexpected=True,
                    )
                except dns.exception.Timeout:
                    problems[nameserver] = "timeout"
                    continue
                except (OSError, EOFError, dns.exception.DNSException) as exc:
                    # Refused connection, a broken answer: this nameserver will not do better.
                    problems[nameserver] = exc.__class__.__name__
                    candidates.remove(nameserver)
                    continue
                rcode = response.rcode()
                if rcode == dns.rcode.NXDOMAIN:
                    return [], _negative_ttl(response)
                if rcode != dns.rcode.NOERROR:
                    problems[nameserver] = dns.rcode.to_text(rcode)
                    candidates.remove(nameserver)
                    continue
                try:
                    chain = response.resolve_chaining()
                except dns.exception.DNSException as exc:
                    problems[nameserver] = exc.__class__.__name__
                    candidates.remove(nameserver)
                    continue
                if chain.answer is None:
                    return [], _negative_ttl(response)
                return list(chain.answer), chain.answer.ttl
        if not self.nameservers:
            raise DnsTemporaryError(
                "no DNS nameserver is configured (COFFRE_DNS_NAMESERVERS, /etc/resolv.conf)"
            )
        raise DnsTemporaryError(f"no usable answer for {qname} {rdtype} ({_describe(problems)})")


def _negative_ttl(response: dns.message.Message) -> float:
    """How long "no such record" may be kept: the SOA of the answer's authority (RFC 2308 5)."""
    for rrset in response.authority:
        if rrset.rdtype == dns.rdatatype.SOA and len(rrset):
            return min(rrset.ttl, rrset[0].minimum)
    return 0.0


def _describe(problems: dict[Nameserver, str]) -> str:
    return ", ".join(f"{nameserver}: {problem}" for nameserver, problem in problems.items())


@functools.lru_cache(maxsize=8)
def _resolver(nameservers: tuple[tuple[str, int], ...], timeout: float, cache_seconds: float) -> Resolver:
    return Resolver(nameservers, timeout=timeout, cache_seconds=cache_seconds)


def resolver_from_settings() -> Resolver:
    """The resolver of ``COFFRE_DNS_NAMESERVERS``, ``COFFRE_DNS_TIMEOUT`` and ``COFFRE_DNS_CACHE_SECONDS``."""
    nameservers = tuple((str(host), int(port)) for host, port in settings.COFFRE_DNS_NAMESERVERS)
    return _resolver(
        nameservers, float(settings.COFFRE_DNS_TIMEOUT), float(settings.COFFRE_DNS_CACHE_SECONDS)
    )


@dataclass
class DnsSession:
    """The look-ups of one message: a shared deadline, and a record of what was asked.

    ``lookups`` lists ``(name, rdtype, outcome)`` with outcome ``"answer"``, ``"empty"`` or
    ``"temperror"``, in order (for the tests and the activity's details).
    """

    resolver: Resolver
    budget: float | None = None
    lookups: list[tuple[str, str, str]] = field(default_factory=list)

    def __post_init__(self):
        budget = self.resolver.timeout * SESSION_LOOKUPS_BUDGET if self.budget is None else self.budget
        self.deadline = time.monotonic() + budget
        self._lock = threading.Lock()

    def lookup(self, name: str, rdtype: str) -> list[dns.rdata.Rdata]:
        name = name.rstrip(".").lower()
        try:
            if time.monotonic() >= self.deadline:
                raise DnsTemporaryError("the DNS time of this message is used up")
            records = self.resolver.lookup(name, rdtype, deadline=self.deadline)
        except DnsTemporaryError:
            self._note(name, rdtype, "temperror")
            raise
        self._note(name, rdtype, "answer" if records else "empty")
        return records

    def txt(self, name: str) -> list[bytes]:
        """Each TXT record of ``name``, its strings joined (RFC 7208 3.3, RFC 6376 3.6.2.2)."""
        return [b"".join(record.strings) for record in self.lookup(name, "TXT")]

    def _note(self, name: str, rdtype: str, outcome: str) -> None:
        with self._lock:
            self.lookups.append((name, rdtype, outcome))
