"""SPF through pyspf, every lookup answered by the test's DNS server."""

import pytest
import spf

from coffre.intake.resolver import DnsSession
from coffre.intake.spf_check import check_spf, has_spf_record
from coffre.intake.tests.mails import ATTACKER, FIDU_MAIL_SERVER


def check(resolver, *, client_ip=FIDU_MAIL_SERVER, mail_from="alice@fidu-lebrun.be",
          helo="mx.fidu-lebrun.be"):
    return check_spf(DnsSession(resolver), client_ip=client_ip, mail_from=mail_from, helo=helo)


def test_mechanisms_are_resolved_by_the_test_server(dns_server, resolver):
    dns_server.txt("fidu-lebrun.be", "v=spf1 ip4:198.51.100.0/24 mx a:relay.fidu-lebrun.be "
                                     "include:_spf.provider.example ~all")
    dns_server.add("fidu-lebrun.be", "MX", "10 mx.fidu-lebrun.be.")
    dns_server.add("mx.fidu-lebrun.be", "A", "192.0.2.40")
    dns_server.add("relay.fidu-lebrun.be", "A", "192.0.2.41")
    dns_server.txt("_spf.provider.example", "v=spf1 ip6:2001:db8::/32 -all")

    assert check(resolver, client_ip="198.51.100.7").result == "pass"
    assert check(resolver, client_ip="192.0.2.40").result == "pass"
    assert check(resolver, client_ip="192.0.2.41").result == "pass"
    assert check(resolver, client_ip="2001:db8::25").result == "pass"
    soft = check(resolver, client_ip=ATTACKER)
    assert (soft.result, soft.domain, soft.identity) == ("softfail", "fidu-lebrun.be", "mailfrom")
    for name, rdtype in [("fidu-lebrun.be", "MX"), ("mx.fidu-lebrun.be", "A"), ("relay.fidu-lebrun.be", "A"),
                         ("_spf.provider.example", "TXT")]:
        assert dns_server.asked(name, rdtype)


@pytest.mark.parametrize("records, result", [
    ([f"v=spf1 ip4:{FIDU_MAIL_SERVER} -all"], "pass"),
    (["v=spf1 -all"], "fail"),
    (["v=spf1 ?all"], "neutral"),
    (["v=spf1 -all", "v=spf1 +all"], "permerror"),
    (["v=spf1 ip4:192.0.2.300 -all"], "permerror"),
    (["v=spf1 include:nowhere.fidu-lebrun.be -all"], "permerror"),
    (["some verification token"], "none"),
    ([], "none"),
])
def test_results(dns_server, resolver, records, result):
    if records:
        dns_server.txt("fidu-lebrun.be", *records)

    assert check(resolver).result == result


def test_the_helo_name_stands_for_an_empty_envelope_sender(dns_server, resolver):
    dns_server.txt("mx.fidu-lebrun.be", f"v=spf1 ip4:{FIDU_MAIL_SERVER} -all")

    checked = check(resolver, mail_from="")
    assert (checked.result, checked.domain, checked.identity) == ("pass", "mx.fidu-lebrun.be", "helo")

    literal = check(resolver, mail_from="", helo="[192.0.2.10]")
    assert (literal.result, literal.domain) == ("none", None)
    assert dns_server.queries == [("mx.fidu-lebrun.be", "TXT", "udp")]


def test_an_unanswered_lookup_is_temperror(dns_server, resolver):
    dns_server.txt("fidu-lebrun.be", "v=spf1 include:_spf.slow.example -all")
    dns_server.drop("_spf.slow.example")

    assert check(resolver).result == "temperror"


def test_pyspf_cannot_resolve_outside_a_check(dns_server):
    with pytest.raises(spf.TempError, match="no resolver"):
        spf.DNSLookup("fidu-lebrun.be", "TXT", True, 5)
    assert dns_server.queries == []


def test_has_spf_record(dns_server, resolver):
    dns_server.txt("fidu-lebrun.be", "google-site-verification=x", "V=SPF1 -all")
    dns_server.txt("example.be", "v=spf10 -all")

    assert has_spf_record(DnsSession(resolver), "fidu-lebrun.be") is True
    assert has_spf_record(DnsSession(resolver), "example.be") is False
