"""The intake's resolver against real nameservers on 127.0.0.1 (coffre.testing.dns)."""

import pytest

from coffre.intake import resolver as resolver_module
from coffre.intake.resolver import DnsSession, DnsTemporaryError, Nameserver, Resolver, resolver_from_settings
from coffre.testing.dns import DnsServer


def test_records_nxdomain_and_no_data(dns_server, resolver):
    dns_server.add("fidu-lebrun.be", "A", "192.0.2.10")
    dns_server.add("fidu-lebrun.be", "MX", "10 mx.fidu-lebrun.be.", "20 backup.fidu-lebrun.be.")
    dns_server.add("a.b.fidu-lebrun.be", "A", "192.0.2.11")

    assert [r.address for r in resolver.lookup("Fidu-Lebrun.BE.", "A")] == ["192.0.2.10"]
    assert sorted((r.preference, r.exchange.to_text()) for r in resolver.lookup("fidu-lebrun.be", "MX")) == [
        (10, "mx.fidu-lebrun.be."), (20, "backup.fidu-lebrun.be.")]
    assert resolver.lookup("nowhere.fidu-lebrun.be", "A") == []  # NXDOMAIN
    assert resolver.lookup("fidu-lebrun.be", "TXT") == []  # the name exists, no TXT
    assert resolver.lookup("b.fidu-lebrun.be", "A") == []  # an empty non-terminal


def test_cnames_are_followed(dns_server, resolver):
    dns_server.add("www.fidu-lebrun.be", "CNAME", "fidu-lebrun.be.")
    dns_server.add("fidu-lebrun.be", "A", "192.0.2.10")

    assert [r.address for r in resolver.lookup("www.fidu-lebrun.be", "A")] == ["192.0.2.10"]


def test_a_truncated_answer_is_asked_again_over_tcp(dns_server, resolver):
    long_record = "v=spf1 " + " ".join(f"ip4:192.0.2.{n}" for n in range(1, 200)) + " -all"
    dns_server.txt("big.fidu-lebrun.be", long_record, "second " * 100)

    session = DnsSession(resolver)
    texts = session.txt("big.fidu-lebrun.be")

    assert sorted(texts) == sorted([long_record.encode(), ("second " * 100).encode()])
    assert ("big.fidu-lebrun.be", "TXT", "udp") in dns_server.queries
    assert ("big.fidu-lebrun.be", "TXT", "tcp") in dns_server.queries


def test_servfail_is_a_temporary_error_naming_the_nameserver(dns_server, resolver):
    dns_server.fail("fidu-lebrun.be", "SERVFAIL")

    with pytest.raises(DnsTemporaryError, match=rf"127\.0\.0\.1:{dns_server.port}: SERVFAIL"):
        resolver.lookup("fidu-lebrun.be", "TXT")
    assert len(dns_server.queries) == 1  # a nameserver that answered an error is not asked again


def test_a_silent_nameserver_times_out_even_with_a_frozen_clock(silent_nameserver, clock):
    resolver = Resolver([silent_nameserver.nameserver], timeout=0.3)

    with pytest.raises(DnsTemporaryError, match="in time"):
        resolver.lookup("fidu-lebrun.be", "TXT")


def test_the_next_nameserver_answers_when_the_first_is_silent(silent_nameserver, dns_server):
    dns_server.add("fidu-lebrun.be", "A", "192.0.2.10")
    resolver = Resolver([silent_nameserver.nameserver, dns_server.nameserver], timeout=3)

    assert [r.address for r in resolver.lookup("fidu-lebrun.be", "A")] == ["192.0.2.10"]
    assert dns_server.asked("fidu-lebrun.be", "A")


def test_a_dropped_name_times_out_while_others_answer(dns_server, resolver):
    dns_server.add("fidu-lebrun.be", "A", "192.0.2.10")
    dns_server.drop("slow.fidu-lebrun.be")

    with pytest.raises(DnsTemporaryError):
        resolver.lookup("slow.fidu-lebrun.be", "A")
    assert resolver.lookup("fidu-lebrun.be", "A")


def test_without_nameserver_every_lookup_is_a_temporary_error(monkeypatch):
    monkeypatch.setattr(resolver_module, "system_nameservers", lambda: [])
    resolver = Resolver([])

    with pytest.raises(DnsTemporaryError, match="no DNS nameserver is configured"):
        resolver.lookup("fidu-lebrun.be", "TXT")


def test_an_invalid_name_has_no_records_and_asks_nobody(dns_server, resolver):
    assert resolver.lookup("a" * 70 + ".fidu-lebrun.be", "TXT") == []
    assert resolver.lookup("fidu..lebrun.be", "TXT") == []
    assert dns_server.queries == []


def test_the_settings_choose_the_nameservers_and_the_timeout(dns_server, settings):
    settings.COFFRE_DNS_TIMEOUT = 0.7
    built = resolver_from_settings()

    assert built.nameservers == (Nameserver("127.0.0.1", dns_server.port),)
    assert built.timeout == 0.7
    with DnsServer() as other:
        settings.COFFRE_DNS_NAMESERVERS = [other.nameserver]
        other.add("fidu-lebrun.be", "A", "192.0.2.10")
        assert resolver_from_settings().lookup("fidu-lebrun.be", "A")
        assert other.asked("fidu-lebrun.be") and not dns_server.asked("fidu-lebrun.be")


def test_the_system_nameservers_when_none_is_configured(monkeypatch):
    monkeypatch.setattr(resolver_module, "system_nameservers", lambda: [Nameserver("192.0.2.53", 53)])

    assert Resolver(None).nameservers == (Nameserver("192.0.2.53", 53),)
    assert Resolver([("::1", 5353)]).nameservers == (Nameserver("::1", 5353),)
    assert str(Nameserver("::1", 5353)) == "[::1]:5353"


def test_a_session_stops_asking_once_its_time_is_used_up(dns_server, resolver):
    dns_server.add("fidu-lebrun.be", "A", "192.0.2.10")
    session = DnsSession(resolver, budget=0)

    with pytest.raises(DnsTemporaryError, match="used up"):
        session.lookup("fidu-lebrun.be", "A")
    assert dns_server.queries == []
    assert session.lookups == [("fidu-lebrun.be", "A", "temperror")]


def test_a_session_records_its_lookups(dns_server, resolver):
    dns_server.txt("fidu-lebrun.be", "v=spf1 -all")
    session = DnsSession(resolver)

    session.txt("fidu-lebrun.be.")
    session.lookup("nowhere.fidu-lebrun.be", "A")

    assert session.lookups == [("fidu-lebrun.be", "TXT", "answer"), ("nowhere.fidu-lebrun.be", "A", "empty")]


# --- the cache ------------------------------------------------------------------------------------


class CacheClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def shift(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def cache_clock(monkeypatch) -> CacheClock:
    clock = CacheClock()
    monkeypatch.setattr(resolver_module, "cache_clock", clock)
    return clock


def test_answers_are_kept_for_their_ttl_at_most_the_cache_time(dns_server, cache_clock):
    clock = cache_clock
    dns_server.add("fidu-lebrun.be", "A", "192.0.2.10", ttl=30)
    dns_server.add("long.fidu-lebrun.be", "A", "192.0.2.12", ttl=86400)
    cached = Resolver([dns_server.nameserver], timeout=3, cache_seconds=300)

    for _ in range(3):
        assert [r.address for r in cached.lookup("fidu-lebrun.be", "A")] == ["192.0.2.10"]
    assert len(dns_server.queries) == 1
    clock.shift(31)  # past its TTL: asked again
    cached.lookup("fidu-lebrun.be", "A")
    assert len(dns_server.queries) == 2

    cached.lookup("long.fidu-lebrun.be", "A")
    clock.shift(299)
    cached.lookup("long.fidu-lebrun.be", "A")
    assert len(dns_server.queries) == 3
    clock.shift(2)  # a day's TTL is kept 300 s only
    cached.lookup("long.fidu-lebrun.be", "A")
    assert len(dns_server.queries) == 4


def test_no_such_record_is_kept_as_long_as_the_soa_says(dns_server, cache_clock):
    clock = cache_clock
    dns_server.add("fidu-lebrun.be", "SOA", "ns.fidu-lebrun.be. admin.fidu-lebrun.be. 1 3600 600 86400 60", ttl=3600)
    dns_server.add("fidu-lebrun.be", "A", "192.0.2.10")
    cached = Resolver([dns_server.nameserver], timeout=3, cache_seconds=300)

    assert cached.lookup("_dmarc.fidu-lebrun.be", "TXT") == []  # NXDOMAIN
    assert cached.lookup("fidu-lebrun.be", "TXT") == []  # no data
    cached.lookup("_dmarc.fidu-lebrun.be", "TXT")
    cached.lookup("fidu-lebrun.be", "TXT")
    assert len(dns_server.queries) == 2
    clock.shift(61)  # the SOA's minimum: 60 s
    cached.lookup("_dmarc.fidu-lebrun.be", "TXT")
    assert len(dns_server.queries) == 3


def test_a_negative_answer_without_soa_and_failures_are_never_kept(dns_server):
    cached = Resolver([dns_server.nameserver], timeout=3, cache_seconds=300)
    cached.lookup("nowhere.example", "TXT")
    cached.lookup("nowhere.example", "TXT")
    assert len(dns_server.queries) == 2
    dns_server.fail("broken.example", "SERVFAIL")
    for _ in range(2):
        with pytest.raises(DnsTemporaryError):
            cached.lookup("broken.example", "TXT")
    assert len(dns_server.queries) == 4


def test_no_cache_when_the_cache_time_is_zero(dns_server):
    dns_server.add("fidu-lebrun.be", "A", "192.0.2.10")
    uncached = Resolver([dns_server.nameserver], timeout=3, cache_seconds=0)
    uncached.lookup("fidu-lebrun.be", "A")
    uncached.lookup("fidu-lebrun.be", "A")
    assert len(dns_server.queries) == 2
