"""Sender authentication end to end: real DNS (a server on 127.0.0.1), real DKIM signatures.

The scenarios: Fiduciaire Lebrun (fidu-lebrun.be, a hyphenated domain: the LIBRARY-NOTES case)
sends from its own mail server, or through a mailing service (mailer.example.net); an attacker
(203.0.113.66) forges its address; example.be publishes nothing; a British client sits under a
multi-label public suffix (example.co.uk).
"""

import json

import dns.resolver
import pytest
import spf

from coffre.intake.authentication import Status, Verdict, authenticate
from coffre.intake.resolver import Resolver
from coffre.intake.tests.mails import ATTACKER, FIDU_MAIL_SERVER, MAILER_SERVER, message
from coffre.testing.dns import DnsServer


def publish_fidu(dns_server, dkim_key, *, dmarc="v=DMARC1; p=reject; rua=mailto:dmarc@fidu-lebrun.be"):
    """Fiduciaire Lebrun: SPF for its mail server, a DKIM key for mail.fidu-lebrun.be, DMARC."""
    dns_server.txt("fidu-lebrun.be", f"v=spf1 ip4:{FIDU_MAIL_SERVER} -all", "google-site-verification=abc")
    dkim_key.publish(dns_server, "mail.fidu-lebrun.be", "s2026")
    if dmarc:
        dns_server.txt("_dmarc.fidu-lebrun.be", dmarc)


def publish_mailer(dns_server, key):
    """A mailing service with its own SPF and DKIM key, for its own domain."""
    dns_server.txt("mailer.example.net", f"v=spf1 ip4:{MAILER_SERVER} -all")
    key.publish(dns_server, "mailer.example.net", "m1")


def logged(verdict: Verdict) -> dict:
    """The verdict as the activity log stores it (JSON), read back."""
    return json.loads(json.dumps(verdict.as_dict()))


# --- pass -------------------------------------------------------------------------------------------


def test_spf_pass_of_the_from_domain_authenticates_the_sender(dns_server, dkim_key):
    publish_fidu(dns_server, dkim_key)

    verdict = authenticate(message(), mail_from="alice@fidu-lebrun.be", client_ip=FIDU_MAIL_SERVER,
                           helo="mx.fidu-lebrun.be")

    assert verdict.status == Status.PASS and verdict.authenticated
    assert (verdict.from_address, verdict.from_domain) == ("alice@fidu-lebrun.be", "fidu-lebrun.be")
    details = logged(verdict)["details"]
    assert details["code"] == "spf-aligned-pass"
    assert details["spf"] == {"result": "pass", "domain": "fidu-lebrun.be", "identity": "mailfrom",
                              "explanation": "sender SPF authorized", "aligned": True}
    assert details["dmarc"]["policy"] == "reject"
    # The resolver of the settings (the dns_server fixture's) answered, and the hyphenated domain
    # was asked whole (authheaders' get_domain_part would have asked for "fidu").
    assert dns_server.asked("fidu-lebrun.be", "TXT") and dns_server.asked("_dmarc.fidu-lebrun.be", "TXT")
    assert not any(name.endswith("fidu") for name, _, _ in dns_server.queries)


def test_spf_of_a_subdomain_envelope_aligns_relaxed_but_not_strict(dns_server, resolver):
    dns_server.txt("bounces.fidu-lebrun.be", f"v=spf1 ip4:{FIDU_MAIL_SERVER} -all")
    dns_server.txt("_dmarc.fidu-lebrun.be", "v=DMARC1; p=quarantine")
    relaxed = authenticate(message(), mail_from="b-123@bounces.fidu-lebrun.be", client_ip=FIDU_MAIL_SERVER,
                           helo="mx.fidu-lebrun.be", resolver=resolver)
    assert relaxed.status == Status.PASS
    assert relaxed.details["spf"]["domain"] == "bounces.fidu-lebrun.be"

    dns_server.remove("_dmarc.fidu-lebrun.be")
    dns_server.txt("_dmarc.fidu-lebrun.be", "v=DMARC1; p=quarantine; aspf=s")
    strict = authenticate(message(), mail_from="b-123@bounces.fidu-lebrun.be", client_ip=FIDU_MAIL_SERVER,
                          helo="mx.fidu-lebrun.be", resolver=resolver)
    assert strict.status == Status.FAIL
    assert strict.details["spf"]["result"] == "pass" and strict.details["spf"]["aligned"] is False
    assert strict.details["alignment"] == {"spf": "s", "dkim": "r"}


def test_spf_of_the_helo_name_when_the_envelope_sender_is_empty(dns_server, resolver):
    dns_server.txt("mx.fidu-lebrun.be", "v=spf1 a -all")
    dns_server.add("mx.fidu-lebrun.be", "A", FIDU_MAIL_SERVER)

    verdict = authenticate(message(), mail_from="", client_ip=FIDU_MAIL_SERVER, helo="mx.fidu-lebrun.be",
                           resolver=resolver)

    assert verdict.status == Status.PASS
    assert verdict.details["spf"]["identity"] == "helo"
    assert verdict.details["spf"]["domain"] == "mx.fidu-lebrun.be"
    assert dns_server.asked("mx.fidu-lebrun.be", "A")


def test_dkim_signature_of_a_subdomain_aligns_relaxed(dns_server, resolver, dkim_key):
    publish_fidu(dns_server, dkim_key)
    signed = dkim_key.sign(message(), "mail.fidu-lebrun.be", "s2026")

    # Relayed by a mailing service: SPF passes for its domain, not the From's; DKIM carries it.
    publish_mailer(dns_server, dkim_key)
    verdict = authenticate(signed, mail_from="bounce-9@mailer.example.net", client_ip=MAILER_SERVER,
                           helo="out.mailer.example.net", resolver=resolver)

    assert verdict.status == Status.PASS
    assert verdict.details["code"] == "dkim-aligned-pass"
    assert verdict.details["spf"]["result"] == "pass" and verdict.details["spf"]["aligned"] is False
    assert verdict.details["dkim"] == [{
        "domain": "mail.fidu-lebrun.be", "selector": "s2026", "result": "pass", "key_found": True,
        "reason": "", "aligned": True,
    }]
    assert dns_server.asked("s2026._domainkey.mail.fidu-lebrun.be", "TXT")


def test_from_a_subdomain_inherits_the_organizational_domain_policy(dns_server, resolver, dkim_key):
    publish_fidu(dns_server, dkim_key, dmarc="v=DMARC1; p=none; sp=reject")
    dkim_key.publish(dns_server, "fidu-lebrun.be", "s1")
    from_subdomain = message("Sales <sales@offers.fidu-lebrun.be>")

    signed = dkim_key.sign(from_subdomain, "fidu-lebrun.be", "s1")
    verdict = authenticate(signed, mail_from="x@elsewhere.example", client_ip=ATTACKER, helo="h",
                           resolver=resolver)
    assert verdict.status == Status.PASS

    unsigned = authenticate(from_subdomain, mail_from="x@elsewhere.example", client_ip=ATTACKER, helo="h",
                            resolver=resolver)
    assert unsigned.status == Status.FAIL
    assert unsigned.details["dmarc"]["record_domain"] == "fidu-lebrun.be"
    assert unsigned.details["dmarc"]["policy"] == "reject"  # sp= applies to the subdomain
    assert dns_server.asked("_dmarc.offers.fidu-lebrun.be") and dns_server.asked("_dmarc.fidu-lebrun.be")


def test_multi_label_public_suffix_aligns_on_the_registered_domain(dns_server, resolver, dkim_key):
    dns_server.txt("_dmarc.example.co.uk", "v=DMARC1; p=reject")
    dkim_key.publish(dns_server, "example.co.uk", "k1")
    dkim_key.publish(dns_server, "other.co.uk", "k1")
    from_uk = message("Accounts <accounts@billing.example.co.uk>")

    own = authenticate(dkim_key.sign(from_uk, "example.co.uk", "k1"), mail_from="", client_ip=ATTACKER,
                       helo="mail.example.co.uk", resolver=resolver)
    assert own.status == Status.PASS
    assert own.details["dmarc"]["record_domain"] == "example.co.uk"

    # A valid signature of another registrant under the same suffix: "co.uk" is not an organization.
    other = authenticate(dkim_key.sign(from_uk, "other.co.uk", "k1"), mail_from="", client_ip=ATTACKER,
                         helo="mail.other.co.uk", resolver=resolver)
    assert other.status == Status.FAIL
    assert other.details["dkim"][0]["result"] == "pass" and other.details["dkim"][0]["aligned"] is False
    assert not dns_server.asked("_dmarc.co.uk")


def test_one_good_signature_among_several_is_enough(dns_server, resolver, dkim_key, other_dkim_key):
    publish_fidu(dns_server, dkim_key)
    publish_mailer(dns_server, other_dkim_key)
    signed = other_dkim_key.sign(dkim_key.sign(message(), "mail.fidu-lebrun.be", "s2026"),
                                 "mailer.example.net", "m1")
    forged = dkim_key.sign(signed, "fidu-lebrun.be", "missing-selector")

    verdict = authenticate(forged, mail_from="bounce@mailer.example.net", client_ip=ATTACKER, helo="h",
                           resolver=resolver)

    assert verdict.status == Status.PASS
    results = [(entry["domain"], entry["result"], entry["aligned"]) for entry in verdict.details["dkim"]]
    assert results == [("fidu-lebrun.be", "permerror", True), ("mailer.example.net", "pass", False),
                       ("mail.fidu-lebrun.be", "pass", True)]


# --- fail -------------------------------------------------------------------------------------------


def test_spf_pass_for_another_domain_fails_when_the_from_domain_publishes_dmarc(dns_server, resolver):
    dns_server.txt("_dmarc.fidu-lebrun.be", "v=DMARC1; p=none")
    dns_server.txt("mailer.example.net", f"v=spf1 ip4:{MAILER_SERVER} -all")

    verdict = authenticate(message(), mail_from="bounce@mailer.example.net", client_ip=MAILER_SERVER,
                           helo="out.mailer.example.net", resolver=resolver)

    assert verdict.status == Status.FAIL and not verdict.authenticated
    assert verdict.from_address == "alice@fidu-lebrun.be"  # still known: handled as an unknown address
    assert verdict.details["code"] == "not-aligned"
    assert verdict.details["spf"]["result"] == "pass" and verdict.details["spf"]["aligned"] is False
    assert verdict.details["published"] == {"dmarc": True, "spf": False, "dkim_key": False}
    assert verdict.details["dmarc"]["policy"] == "none"  # p=none publishes DMARC all the same


def test_spf_pass_for_another_domain_fails_when_the_from_domain_publishes_spf_only(dns_server, resolver):
    dns_server.txt("fidu-lebrun.be", f"v=spf1 ip4:{FIDU_MAIL_SERVER} -all")
    dns_server.txt("mailer.example.net", f"v=spf1 ip4:{MAILER_SERVER} -all")

    verdict = authenticate(message(), mail_from="bounce@mailer.example.net", client_ip=MAILER_SERVER,
                           helo="out.mailer.example.net", resolver=resolver)

    assert verdict.status == Status.FAIL
    assert verdict.details["dmarc"] is None
    assert verdict.details["published"] == {"dmarc": False, "spf": True, "dkim_key": False}
    assert "an SPF record" in verdict.reason


def test_dkim_pass_of_another_domain_is_not_aligned(dns_server, resolver, dkim_key, other_dkim_key):
    publish_fidu(dns_server, dkim_key)
    publish_mailer(dns_server, other_dkim_key)
    signed = other_dkim_key.sign(message(), "mailer.example.net", "m1")

    verdict = authenticate(signed, mail_from="bounce@mailer.example.net", client_ip=ATTACKER, helo="h",
                           resolver=resolver)

    assert verdict.status == Status.FAIL
    assert verdict.details["dkim"][0]["result"] == "pass" and verdict.details["dkim"][0]["aligned"] is False
    assert verdict.details["aligned"] is False


def test_strict_dkim_alignment_refuses_a_subdomain_signature(dns_server, resolver, dkim_key):
    publish_fidu(dns_server, dkim_key, dmarc="v=DMARC1; p=reject; adkim=s")
    signed = dkim_key.sign(message(), "mail.fidu-lebrun.be", "s2026")

    verdict = authenticate(signed, mail_from="bounce@mailer.example.net", client_ip=ATTACKER, helo="h",
                           resolver=resolver)

    assert verdict.status == Status.FAIL
    assert verdict.details["dkim"][0]["result"] == "pass" and verdict.details["dkim"][0]["aligned"] is False


def test_altered_body_fails_dkim_and_its_published_key_holds_the_domain_to_it(dns_server, resolver, dkim_key):
    # No SPF, no DMARC: only the DKIM key says that fidu-lebrun.be authenticates its mail.
    dkim_key.publish(dns_server, "fidu-lebrun.be", "s1")
    signed = dkim_key.sign(message(body="Pay to BE68 5390 0754 7034."), "fidu-lebrun.be", "s1")
    altered = signed.replace(b"BE68 5390 0754 7034", b"BE71 0961 2345 6769")

    intact = authenticate(signed, mail_from="", client_ip=ATTACKER, helo="h.example", resolver=resolver)
    verdict = authenticate(altered, mail_from="", client_ip=ATTACKER, helo="h.example", resolver=resolver)

    assert intact.status == Status.PASS
    assert verdict.status == Status.FAIL
    assert verdict.details["dkim"][0]["result"] == "fail"
    assert verdict.details["dkim"][0]["reason"] == "the body was changed"
    assert verdict.details["published"] == {"dmarc": False, "spf": False, "dkim_key": True}


def test_forged_from_of_a_domain_with_p_reject_fails(dns_server, resolver, dkim_key, other_dkim_key):
    publish_fidu(dns_server, dkim_key)
    # The attacker's own domain passes SPF and DKIM; its signature claims fidu-lebrun.be too.
    dns_server.txt("evil.example", f"v=spf1 ip4:{ATTACKER} -all")
    forged = other_dkim_key.sign(message("Alice Lebrun <alice@fidu-lebrun.be>", body="New bank account!"),
                                 "mail.fidu-lebrun.be", "s2026")

    verdict = authenticate(forged, mail_from="alice@evil.example", client_ip=ATTACKER, helo="evil.example",
                           resolver=resolver)

    assert verdict.status == Status.FAIL
    assert verdict.details["spf"]["result"] == "pass" and verdict.details["spf"]["domain"] == "evil.example"
    assert verdict.details["dkim"][0]["result"] == "fail"
    assert verdict.details["dkim"][0]["reason"] == "the signature does not match the key"
    assert verdict.details["dmarc"]["policy"] == "reject"
    assert "p=reject" in verdict.reason

    # The same forgery through the envelope: MAIL FROM of the real domain from the attacker's host.
    direct = authenticate(message(), mail_from="alice@fidu-lebrun.be", client_ip=ATTACKER,
                          helo="evil.example", resolver=resolver)
    assert direct.status == Status.FAIL
    assert direct.details["spf"]["result"] == "fail" and direct.details["spf"]["aligned"] is True


# --- none -------------------------------------------------------------------------------------------


def test_a_domain_that_publishes_nothing_is_unauthenticated(dns_server, resolver, other_dkim_key):
    dns_server.add("example.be", "MX", "10 mx.example.be.")
    dns_server.add("mx.example.be", "A", "192.0.2.25")

    verdict = authenticate(message("Bob <bob@example.be>"), mail_from="bob@example.be", client_ip=ATTACKER,
                           helo="pc.example.be", resolver=resolver)

    assert verdict.status == Status.NONE and not verdict.authenticated
    assert verdict.details["code"] == "nothing-published"
    assert verdict.details["spf"]["result"] == "none"
    assert verdict.details["published"] == {"dmarc": False, "spf": False, "dkim_key": False}

    # A signature claiming example.be whose key does not exist publishes nothing either.
    claimed = authenticate(other_dkim_key.sign(message("Bob <bob@example.be>"), "example.be", "nokey"),
                           mail_from="bob@example.be", client_ip=ATTACKER, helo="pc.example.be",
                           resolver=resolver)
    assert claimed.status == Status.NONE
    [signature] = claimed.details["dkim"]
    assert (signature["result"], signature["key_found"]) == ("permerror", False)


def test_unaligned_passes_do_not_make_a_silent_domain_publish(dns_server, resolver, other_dkim_key):
    publish_mailer(dns_server, other_dkim_key)
    signed = other_dkim_key.sign(message("Bob <bob@example.be>"), "mailer.example.net", "m1")

    verdict = authenticate(signed, mail_from="bounce@mailer.example.net", client_ip=MAILER_SERVER, helo="h",
                           resolver=resolver)

    assert verdict.status == Status.NONE


# --- no usable sender -------------------------------------------------------------------------------


@pytest.mark.parametrize("headers, problem", [
    ("From: alice@fidu-lebrun.be, mallory@evil.example", "the From header holds several addresses"),
    ("From: alice@fidu-lebrun.be\r\nFrom: mallory@evil.example", "the message has several From headers"),
    ("From: alice@fidu-lebrun.be\r\nFrom: alice@fidu-lebrun.be", "the message has several From headers"),
    ("Sender: alice@fidu-lebrun.be", "the message has no From header"),
    ("From: Alice <alice@fidu lebrun.be>", "the From header is malformed"),
    ("From: undisclosed-senders:;", "the From header holds no address"),
    ("From: alice@[192.0.2.10]", "the From address has no usable domain"),
])
def test_without_exactly_one_from_address_the_sender_fails(dns_server, resolver, headers, problem):
    dns_server.txt("fidu-lebrun.be", f"v=spf1 ip4:{FIDU_MAIL_SERVER} -all")
    raw = (headers + "\r\nTo: documents-7f3k@coffre.example\r\nSubject: x\r\n\r\nbody\r\n").encode()

    # Even from the domain's own mail server: nobody can say which address is the sender.
    verdict = authenticate(raw, mail_from="alice@fidu-lebrun.be", client_ip=FIDU_MAIL_SERVER,
                           helo="mx.fidu-lebrun.be", resolver=resolver)

    assert verdict.status == Status.FAIL
    assert (verdict.from_address, verdict.from_domain) == (None, None)
    assert verdict.details["code"] == "no-sender"
    assert verdict.details["from"]["problem"] == problem
    assert dns_server.queries == []  # decided without DNS
    logged(verdict)


# --- internationalised domains ----------------------------------------------------------------------


def test_idn_from_domain_is_checked_as_a_labels(dns_server, resolver, dkim_key):
    dkim_key.publish(dns_server, "xn--caf-dma.be", "s1")
    dns_server.txt("_dmarc.xn--caf-dma.be", "v=DMARC1; p=quarantine")
    dns_server.txt("xn--caf-dma.be", f"v=spf1 ip4:{FIDU_MAIL_SERVER} -all")
    raw = message("Élise Dupré <élise@Café.be>")

    signed = authenticate(dkim_key.sign(raw, "xn--caf-dma.be", "s1"), mail_from="", client_ip=ATTACKER,
                          helo="h.example", resolver=resolver)
    assert signed.status == Status.PASS
    assert (signed.from_address, signed.from_domain) == ("élise@xn--caf-dma.be", "xn--caf-dma.be")
    assert dns_server.asked("_dmarc.xn--caf-dma.be", "TXT")

    enveloped = authenticate(raw, mail_from="élise@café.be", client_ip=FIDU_MAIL_SERVER, helo="mx.café.be",
                             resolver=resolver)
    assert enveloped.status == Status.PASS
    assert enveloped.details["spf"]["domain"] == "xn--caf-dma.be"

    forged = authenticate(raw, mail_from="", client_ip=ATTACKER, helo="h.example", resolver=resolver)
    assert forged.status == Status.FAIL


# --- DNS trouble ------------------------------------------------------------------------------------


def test_a_nameserver_that_never_answers_gives_temperror(settings, dkim_key, silent_nameserver, clock):
    # The wall clock is frozen (as in the intake's tests): the resolver's deadlines must not use it.
    settings.COFFRE_DNS_NAMESERVERS = [silent_nameserver.nameserver]
    settings.COFFRE_DNS_TIMEOUT = 0.3
    signed = dkim_key.sign(message(), "fidu-lebrun.be", "s1")

    verdict = authenticate(signed, mail_from="alice@fidu-lebrun.be", client_ip=FIDU_MAIL_SERVER,
                           helo="mx.fidu-lebrun.be")

    assert verdict.status == Status.TEMPERROR
    assert verdict.details["code"] == "dns-temperror"
    assert verdict.details["spf"]["result"] == "temperror"
    assert verdict.details["dkim"][0]["result"] == "temperror"
    assert "fidu-lebrun.be TXT" in verdict.details["dns"]["unanswered"]


def test_an_unanswered_dmarc_lookup_does_not_undo_a_pass(dns_server, resolver):
    dns_server.txt("fidu-lebrun.be", f"v=spf1 ip4:{FIDU_MAIL_SERVER} -all")
    dns_server.drop("_dmarc.fidu-lebrun.be")

    verdict = authenticate(message(), mail_from="alice@fidu-lebrun.be", client_ip=FIDU_MAIL_SERVER,
                           helo="mx.fidu-lebrun.be", resolver=resolver)

    assert verdict.status == Status.PASS
    assert "error" in verdict.details["dmarc"]


def test_an_unanswered_dmarc_lookup_leaves_fail_or_none_undecided(dns_server, resolver):
    dns_server.drop("_dmarc.fidu-lebrun.be")

    undecided = authenticate(message(), mail_from="", client_ip=ATTACKER, helo="h.example", resolver=resolver)
    assert undecided.status == Status.TEMPERROR
    assert undecided.details["published"] == {"dmarc": None, "spf": False, "dkim_key": False}

    # With an SPF record of its own the domain publishes something anyway: fail.
    dns_server.txt("fidu-lebrun.be", f"v=spf1 ip4:{FIDU_MAIL_SERVER} -all")
    decided = authenticate(message(), mail_from="", client_ip=ATTACKER, helo="h.example", resolver=resolver)
    assert decided.status == Status.FAIL


def test_servfail_on_the_aligned_spf_domain_gives_temperror(dns_server, resolver):
    dns_server.fail("fidu-lebrun.be", "SERVFAIL")
    dns_server.txt("_dmarc.fidu-lebrun.be", "v=DMARC1; p=reject")

    verdict = authenticate(message(), mail_from="alice@fidu-lebrun.be", client_ip=FIDU_MAIL_SERVER,
                           helo="mx.fidu-lebrun.be", resolver=resolver)

    assert verdict.status == Status.TEMPERROR
    assert verdict.details["spf"]["result"] == "temperror" and verdict.details["spf"]["aligned"] is True


def test_an_unanswered_key_lookup_of_an_aligned_signature_gives_temperror(dns_server, resolver, dkim_key):
    dns_server.txt("_dmarc.fidu-lebrun.be", "v=DMARC1; p=reject")
    dns_server.drop("s1._domainkey.fidu-lebrun.be")
    signed = dkim_key.sign(message(), "fidu-lebrun.be", "s1")

    verdict = authenticate(signed, mail_from="", client_ip=ATTACKER, helo="h.example", resolver=resolver)

    assert verdict.status == Status.TEMPERROR
    assert verdict.details["dkim"][0]["result"] == "temperror"


# --- the resolver and the switch --------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore:please use dns.resolver.resolve:DeprecationWarning")
def test_no_lookup_escapes_to_another_resolver(dns_server, dkim_key, monkeypatch):
    """Every lookup reaches the configured server; dnspython's default resolver (which pyspf and
    dkimpy use by themselves) is pointed at a trap that must stay silent."""
    with DnsServer() as trap:
        trap_resolver = dns.resolver.Resolver(configure=False)
        trap_resolver.nameservers = [trap.host]
        trap_resolver.port = trap.port
        monkeypatch.setattr(dns.resolver, "default_resolver", trap_resolver)
        # The trap works: pyspf's own dnspython driver would have asked it.
        spf.DNSLookup_dnspython("probe.example", "TXT", True, 1)
        assert trap.asked("probe.example", "TXT")
        trap.queries.clear()

        dns_server.txt("fidu-lebrun.be",
                       "v=spf1 mx a:relay.fidu-lebrun.be include:_spf.mailer.example.net -all")
        dns_server.add("fidu-lebrun.be", "MX", "10 mx.fidu-lebrun.be.")
        dns_server.add("mx.fidu-lebrun.be", "A", "192.0.2.30")
        dns_server.add("relay.fidu-lebrun.be", "A", "192.0.2.31")
        dns_server.txt("_spf.mailer.example.net", f"v=spf1 ip4:{FIDU_MAIL_SERVER} -all")
        dkim_key.publish(dns_server, "fidu-lebrun.be", "s1")
        signed = dkim_key.sign(message(), "fidu-lebrun.be", "s1")

        verdict = authenticate(signed, mail_from="alice@fidu-lebrun.be", client_ip=FIDU_MAIL_SERVER,
                               helo="mx.fidu-lebrun.be")

        assert verdict.status == Status.PASS
        assert verdict.details["spf"]["result"] == "pass"
        for name, rdtype in [("fidu-lebrun.be", "TXT"), ("fidu-lebrun.be", "MX"), ("mx.fidu-lebrun.be", "A"),
                             ("relay.fidu-lebrun.be", "A"), ("_spf.mailer.example.net", "TXT"),
                             ("s1._domainkey.fidu-lebrun.be", "TXT"), ("_dmarc.fidu-lebrun.be", "TXT")]:
            assert dns_server.asked(name, rdtype), (name, rdtype)
        assert trap.queries == []
        # pyspf outside an authentication refuses to resolve rather than use its own resolver.
        with pytest.raises(spf.TempError):
            spf.DNSLookup("fidu-lebrun.be", "TXT", True, 1)
        assert trap.queries == []


def test_turned_off_every_sender_is_disabled_without_dns(dns_server, settings):
    dns_server.txt("fidu-lebrun.be", f"v=spf1 ip4:{FIDU_MAIL_SERVER} -all")
    settings.COFFRE_SENDER_AUTH = False

    verdict = authenticate(message(), mail_from="alice@fidu-lebrun.be", client_ip=FIDU_MAIL_SERVER,
                           helo="mx.fidu-lebrun.be")

    assert verdict.status == Status.DISABLED and not verdict.authenticated
    assert verdict.from_address == "alice@fidu-lebrun.be"
    assert verdict.reason == "sender authentication is turned off: the sender is unauthenticated"
    assert dns_server.queries == []
    assert logged(verdict)["status"] == "disabled"


def test_the_client_address_must_be_an_ip_address(resolver):
    with pytest.raises(ValueError):
        authenticate(message(), mail_from="", client_ip="mx.fidu-lebrun.be", helo="h", resolver=resolver)


def test_a_given_resolver_is_used_instead_of_the_settings(settings, silent_nameserver, resolver, dns_server):
    settings.COFFRE_DNS_NAMESERVERS = [silent_nameserver.nameserver]
    dns_server.txt("fidu-lebrun.be", f"v=spf1 ip4:{FIDU_MAIL_SERVER} -all")

    verdict = authenticate(message(), mail_from="alice@fidu-lebrun.be", client_ip=FIDU_MAIL_SERVER,
                           helo="mx.fidu-lebrun.be", resolver=resolver)

    assert verdict.status == Status.PASS
    assert isinstance(resolver, Resolver)
