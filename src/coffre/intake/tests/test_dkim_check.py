"""DKIM signatures verified through dkimpy with keys served by the test's DNS server."""

from coffre.intake.dkim_check import MAX_SIGNATURES, check_dkim
from coffre.intake.resolver import DnsSession
from coffre.intake.tests.mails import message


def results(resolver, raw: bytes):
    return [(r.domain, r.selector, r.result, r.key_found, r.reason)
            for r in check_dkim(DnsSession(resolver), raw)]


def test_an_unsigned_message_has_no_result(resolver, dns_server):
    assert check_dkim(DnsSession(resolver), message()) == []
    assert dns_server.queries == []


def test_a_valid_signature(dns_server, resolver, dkim_key):
    dkim_key.publish(dns_server, "fidu-lebrun.be", "s1")

    assert results(resolver, dkim_key.sign(message(), "Fidu-Lebrun.be", "s1")) == [
        ("fidu-lebrun.be", "s1", "pass", True, "")]


def test_a_changed_signed_header_fails(dns_server, resolver, dkim_key):
    dkim_key.publish(dns_server, "fidu-lebrun.be", "s1")
    signed = dkim_key.sign(message(), "fidu-lebrun.be", "s1")

    changed = signed.replace(b"Subject: Invoice January", b"Subject: Invoice February")

    assert results(resolver, changed) == [
        ("fidu-lebrun.be", "s1", "fail", True, "the signature does not match the key")]


def test_a_second_from_header_added_after_signing_fails(dns_server, resolver, dkim_key):
    dkim_key.publish(dns_server, "fidu-lebrun.be", "s1")
    signed = dkim_key.sign(message(), "fidu-lebrun.be", "s1")

    doubled = signed.replace(b"From: Alice", b"From: Mallory <mallory@fidu-lebrun.be>\r\nFrom: Alice", 1)

    assert results(resolver, doubled)[0][2] == "fail"


def test_no_key_and_unusable_key_are_permerrors(dns_server, resolver, dkim_key):
    dns_server.txt("broken._domainkey.fidu-lebrun.be", "v=DKIM1; k=rsa; p=bm90IGEga2V5")

    missing = results(resolver, dkim_key.sign(message(), "fidu-lebrun.be", "missing"))
    broken = results(resolver, dkim_key.sign(message(), "fidu-lebrun.be", "broken"))

    assert missing == [
        ("fidu-lebrun.be", "missing", "permerror", False, "no key published for this selector")]
    assert broken[0][2:4] == ("permerror", True)
    assert broken[0][4].startswith("unusable key")


def test_a_malformed_signature_is_a_permerror(dns_server, resolver):
    raw = b"DKIM-Signature: v=1; a=rsa-sha256; d=fidu-lebrun.be; s=s1; b=AAAA\r\n" + message()

    [(domain, selector, result, key_found, reason)] = results(resolver, raw)

    assert (domain, selector, result, key_found) == ("fidu-lebrun.be", "s1", "permerror", False)
    assert reason


def test_an_unanswered_key_lookup_is_temperror(dns_server, resolver, dkim_key):
    dns_server.drop("s1._domainkey.fidu-lebrun.be")

    [(_, _, result, key_found, reason)] = results(resolver, dkim_key.sign(message(), "fidu-lebrun.be", "s1"))

    assert (result, key_found) == ("temperror", False)
    assert "s1._domainkey.fidu-lebrun.be" in reason


def test_only_the_first_signatures_are_checked(dns_server, resolver, dkim_key):
    raw = message()
    for number in range(MAX_SIGNATURES + 2):
        dkim_key.publish(dns_server, f"d{number}.example.be", "s")
        raw = dkim_key.sign(raw, f"d{number}.example.be", "s")

    checked = results(resolver, raw)

    assert [r[2] for r in checked] == ["pass"] * MAX_SIGNATURES + ["neutral", "neutral"]
    assert checked[-1][4] == "not checked: too many signatures"
    assert sum(1 for name, _, _ in dns_server.queries if "._domainkey." in name) == MAX_SIGNATURES
