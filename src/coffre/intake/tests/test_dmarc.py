"""DMARC records, organizational domains and alignment."""

import pytest

from coffre.intake.dmarc import aligned, find_policy, organizational_domain, parse_record
from coffre.intake.resolver import DnsSession


@pytest.mark.parametrize("domain, organization", [
    ("fidu-lebrun.be", "fidu-lebrun.be"),
    ("mail.fidu-lebrun.be", "fidu-lebrun.be"),
    ("a.b.c.fidu-lebrun.be", "fidu-lebrun.be"),
    ("billing.example.co.uk", "example.co.uk"),
    ("example.co.uk", "example.co.uk"),
    ("co.uk", "co.uk"),  # a public suffix is its own
    ("xn--caf-dma.be", "xn--caf-dma.be"),
    ("Mail.Fidu-Lebrun.BE.", "fidu-lebrun.be"),
])
def test_organizational_domain_comes_from_the_public_suffix_list(domain, organization):
    assert organizational_domain(domain) == organization


@pytest.mark.parametrize("authenticated, from_domain, mode, expected", [
    ("fidu-lebrun.be", "fidu-lebrun.be", "s", True),
    ("mail.fidu-lebrun.be", "fidu-lebrun.be", "r", True),
    ("mail.fidu-lebrun.be", "fidu-lebrun.be", "s", False),
    ("fidu-lebrun.be", "offers.fidu-lebrun.be", "r", True),
    ("lebrun.be", "fidu-lebrun.be", "r", False),
    ("fidu.be", "fidu-lebrun.be", "r", False),
    ("other.co.uk", "example.co.uk", "r", False),
    ("co.uk", "example.co.uk", "r", False),
    ("mx.example.co.uk", "billing.example.co.uk", "r", True),
    (None, "fidu-lebrun.be", "r", False),
])
def test_alignment(authenticated, from_domain, mode, expected):
    assert aligned(authenticated, from_domain, mode) is expected


def test_parse_record():
    assert parse_record("v=DMARC1; p=reject; RUA=mailto:d@fidu-lebrun.be; adkim=s") == {
        "v": "DMARC1", "p": "reject", "rua": "mailto:d@fidu-lebrun.be", "adkim": "s"}
    assert parse_record("v = DMARC1 ;p=none") == {"v": "DMARC1", "p": "none"}
    assert parse_record("v=DMARC1") == {"v": "DMARC1"}
    assert parse_record("p=reject; v=DMARC1") is None  # v= must come first
    assert parse_record("v=spf1 -all") is None
    assert parse_record("v=DMARC10; p=reject") is None


def test_policy_of_the_from_domain_itself(dns_server, resolver):
    dns_server.txt("_dmarc.fidu-lebrun.be", "v=DMARC1; p=quarantine; sp=reject; adkim=s; aspf=s; pct=50",
                   "some other text")

    policy = find_policy(DnsSession(resolver), "fidu-lebrun.be")

    assert (policy.record_domain, policy.policy, policy.adkim, policy.aspf, policy.pct, policy.problem) == (
        "fidu-lebrun.be", "quarantine", "s", "s", 50, "")


def test_a_subdomain_falls_back_to_the_organizational_domain_and_its_sp(dns_server, resolver):
    dns_server.txt("_dmarc.fidu-lebrun.be", "v=DMARC1; p=quarantine; sp=none")

    policy = find_policy(DnsSession(resolver), "offers.fidu-lebrun.be")

    assert (policy.record_domain, policy.policy) == ("fidu-lebrun.be", "none")
    assert dns_server.asked("_dmarc.offers.fidu-lebrun.be") and dns_server.asked("_dmarc.fidu-lebrun.be")


def test_a_subdomain_record_wins_over_the_organizational_one(dns_server, resolver):
    dns_server.txt("_dmarc.fidu-lebrun.be", "v=DMARC1; p=reject")
    dns_server.txt("_dmarc.offers.fidu-lebrun.be", "v=DMARC1; p=none")

    policy = find_policy(DnsSession(resolver), "offers.fidu-lebrun.be")

    assert (policy.record_domain, policy.policy) == ("offers.fidu-lebrun.be", "none")
    assert not dns_server.asked("_dmarc.fidu-lebrun.be")


def test_no_record_anywhere(dns_server, resolver):
    dns_server.txt("_dmarc.fidu-lebrun.be", "not a dmarc record")

    assert find_policy(DnsSession(resolver), "mail.fidu-lebrun.be") is None


def test_broken_records_still_count_as_published(dns_server, resolver):
    dns_server.txt("_dmarc.fidu-lebrun.be", "v=DMARC1; p=reject", "v=DMARC1; p=none")
    dns_server.txt("_dmarc.example.co.uk", "v=DMARC1; p=block; pct=abc")

    several = find_policy(DnsSession(resolver), "fidu-lebrun.be")
    invalid = find_policy(DnsSession(resolver), "example.co.uk")

    assert several.problem.startswith("several DMARC records")
    assert (invalid.policy, invalid.pct, invalid.problem) == ("none", 100, "no valid p= tag: read as p=none")
