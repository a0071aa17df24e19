"""Linking a person to a business account, rule by rule (seed 003)."""

import json
import re
from datetime import timedelta

import pytest

from coffre.accounts import services_linking
from coffre.accounts.models import AccountLink, Membership, Role, SecurityEvent
from coffre.accounts.services_linking import LinkRefused, RemovalLinkExpired
from coffre.accounts.tests.portal_people import ACTOR, person, world_fixture  # noqa: F401
from coffre.audit.models import AuditRecord
from coffre.audit.services import token_hash

BASE = "https://coffre.example.be/"


def link(person, client_number="100200", postal_code="1000", contract_number="C-1"):
    return services_linking.link_account(
        person,
        client_number=client_number,
        postal_code=postal_code,
        contract_number=contract_number,
        actor=ACTOR,
        base_url=BASE,
        ip_address="192.0.2.7",
    )


def token_in(mail) -> str:
    match = re.search(r"/accounts/link-removal/([A-Za-z0-9_-]+)/", mail.body)
    assert match, mail.body
    return match.group(1)


def test_commercial_account_tells_primary_and_billing_contacts(
    world, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        outcome = link(world.dave)
    assert outcome.created and outcome.membership_created
    assert sorted(mail.to[0] for mail in mailoutbox) == ["bill@a.example", "prim@a.example"]
    assert all(len(mail.to) == 1 for mail in mailoutbox)  # contacts do not see each other's address
    mail = mailoutbox[0]
    assert "dave@example.be" in mail.body and "100200" in mail.body and "Alpha SRL" in mail.body
    assert mail.body.count(BASE.rstrip("/") + "/accounts/link-removal/") == 1
    assert "100200" in mail.subject


def test_each_contact_reads_the_notice_in_their_language(
    world, mailoutbox, django_capture_on_commit_callbacks
):
    person("bill@a.example", "Bill", language="de")  # the billing contact signs in to Coffre
    with django_capture_on_commit_callbacks(execute=True):
        link(world.dave)
    subjects = {mail.to[0]: mail.subject for mail in mailoutbox}
    assert subjects == {
        "bill@a.example": "Eine Person wurde mit Ihrem Firmenkonto 100200 verknüpft",
        # nobody signs in with this address: the language of the enterprise (Alpha SRL: French)
        "prim@a.example": "Une personne a été liée à votre compte d’entreprise 100200",
    }


def test_small_business_account_tells_only_primary_contacts(
    world, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        link(world.dave, "300400", "4000", "")
    assert [mail.to for mail in mailoutbox] == [["small-prim@a.example"]]


def test_a_contact_who_is_primary_and_billing_gets_one_mail(
    world, mailoutbox, django_capture_on_commit_callbacks
):
    services_linking.set_contact(world.commercial, "Prim@A.example", kind="billing", name=None, actor=ACTOR)
    with django_capture_on_commit_callbacks(execute=True):
        link(world.dave)
    assert sorted(mail.to[0] for mail in mailoutbox) == ["bill@a.example", "prim@a.example"]


def test_the_link_makes_a_member_and_is_logged(world):
    outcome = link(world.dave)
    membership = Membership.objects.get(user=world.dave, enterprise=world.a)
    assert membership.role == Role.MEMBER
    assert outcome.link.membership == membership
    event = SecurityEvent.objects.get(kind="account_linked")
    assert (event.enterprise, event.user, event.ip_address) == (world.a, world.dave, "192.0.2.7")
    audit = AuditRecord.objects.get(action="account_link.create")
    assert audit.details["notified"] == ["prim@a.example", "bill@a.example"]
    assert audit.details["membership_created"] is True


def test_only_the_sha256_of_the_removal_token_is_kept(world, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        outcome = link(world.dave)
    token = token_in(mailoutbox[0])
    stored = AccountLink.objects.get(pk=outcome.link.pk)
    assert stored.removal_token_sha256 == token_hash(token)
    everything = json.dumps(list(AuditRecord.objects.values()), default=str) + json.dumps(
        list(SecurityEvent.objects.values("details")), default=str
    )
    assert token not in everything


def test_a_person_with_a_role_keeps_it_and_gets_no_membership(world):
    outcome = link(world.alice)
    assert outcome.created and not outcome.membership_created
    assert Membership.objects.get(user=world.alice, enterprise=world.a).role == Role.MANAGER
    services_linking.unlink_own(world.alice, outcome.link.pk, actor=ACTOR)
    assert Membership.objects.get(user=world.alice, enterprise=world.a).role == Role.MANAGER


def test_linking_twice_changes_nothing_and_sends_nothing(
    world, mailoutbox, django_capture_on_commit_callbacks
):
    first = link(world.dave)
    with django_capture_on_commit_callbacks(execute=True):
        again = link(world.dave, contract_number="C-2")
    assert not again.created and again.link == first.link
    assert mailoutbox == []
    assert AccountLink.objects.count() == 1


@pytest.mark.parametrize(
    "values",
    [
        {"client_number": "100201"},  # no such account
        {"postal_code": "1001"},  # wrong postal code
        {"contract_number": ""},  # the account has contracts: one is required
        {"contract_number": "C-3"},  # not one of its contracts
    ],
    ids=["client number", "postal code", "contract missing", "contract unknown"],
)
def test_any_wrong_value_gives_the_same_refusal_without_the_values(world, values):
    submitted = {"client_number": "100200", "postal_code": "1000", "contract_number": "C-1", **values}
    with pytest.raises(LinkRefused) as refusal:
        link(world.dave, **submitted)
    assert refusal.value.reason == "no_match"
    assert not AccountLink.objects.exists()
    assert not Membership.objects.filter(user=world.dave).exists()
    event = SecurityEvent.objects.get(kind="account_link_refused")
    assert event.details == {"reason": "no_match"}
    assert event.user == world.dave
    recorded = json.dumps(event.details) + json.dumps(
        AuditRecord.objects.get(action="account_link.refused").details
    )
    wrong = next(iter(values.values()))
    if wrong:
        assert wrong not in recorded


def test_a_refusal_on_a_known_account_is_in_its_enterprise_security_log(world):
    with pytest.raises(LinkRefused):
        link(world.dave, postal_code="9999")
    with pytest.raises(LinkRefused):
        link(world.dave, client_number="999999")
    assert [event.enterprise for event in SecurityEvent.objects.order_by("pk")] == [world.a, None]


def test_values_compare_without_spaces_and_case(world):
    services_linking.add_contract(world.commercial, "ab-7", actor=ACTOR)
    assert link(world.dave, client_number=" 100 200 ", postal_code="10 00", contract_number="Ab-7 ").created


def test_an_account_without_contracts_ignores_the_contract_field(world):
    assert link(world.dave, "300400", "4000", "anything").created


def test_an_inactive_enterprise_cannot_be_linked(world):
    world.a.active = False
    world.a.save()
    with pytest.raises(LinkRefused):
        link(world.dave)


def test_failures_are_limited_per_person(world, clock):
    limit, window = services_linking.PERSON_FAILURES
    for _ in range(limit):
        with pytest.raises(LinkRefused) as refusal:
            link(world.dave, postal_code="9999")
        assert refusal.value.reason == "no_match"
    with pytest.raises(LinkRefused) as refusal:
        link(world.dave)  # even the right values
    assert refusal.value.reason == "rate_limited"
    assert (
        SecurityEvent.objects.filter(kind="account_link_refused", details__reason="rate_limited").count() == 1
    )
    assert link(world.charlie).created  # another person is not held back
    clock.shift(window)
    assert link(world.dave).created


def test_failures_are_limited_per_account(world, clock):
    limit, window = services_linking.ACCOUNT_FAILURES
    guessers = [world.bob, world.charlie, world.felix, world.olga, world.fanny, world.bert]
    for attempt in range(limit):
        with pytest.raises(LinkRefused):
            link(guessers[attempt % len(guessers)], postal_code=f"9{attempt:03d}")
    with pytest.raises(LinkRefused) as refusal:
        link(world.dave)
    assert refusal.value.reason == "rate_limited"
    assert link(world.dave, "300400", "4000").created  # another account is not held back
    clock.shift(window)
    assert link(world.dave).created


def test_success_does_not_count_as_a_failure(world):
    limit, _ = services_linking.PERSON_FAILURES
    for _ in range(limit - 1):
        with pytest.raises(LinkRefused):
            link(world.dave, postal_code="9999")
    assert link(world.dave).created
    assert link(world.dave, "300400", "4000").created


def test_the_removal_link_works_for_30_days(world, clock, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        outcome = link(world.dave)
    token = token_in(mailoutbox[0])
    assert outcome.link.removal_expires_at == clock.now() + timedelta(days=30)
    clock.shift(timedelta(days=30) - timedelta(seconds=1))
    removed = services_linking.remove_link_by_token(token, actor=ACTOR)
    assert removed.pk == outcome.link.pk
    assert AccountLink.objects.get(pk=outcome.link.pk).removed_at == clock.now()


def test_the_removal_link_expires_after_30_days(world, clock, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        outcome = link(world.dave)
    token = token_in(mailoutbox[0])
    clock.shift(timedelta(days=30))
    with pytest.raises(RemovalLinkExpired):
        services_linking.remove_link_by_token(token, actor=ACTOR)
    assert AccountLink.objects.get(pk=outcome.link.pk).removed_at is None
    assert Membership.objects.filter(user=world.dave, enterprise=world.a).exists()


def test_the_removal_link_works_once(world, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        link(world.dave)
    token = token_in(mailoutbox[0])
    services_linking.remove_link_by_token(token, actor=ACTOR)
    with pytest.raises(RemovalLinkExpired):
        services_linking.remove_link_by_token(token, actor=ACTOR)
    assert SecurityEvent.objects.filter(kind="account_link_removed").count() == 1


def test_removal_takes_the_membership_the_link_made_and_is_logged(
    world, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        link(world.dave)
    services_linking.remove_link_by_token(token_in(mailoutbox[0]), actor=ACTOR, ip_address="192.0.2.9")
    assert not Membership.objects.filter(user=world.dave, enterprise=world.a).exists()
    event = SecurityEvent.objects.get(kind="account_link_removed")
    assert (event.enterprise, event.user, event.ip_address) == (world.a, world.dave, "192.0.2.9")
    assert event.details["membership_removed"] is True and event.details["by"] == "removal link"
    assert AuditRecord.objects.get(action="account_link.remove").details["user"] == "dave@example.be"


def test_removal_keeps_a_role_granted_since(world, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        link(world.dave)
    Membership.objects.filter(user=world.dave, enterprise=world.a).update(role=Role.CO_MANAGER)
    services_linking.remove_link_by_token(token_in(mailoutbox[0]), actor=ACTOR)
    assert Membership.objects.get(user=world.dave, enterprise=world.a).role == Role.CO_MANAGER


def test_a_removed_person_can_link_again_and_the_contacts_get_a_new_mail(
    world, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = link(world.dave)
    first_token = token_in(mailoutbox[0])
    services_linking.remove_link_by_token(first_token, actor=ACTOR)
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        second = link(world.dave)
    assert second.created and second.link.pk != first.link.pk
    assert Membership.objects.get(user=world.dave, enterprise=world.a).role == Role.MEMBER
    assert len(mailoutbox) == 2
    second_token = token_in(mailoutbox[0])
    assert second_token != first_token
    with pytest.raises(RemovalLinkExpired):  # the old mail stays dead
        services_linking.remove_link_by_token(first_token, actor=ACTOR)
    services_linking.remove_link_by_token(second_token, actor=ACTOR)


def test_the_person_may_remove_their_own_link_only(world):
    outcome = link(world.dave)
    with pytest.raises(AccountLink.DoesNotExist):
        services_linking.unlink_own(world.charlie, outcome.link.pk, actor=ACTOR)
    services_linking.unlink_own(world.dave, outcome.link.pk, actor=ACTOR)
    assert not Membership.objects.filter(user=world.dave, enterprise=world.a).exists()
    assert SecurityEvent.objects.get(kind="account_link_removed").details["by"] == "the person"


def test_a_report_alerts_the_principal_and_co_principal_managers(
    world, mailoutbox, django_capture_on_commit_callbacks
):
    outcome = link(world.dave)
    with django_capture_on_commit_callbacks(execute=True):
        alerted = services_linking.report_suspicious_activity(
            outcome.link, reported_by="contact", actor=ACTOR
        )
    assert sorted(alerted) == ["cora@example.be", "paula@example.be"]
    assert sorted(mail.to[0] for mail in mailoutbox) == ["cora@example.be", "paula@example.be"]
    by_person = {mail.to[0]: mail for mail in mailoutbox}
    # Each in their own language: paula reads French, cora Dutch; the msgid is English until the
    # translation pass, so both bodies name the linked person and the account.
    assert (
        "dave@example.be" in by_person["paula@example.be"].body
        and "100200" in by_person["cora@example.be"].body
    )
    event = SecurityEvent.objects.get(kind="suspicious_activity")
    assert event.enterprise == world.a
    assert event.details["reported_by"] == "contact" and event.details["linked_person"] == "dave@example.be"


def test_reports_are_limited_per_link(world, mailoutbox, django_capture_on_commit_callbacks):
    outcome = link(world.dave)
    limit, _ = services_linking.REPORTS_PER_LINK
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(limit):
            services_linking.report_suspicious_activity(outcome.link, reported_by="contact", actor=ACTOR)
        with pytest.raises(services_linking.TooManyReports):
            services_linking.report_suspicious_activity(
                outcome.link, reported_by="linked person", actor=ACTOR
            )
    assert len(mailoutbox) == 2 * limit
    assert SecurityEvent.objects.filter(kind="suspicious_activity").count() == limit


def test_set_up_is_idempotent_and_refuses_to_move_an_account(world):
    again = services_linking.set_up_account(
        "100200", enterprise=world.a, postal_code="1000", kind=None, actor=ACTOR
    )
    assert not again.created and not again.changed
    assert services_linking.add_contract(world.commercial, "c-1", actor=ACTOR).created is False
    assert (
        services_linking.set_contact(
            world.commercial, "PRIM@a.example", kind="primary", name=None, actor=ACTOR
        ).changed
        is False
    )
    with pytest.raises(ValueError):
        services_linking.set_up_account(
            "100200", enterprise=world.b, postal_code="1000", kind=None, actor=ACTOR
        )


def test_the_mail_says_whether_the_link_made_a_member(world, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        link(world.dave)
        link(world.alice)
    dave_mail, alice_mail = mailoutbox[0], mailoutbox[2]
    # The contacts sign in with no account: the mails are in the enterprise's language, French.
    assert "dave@example.be" in dave_mail.body and "est ainsi devenue membre" in dave_mail.body
    assert "alice@example.be" in alice_mail.body and "avait déjà un rôle" in alice_mail.body
