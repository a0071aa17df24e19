"""People and roles: invitations (sent, accepted once, expired, withdrawn), role changes with
their audit records and security events, removal, handing over the principal role, leaving."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied

from coffre.accounts import permissions
from coffre.accounts import services_roles as roles
from coffre.accounts.models import Invitation, Membership, Role, SecurityEvent
from coffre.accounts.testing import authenticator_for, give_role, link_in, make_person, sign_in
from coffre.audit.models import AuditRecord
from coffre.audit.services import Actor

ACTOR = Actor.cli("test")


def people_url(world, cbe=None):
    return f"/accounts/e/{cbe or world.a.cbe}/people/"


def membership(world, person, enterprise=None):
    return Membership.objects.get(user=person, enterprise=enterprise or world.a)


def invite(client, world, deliver, email, role):
    with deliver():
        return client.post(people_url(world) + "invite/", {"email": email, "role": role})


# --- invitations ------------------------------------------------------------------------------------


def test_an_accountant_is_invited_by_e_mail_and_accepts_once(client, login, world, deliver, mailoutbox):
    alice = login("alice")
    response = invite(alice, world, deliver, "Fiona@Fidu.example", Role.ACCOUNTANT)
    assert response.status_code == 302 and response["Location"] == people_url(world)
    [mail] = mailoutbox
    assert mail.to == ["fiona@fidu.example"] and "Alpha SRL" in mail.subject
    # Nobody signs in with this address yet: the mail is in the enterprise's language (French).
    assert "consulter et télécharger les documents de l’entreprise. Cet accès est gratuit." in mail.body
    link = link_in(mail, "/accounts/invitations/")
    invitation = Invitation.objects.get()
    assert invitation.token_sha256 not in mail.body and link.split("/")[-2] not in str(
        Invitation.objects.values()
    )
    page = alice.get(people_url(world))
    assert [item["invitation"].email for item in page.context["invitations"]] == ["fiona@fidu.example"]

    # The invited person, not signed up yet, opens the link in another browser.
    client.logout()
    opened = client.get(link)
    assert opened["Location"] == "/accounts/invitations/accept/"
    page = client.get("/accounts/invitations/accept/", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    html = page.content.decode()
    assert "alice@alpha.example invites you to the e-Box of Alpha SRL as Accountant." in html
    assert "/accounts/signup/?next=/accounts/invitations/accept/&amp;email=fiona%40fidu.example" in html

    fiona = make_person("fiona@fidu.example")
    sign_in(client, fiona)
    accepted = client.post("/accounts/invitations/accept/")
    assert accepted["Location"] == f"/e/{world.a.cbe}/"
    assert membership(world, fiona).role == Role.ACCOUNTANT
    assert permissions.can(fiona, permissions.Action.DOWNLOAD, world.a)
    assert not permissions.can(fiona, permissions.Action.HIDE_MESSAGES, world.a)
    invitation.refresh_from_db()
    assert invitation.accepted_by == fiona and invitation.accepted_at is not None
    event = SecurityEvent.objects.get(details__change="invitation_accepted")
    assert event.enterprise == world.a and event.details["to"] == "accountant"
    assert AuditRecord.objects.filter(
        action="enterprise.invitation_accepted", details__person=fiona.email
    ).exists()

    # The link works once.
    client.get(link)
    again = client.get("/accounts/invitations/accept/")
    assert again.status_code == 410 and "already been used" in again.content.decode()
    with pytest.raises(roles.RoleChangeRefused):
        roles.accept_invitation(link.split("/")[-2], fiona, actor=ACTOR)


def test_an_invitation_expires_after_seven_days(world, clock):
    issued = roles.invite(
        world.a, world.alice, "late@example.be", Role.MEMBER, actor=ACTOR, base_url="http://x"
    )
    late = make_person("late@example.be")
    clock.shift(timedelta(days=7))
    with pytest.raises(roles.RoleChangeRefused, match="expired"):
        roles.accept_invitation(issued.link.split("/")[-2], late, actor=ACTOR)
    assert not Membership.objects.filter(user=late).exists()


def test_an_expired_invitation_page_says_so(client, world, clock, fast_hashing):
    issued = roles.invite(
        world.a, world.alice, "late@example.be", Role.MEMBER, actor=ACTOR, base_url="http://x"
    )
    clock.shift(timedelta(days=8))
    client.get(issued.link.removeprefix("http://x"))
    response = client.get("/accounts/invitations/accept/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 410 and "expired" in response.content.decode()


def test_a_withdrawn_invitation_cannot_be_accepted(login, world, deliver, mailoutbox):
    alice = login("alice")
    invite(alice, world, deliver, "gone@example.be", Role.MEMBER)
    invitation = Invitation.objects.get()
    response = alice.post(f"/accounts/e/{world.a.cbe}/invitations/{invitation.pk}/revoke/")
    assert response.status_code == 302
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None
    assert alice.get(people_url(world)).context["invitations"] == []
    gone = make_person("gone@example.be")
    with pytest.raises(roles.RoleChangeRefused, match="withdrawn"):
        roles.accept_invitation(link_in(mailoutbox[0], "/invitations/").split("/")[-2], gone, actor=ACTOR)
    assert SecurityEvent.objects.filter(details__change="invitation_revoked").exists()


def test_a_new_invitation_to_the_same_address_replaces_the_pending_one(world):
    first = roles.invite(world.a, world.alice, "twice@example.be", Role.MEMBER, actor=ACTOR, base_url="")
    roles.invite(world.a, world.alice, "twice@example.be", Role.ACCOUNTANT, actor=ACTOR, base_url="")
    first.invitation.refresh_from_db()
    assert first.invitation.revoked_at is not None


def test_an_invitation_is_for_the_address_it_was_sent_to(world):
    issued = roles.invite(world.a, world.alice, "right@example.be", Role.MEMBER, actor=ACTOR, base_url="")
    with pytest.raises(roles.RoleChangeRefused, match="another e-mail address"):
        roles.accept_invitation(issued.link.split("/")[-2], world.charlie, actor=ACTOR)
    assert not Membership.objects.filter(user=world.charlie, enterprise=world.a).exists()


def test_an_invitation_dies_with_the_inviters_right_to_grant_it(world):
    eve = make_person("eve@alpha.example")
    give_role(world.a, eve, Role.MANAGER)
    issued = roles.invite(world.a, eve, "new@example.be", Role.MEMBER, actor=ACTOR, base_url="")
    Membership.objects.filter(user=eve).update(role=Role.MEMBER)
    with pytest.raises(roles.RoleChangeRefused, match="no longer valid"):
        roles.accept_invitation(issued.link.split("/")[-2], make_person("new@example.be"), actor=ACTOR)


def test_someone_who_already_has_a_role_is_not_invited(login, world, deliver, mailoutbox):
    response = invite(login("alice"), world, deliver, "BOB@alpha.example", Role.ACCOUNTANT)
    assert response.status_code == 400
    assert "already has a role" in response.content.decode()
    assert mailoutbox == [] and not Invitation.objects.exists()


def test_an_unknown_invitation_link_is_not_found(client, db):
    client.get("/accounts/invitations/not-a-real-token/")
    assert client.get("/accounts/invitations/accept/").status_code == 404


@pytest.mark.parametrize(
    "inviter_role, role, allowed",
    [
        (Role.CO_MANAGER, Role.MEMBER, True),
        (Role.CO_MANAGER, Role.ACCOUNTANT, True),
        (Role.CO_MANAGER, Role.MANAGER, False),
        (Role.MANAGER, Role.CO_MANAGER, False),
        (Role.CO_PRINCIPAL, Role.MANAGER, True),
        (Role.CO_PRINCIPAL, Role.CO_PRINCIPAL, False),
        (Role.PRINCIPAL, Role.CO_PRINCIPAL, True),
        (Role.PRINCIPAL, Role.PRINCIPAL, False),
    ],
)
def test_who_may_invite_whom_follows_the_matrix(client, world, deliver, inviter_role, role, allowed):
    inviter = make_person("inviter@alpha.example")
    if inviter_role == Role.PRINCIPAL:
        Membership.objects.filter(user=world.alice).update(role=Role.CO_PRINCIPAL)
    give_role(world.a, inviter, inviter_role)
    sign_in(client, inviter, authenticator_for(inviter))
    response = invite(client, world, deliver, "new@example.be", role)
    assert Invitation.objects.filter(role=role).exists() is allowed
    assert response.status_code == (302 if allowed else 400)  # a role not offered is a form error
    if not allowed:
        with pytest.raises(PermissionDenied):
            roles.invite(world.a, inviter, "new@example.be", role, actor=ACTOR, base_url="")


def test_the_invite_form_offers_only_the_roles_one_may_grant(login, world):
    eve = make_person("eve@alpha.example")
    give_role(world.a, eve, Role.MANAGER)
    client = login("anonymous")
    sign_in(client, eve, authenticator_for(eve))
    form = client.get(people_url(world)).context["invite_form"]
    assert [value for value, _ in form.fields["role"].choices] == [Role.MEMBER, Role.ACCOUNTANT]
    form = login("alice").get(people_url(world)).context["invite_form"]
    assert [value for value, _ in form.fields["role"].choices] == [
        Role.CO_PRINCIPAL,
        Role.MANAGER,
        Role.CO_MANAGER,
        Role.MEMBER,
        Role.ACCOUNTANT,
    ]


# --- changing roles -----------------------------------------------------------------------------------


def test_changing_a_role_is_audited_and_logged(login, world):
    client = login("alice")
    bob = membership(world, world.bob)
    response = client.post(f"{people_url(world)}{bob.pk}/role/", {f"m{bob.pk}-role": Role.MANAGER})
    assert response.status_code == 302
    bob.refresh_from_db()
    assert bob.role == Role.MANAGER and bob.granted_by == world.alice
    event = SecurityEvent.objects.get(kind="role_changed", details__change="changed")
    assert event.enterprise == world.a and event.user == world.alice and event.ip_address == "127.0.0.1"
    assert event.details == {
        "change": "changed",
        "person": "bob@alpha.example",
        "from": "member",
        "to": "manager",
    }
    record = AuditRecord.objects.get(action="enterprise.role_changed")
    assert record.actor == "alice@alpha.example" and record.actor_kind == "web"
    assert record.details == {
        "cbe": world.a.cbe,
        "person": "bob@alpha.example",
        "from": "member",
        "to": "manager",
    }
    log = client.get(f"/accounts/e/{world.a.cbe}/security/").content.decode()
    assert "The role of bob@alpha.example changed from Member to Access manager." in log


def test_a_manager_cannot_touch_another_manager(world):
    eve = make_person("eve@alpha.example")
    frank = make_person("frank@alpha.example")
    give_role(world.a, eve, Role.MANAGER)
    frank_role = give_role(world.a, frank, Role.CO_MANAGER)
    with pytest.raises(PermissionDenied):
        roles.change_role(world.a, eve, frank_role.pk, Role.MEMBER, actor=ACTOR)
    with pytest.raises(PermissionDenied):
        roles.remove_person(world.a, eve, frank_role.pk, actor=ACTOR)
    with pytest.raises(PermissionDenied):
        roles.change_role(world.a, eve, membership(world, world.bob).pk, Role.MANAGER, actor=ACTOR)
    roles.change_role(world.a, eve, membership(world, world.bob).pk, Role.ACCOUNTANT, actor=ACTOR)
    assert membership(world, world.bob).role == Role.ACCOUNTANT


def test_nobody_changes_their_own_role_nor_the_principals(world):
    eve = make_person("eve@alpha.example")
    eve_role = give_role(world.a, eve, Role.CO_PRINCIPAL)
    with pytest.raises(roles.RoleChangeRefused, match="own role"):
        roles.change_role(world.a, eve, eve_role.pk, Role.MEMBER, actor=ACTOR)
    with pytest.raises(roles.RoleChangeRefused, match="handing it over"):
        roles.change_role(world.a, eve, membership(world, world.alice).pk, Role.MEMBER, actor=ACTOR)
    with pytest.raises(roles.RoleChangeRefused, match="handing it over"):
        roles.remove_person(world.a, eve, membership(world, world.alice).pk, actor=ACTOR)
    with pytest.raises(roles.RoleChangeRefused, match="handed over"):
        roles.change_role(world.a, world.alice, eve_role.pk, Role.PRINCIPAL, actor=ACTOR)
    assert membership(world, world.alice).role == Role.PRINCIPAL


def test_a_refused_change_is_told_on_the_people_page(login, world):
    client = login("alice")
    own = membership(world, world.alice)
    response = client.post(
        f"{people_url(world)}{own.pk}/role/", {f"m{own.pk}-role": Role.MEMBER}, follow=True
    )
    assert "You cannot change your own role" in response.content.decode()
    assert membership(world, world.alice).role == Role.PRINCIPAL


def test_removing_a_person_ends_their_access(login, world):
    client = login("alice")
    bob = membership(world, world.bob)
    assert (
        "bob@alpha.example (Member) will no longer have access"
        in client.get(f"{people_url(world)}{bob.pk}/remove/").content.decode()
    )
    assert client.post(f"{people_url(world)}{bob.pk}/remove/").status_code == 302
    assert not Membership.objects.filter(pk=bob.pk).exists()
    assert SecurityEvent.objects.filter(
        details__change="removed", details__person="bob@alpha.example"
    ).exists()
    assert AuditRecord.objects.filter(action="enterprise.person_removed").exists()
    sign_in(client, world.bob)
    assert client.get(f"/e/{world.a.cbe}/").status_code == 404


def test_an_id_of_another_enterprise_in_the_url_is_not_found(login, world):
    client = login("alice")
    charlie = membership(world, world.charlie, world.b)
    assert (
        client.post(
            f"{people_url(world)}{charlie.pk}/role/", {f"m{charlie.pk}-role": Role.ACCOUNTANT}
        ).status_code
        == 404
    )
    assert client.post(f"{people_url(world)}{charlie.pk}/remove/").status_code == 404
    assert client.get(f"{people_url(world)}{charlie.pk}/remove/").status_code == 404
    invitation = roles.invite(
        world.b, world.dora, "x@example.be", Role.MEMBER, actor=ACTOR, base_url=""
    ).invitation
    assert client.post(f"/accounts/e/{world.a.cbe}/invitations/{invitation.pk}/revoke/").status_code == 404
    assert membership(world, world.charlie, world.b).role == Role.MEMBER
    invitation.refresh_from_db()
    assert invitation.revoked_at is None


# --- the principal role, leaving -----------------------------------------------------------------------


def test_the_principal_hands_the_role_over_and_becomes_co_principal(login, world):
    client = login("alice")
    page = client.get(f"{people_url(world)}hand-over/")
    choices = [label for _, label in page.context["form"].fields["successor"].choices]
    assert choices == ["Bob (bob@alpha.example)"]  # the accountant, external, is not offered
    bob = membership(world, world.bob)
    response = client.post(f"{people_url(world)}hand-over/", {"successor": bob.pk})
    assert response.status_code == 302
    assert membership(world, world.bob).role == Role.PRINCIPAL
    assert membership(world, world.alice).role == Role.CO_PRINCIPAL
    world.a.refresh_from_db()
    assert world.a.client_admin_id in (None, world.bob.pk)
    changes = sorted(
        SecurityEvent.objects.filter(kind="role_changed").values_list("details__change", flat=True)
    )
    assert changes == ["changed", "principal_handed_over"]
    assert AuditRecord.objects.filter(
        action="enterprise.principal_handed_over", details__to="bob@alpha.example"
    ).exists()


def test_only_the_principal_hands_over_and_never_to_an_accountant(world):
    accountant = membership(world, world.accountant)
    with pytest.raises(roles.RoleChangeRefused):
        roles.hand_over_principal(world.a, world.alice, accountant.pk, actor=ACTOR)
    eve = make_person("eve@alpha.example")
    give_role(world.a, eve, Role.CO_PRINCIPAL)
    with pytest.raises(PermissionDenied):
        roles.hand_over_principal(world.a, eve, membership(world, world.bob).pk, actor=ACTOR)
    assert membership(world, world.alice).role == Role.PRINCIPAL


def test_the_last_principal_cannot_leave(login, world):
    client = login("alice")
    assert client.post(f"/accounts/e/{world.a.cbe}/leave/").status_code == 403
    with pytest.raises(roles.RoleChangeRefused, match="hand the role over"):
        roles.leave(world.a, world.alice, actor=ACTOR)
    assert membership(world, world.alice).role == Role.PRINCIPAL
    assert Membership.objects.filter(enterprise=world.a, role=Role.PRINCIPAL).count() == 1


def test_a_member_leaves(login, world):
    client = login("bob")
    assert client.get(f"/accounts/e/{world.a.cbe}/leave/").status_code == 200
    response = client.post(f"/accounts/e/{world.a.cbe}/leave/")
    assert response["Location"] == "/accounts/settings/"
    assert not Membership.objects.filter(user=world.bob, enterprise=world.a).exists()
    event = SecurityEvent.objects.get(details__change="left")
    assert event.user == world.bob and event.details["from"] == "member"
    assert client.get(f"/e/{world.a.cbe}/").status_code == 404


def test_a_client_admin_who_leaves_is_replaced_by_the_principal(world):
    world.a.client_admin = world.bob
    world.a.save()
    roles.leave(world.a, world.bob, actor=ACTOR)
    world.a.refresh_from_db()
    assert world.a.client_admin == world.alice


def test_the_operator_gives_roles_idempotently_and_keeps_one_principal(world):
    first = roles.set_role_by_operator(world.a, world.charlie, Role.MEMBER, actor=ACTOR)
    again = roles.set_role_by_operator(world.a, world.charlie, Role.MEMBER, actor=ACTOR)
    assert first.pk == again.pk
    assert SecurityEvent.objects.filter(details__change="set_by_operator").count() == 1
    with pytest.raises(roles.RoleChangeRefused):
        roles.set_role_by_operator(world.a, world.charlie, Role.PRINCIPAL, actor=ACTOR)
