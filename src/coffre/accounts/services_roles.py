"""Enterprises registered by people, and the roles people hold in them: invitations, role
changes, removals, handing over the principal role, leaving.

Rules (with ``permissions.ROLE_ACTIONS``, which names the action each role needs):
- a person who registers an enterprise becomes its principal access manager; its e-Box exists at
  once, with that person's address as notification address (seed 000);
- an enterprise already registered is never taken over: its access managers invite people;
- the principal role is never granted nor taken away: it only changes hands
  (``hand_over_principal``; the former principal becomes co-principal). The principal cannot
  leave nor be removed, so no enterprise ever loses its last principal access manager;
- nobody changes or removes their own role (people leave instead);
- an invitation is for one address, single-use, expires, and can be revoked; the inviter must
  still be allowed to grant its role when it is accepted.

Each service locks the enterprise row first (changes of one enterprise's roles run one after the
other), checks the permission matrix itself (the views check it too), and writes its audit record
and a ``SecurityEvent("role_changed")`` in the same transaction.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from coffre.accounts import permissions
from coffre.accounts.models import Enterprise, Invitation, Membership, Role, User
from coffre.accounts.services import register_enterprise
from coffre.accounts.services_security import log_event
from coffre.audit.services import Actor, record
from coffre.core import ratelimit
from coffre.core.cbe import normalize_cbe
from coffre.core.mail import send_templated_mail

INVITATION_VALIDITY = timedelta(days=7)
INVITATIONS_PER_DAY = 50  # per enterprise
REGISTRATIONS_PER_DAY = 5  # per person
DAY = timedelta(days=1)


class RoleChangeRefused(Exception):
    """A change the rules forbid; ``message`` says why, in the reader's language."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


class AlreadyRegistered(Exception):
    """The enterprise exists: nothing about it is disclosed; its access managers can invite."""


class NotFound(Exception):
    """No such person or invitation in this enterprise (the view answers 404)."""


def _lock(enterprise: Enterprise) -> Enterprise:
    return Enterprise.objects.select_for_update().get(pk=enterprise.pk)


def _require(person: User, action: permissions.Action, enterprise: Enterprise) -> str:
    standing = permissions.standing(person, enterprise)
    if not permissions.allowed(standing, action):
        raise PermissionDenied(f"{standing} may not {action}")
    return standing


def _role_changed(enterprise, by: User | None, ip: str | None, change: str, person: str, **details) -> None:
    log_event(
        "role_changed",
        enterprise=enterprise,
        user=by,
        ip=ip,
        details={"change": change, "person": person, **details},
    )


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# --- registering an enterprise --------------------------------------------------------------------


def register_enterprise_for(
    person: User, cbe: str, name: str, *, language: str, actor: Actor, ip: str | None = None
) -> Enterprise:
    """Register an enterprise (and its e-Box) with ``person`` as principal access manager.

    Raises ``InvalidCBE`` for a wrong number, ``AlreadyRegistered`` when it exists, and
    ``RoleChangeRefused`` beyond ``REGISTRATIONS_PER_DAY``.
    """
    from coffre.mailbox.models import Ebox  # the e-Box is the mailbox app's; created just below

    cbe = normalize_cbe(cbe, lenient=True)
    if not person.is_active:
        raise RoleChangeRefused(_("Confirm your e-mail address before registering an enterprise."))
    if Enterprise.objects.filter(cbe=cbe).exists():
        raise AlreadyRegistered()
    if not ratelimit.hit(f"register:person:{person.pk}", REGISTRATIONS_PER_DAY, DAY).allowed:
        raise RoleChangeRefused(_("You registered several enterprises today. Try again tomorrow."))
    try:
        with transaction.atomic():
            registration = register_enterprise(cbe, name, actor, language=language)
            if not registration.created:
                raise AlreadyRegistered()
            enterprise = registration.enterprise
            Membership.objects.create(
                user=person, enterprise=enterprise, role=Role.PRINCIPAL, granted_by=person
            )
            enterprise.client_admin = person
            enterprise.save(update_fields=["client_admin"])
            # Seed 000: the address given at registration receives the e-Box's notifications
            # (confirmed when the person confirmed it; people created by the operator did not).
            verified = person.email_verified_at is not None
            Ebox.objects.filter(enterprise=enterprise).update(
                notification_email=person.email,
                notification_status="verified" if verified else "pending",
                notification_verified_at=timezone.now() if verified else None,
            )
            _role_changed(enterprise, person, ip, "registered", person.email, to=Role.PRINCIPAL)
            record(actor, "enterprise.principal", details={"cbe": cbe, "person": person.email})
    except IntegrityError:  # registered by someone else at the same moment
        raise AlreadyRegistered() from None
    return enterprise


# --- invitations ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedInvitation:
    invitation: Invitation
    link: str  # carries the token: e-mailed, never stored


def invite(
    enterprise: Enterprise,
    by: User,
    email: str,
    role: str,
    *,
    actor: Actor,
    base_url: str,
    ip: str | None = None,
) -> IssuedInvitation:
    """E-mail an invitation to take ``role``; a pending invitation to the same address is replaced."""
    email = email.strip().lower()
    with transaction.atomic():
        enterprise = _lock(enterprise)
        standing = _require(by, permissions.Action.MANAGE_MEMBERS, enterprise)
        if not permissions.may_assign(standing, role):
            raise PermissionDenied(f"{standing} may not grant {role}")
        if Membership.objects.filter(enterprise=enterprise, user__email__iexact=email).exists():
            raise RoleChangeRefused(_("This person already has a role in this enterprise."))
        if not ratelimit.hit(f"invite:enterprise:{enterprise.pk}", INVITATIONS_PER_DAY, DAY).allowed:
            raise RoleChangeRefused(_("Too many invitations were sent today. Try again tomorrow."))
        now = timezone.now()
        Invitation.objects.filter(
            enterprise=enterprise, email__iexact=email, accepted_at__isnull=True, revoked_at__isnull=True
        ).update(revoked_at=now)
        token = secrets.token_urlsafe(32)
        invitation = Invitation.objects.create(
            enterprise=enterprise,
            email=email,
            role=role,
            token_sha256=_hash(token),
            invited_by=by,
            created_at=now,
            expires_at=now + INVITATION_VALIDITY,
        )
        link = base_url + reverse("accounts:invitation", args=[token])
        invitee = User.objects.filter(email__iexact=email).first()
        send_templated_mail(
            [email],
            "accounts/mail/invitation",
            {
                "invitation": invitation,
                "enterprise": enterprise,
                "inviter": by,
                "link": link,
                "role": Role(role).label,
                "accountant": role == Role.ACCOUNTANT,
            },
            invitee.language if invitee is not None else enterprise.language,
        )
        _role_changed(enterprise, by, ip, "invited", email, to=role)
        record(actor, "enterprise.invite", details={"cbe": enterprise.cbe, "email": email, "role": role})
    return IssuedInvitation(invitation, link)


def revoke_invitation(enterprise: Enterprise, by: User, invitation_id: int, *, actor: Actor, ip=None) -> None:
    with transaction.atomic():
        enterprise = _lock(enterprise)
        standing = _require(by, permissions.Action.MANAGE_MEMBERS, enterprise)
        invitation = (
            Invitation.objects.select_for_update().filter(pk=invitation_id, enterprise=enterprise).first()
        )
        if invitation is None:
            raise NotFound()
        if not permissions.may_assign(standing, invitation.role):
            raise PermissionDenied(f"{standing} may not revoke an invitation as {invitation.role}")
        if invitation.accepted_at is not None or invitation.revoked_at is not None:
            raise RoleChangeRefused(_("This invitation is no longer pending."))
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])
        _role_changed(enterprise, by, ip, "invitation_revoked", invitation.email, to=invitation.role)
        record(
            actor,
            "enterprise.invitation_revoked",
            details={"cbe": enterprise.cbe, "email": invitation.email, "role": invitation.role},
        )


class InvitationState:
    PENDING = "pending"
    EXPIRED = "expired"
    USED = "used"
    REVOKED = "revoked"


def invitation_state(invitation: Invitation) -> str:
    if invitation.accepted_at is not None:
        return InvitationState.USED
    if invitation.revoked_at is not None:
        return InvitationState.REVOKED
    if invitation.expires_at <= timezone.now() or not invitation.enterprise.active:
        return InvitationState.EXPIRED
    return InvitationState.PENDING


def invitation_for_token(token: str) -> Invitation | None:
    return (
        Invitation.objects.select_related("enterprise", "invited_by")
        .filter(token_sha256=_hash(token))
        .first()
    )


REFUSALS = {
    InvitationState.USED: _("This invitation has already been used."),
    InvitationState.REVOKED: _("This invitation was withdrawn."),
    InvitationState.EXPIRED: _("This invitation has expired. Ask for a new one."),
}


def accept_invitation(token: str, person: User, *, actor: Actor, ip: str | None = None) -> Membership:
    """Grant the invitation's role to ``person`` (whose address it was sent to), once."""
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().filter(token_sha256=_hash(token)).first()
        if invitation is None:
            raise NotFound()
        enterprise = _lock(invitation.enterprise)
        state = invitation_state(invitation)
        if state != InvitationState.PENDING:
            raise RoleChangeRefused(REFUSALS[state])
        if invitation.email.lower() != person.email.lower():
            raise RoleChangeRefused(
                _(
                    "This invitation was sent to another e-mail address. Log in with that address to accept it."
                )
            )
        inviter = invitation.invited_by
        if inviter is None or not permissions.may_assign(
            permissions.standing(inviter, enterprise), invitation.role
        ):
            raise RoleChangeRefused(_("This invitation is no longer valid. Ask for a new one."))
        if Membership.objects.filter(enterprise=enterprise, user=person).exists():
            raise RoleChangeRefused(_("You already have a role in this enterprise."))
        membership = Membership.objects.create(
            user=person, enterprise=enterprise, role=invitation.role, granted_by=inviter
        )
        invitation.accepted_at = timezone.now()
        invitation.accepted_by = person
        invitation.save(update_fields=["accepted_at", "accepted_by"])
        _role_changed(
            enterprise,
            person,
            ip,
            "invitation_accepted",
            person.email,
            to=invitation.role,
            invited_by=inviter.email,
        )
        record(
            actor,
            "enterprise.invitation_accepted",
            details={"cbe": enterprise.cbe, "person": person.email, "role": invitation.role},
        )
    return membership


# --- roles ----------------------------------------------------------------------------------------


def _membership(enterprise: Enterprise, membership_id: int) -> Membership:
    membership = (
        Membership.objects.select_for_update()
        .select_related("user")
        .filter(pk=membership_id, enterprise=enterprise)
        .first()
    )
    if membership is None:
        raise NotFound()
    return membership


def _principal_guard(membership: Membership, by: User) -> None:
    if membership.user_id == by.pk:
        raise RoleChangeRefused(_("You cannot change your own role. You can leave the enterprise instead."))
    if membership.role == Role.PRINCIPAL:
        raise RoleChangeRefused(
            _("The principal access manager keeps the role until handing it over to someone else.")
        )


def _hand_client_admin_over(enterprise: Enterprise, leaving: User) -> None:
    """The client admin (seed 002) who loses their role is replaced by the principal."""
    if enterprise.client_admin_id == leaving.pk:
        principal = Membership.objects.filter(enterprise=enterprise, role=Role.PRINCIPAL).first()
        enterprise.client_admin_id = (
            principal.user_id if principal and principal.user_id != leaving.pk else None
        )
        enterprise.save(update_fields=["client_admin"])


def change_role(
    enterprise: Enterprise, by: User, membership_id: int, role: str, *, actor: Actor, ip: str | None = None
) -> Membership:
    with transaction.atomic():
        enterprise = _lock(enterprise)
        standing = _require(by, permissions.Action.MANAGE_MEMBERS, enterprise)
        membership = _membership(enterprise, membership_id)
        _principal_guard(membership, by)
        if role == Role.PRINCIPAL:
            raise RoleChangeRefused(
                _("The principal access manager role can only be handed over by its holder.")
            )
        if not (permissions.may_assign(standing, membership.role) and permissions.may_assign(standing, role)):
            raise PermissionDenied(f"{standing} may not change {membership.role} into {role}")
        if membership.role == role:
            return membership
        former = membership.role
        membership.role = role
        membership.granted_by = by
        membership.save(update_fields=["role", "granted_by"])
        _role_changed(enterprise, by, ip, "changed", membership.user.email, **{"from": former, "to": role})
        record(
            actor,
            "enterprise.role_changed",
            details={"cbe": enterprise.cbe, "person": membership.user.email, "from": former, "to": role},
        )
    return membership


def remove_person(enterprise: Enterprise, by: User, membership_id: int, *, actor: Actor, ip=None) -> None:
    with transaction.atomic():
        enterprise = _lock(enterprise)
        standing = _require(by, permissions.Action.MANAGE_MEMBERS, enterprise)
        membership = _membership(enterprise, membership_id)
        _principal_guard(membership, by)
        if not permissions.may_assign(standing, membership.role):
            raise PermissionDenied(f"{standing} may not remove a {membership.role}")
        person, former = membership.user, membership.role
        membership.delete()
        _hand_client_admin_over(enterprise, person)
        _role_changed(enterprise, by, ip, "removed", person.email, **{"from": former})
        record(
            actor,
            "enterprise.person_removed",
            details={"cbe": enterprise.cbe, "person": person.email, "from": former},
        )


def hand_over_principal(
    enterprise: Enterprise, by: User, membership_id: int, *, actor: Actor, ip=None
) -> None:
    """The principal hands the role to a member or access manager and becomes co-principal."""
    with transaction.atomic():
        enterprise = _lock(enterprise)
        _require(by, permissions.Action.TRANSFER_PRINCIPAL, enterprise)
        successor = _membership(enterprise, membership_id)
        if successor.user_id == by.pk:
            raise RoleChangeRefused(_("You already are the principal access manager."))
        if successor.role not in permissions.INSIDERS:
            raise RoleChangeRefused(
                _(
                    "Only a member or an access manager of the enterprise can become its principal access manager."
                )
            )
        former = Membership.objects.select_for_update().get(enterprise=enterprise, user=by)
        successor_former_role = successor.role
        # One principal per enterprise (a database constraint): step down first.
        former.role = Role.CO_PRINCIPAL
        former.save(update_fields=["role"])
        successor.role = Role.PRINCIPAL
        successor.granted_by = by
        successor.save(update_fields=["role", "granted_by"])
        if enterprise.client_admin_id in (None, by.pk):
            enterprise.client_admin_id = successor.user_id
            enterprise.save(update_fields=["client_admin"])
        _role_changed(
            enterprise,
            by,
            ip,
            "principal_handed_over",
            successor.user.email,
            **{"from": successor_former_role, "to": Role.PRINCIPAL},
        )
        _role_changed(
            enterprise, by, ip, "changed", by.email, **{"from": Role.PRINCIPAL, "to": Role.CO_PRINCIPAL}
        )
        record(
            actor,
            "enterprise.principal_handed_over",
            details={"cbe": enterprise.cbe, "from": by.email, "to": successor.user.email},
        )


def leave(enterprise: Enterprise, person: User, *, actor: Actor, ip: str | None = None) -> None:
    """Give up one's role; the principal must hand the role over first."""
    with transaction.atomic():
        enterprise = _lock(enterprise)
        standing = permissions.standing(person, enterprise)
        if standing == Role.PRINCIPAL:
            raise RoleChangeRefused(
                _("As principal access manager, hand the role over to someone else before leaving.")
            )
        _require(person, permissions.Action.LEAVE, enterprise)
        membership = Membership.objects.select_for_update().filter(enterprise=enterprise, user=person).first()
        if membership is None:  # a firm's collaborator: the firm's portfolio decides, not this page
            raise RoleChangeRefused(_("Your access comes from your accounting firm's portfolio."))
        former = membership.role
        membership.delete()
        _hand_client_admin_over(enterprise, person)
        _role_changed(enterprise, person, ip, "left", person.email, **{"from": former})
        record(
            actor,
            "enterprise.person_left",
            details={"cbe": enterprise.cbe, "person": person.email, "from": former},
        )


def set_role_by_operator(enterprise: Enterprise, person: User, role: str, *, actor: Actor) -> Membership:
    """The operator's (and the demo's) way to give a role, idempotently; keeps one principal."""
    with transaction.atomic():
        enterprise = _lock(enterprise)
        membership = Membership.objects.select_for_update().filter(enterprise=enterprise, user=person).first()
        if membership is not None and membership.role == role:
            return membership
        if (
            role == Role.PRINCIPAL
            and Membership.objects.filter(enterprise=enterprise, role=Role.PRINCIPAL)
            .exclude(user=person)
            .exists()
        ):
            raise RoleChangeRefused(_("This enterprise already has a principal access manager."))
        if membership is not None and membership.role == Role.PRINCIPAL:
            raise RoleChangeRefused(
                _("The principal access manager keeps the role until handing it over to someone else.")
            )
        former = membership.role if membership is not None else None
        if membership is None:
            membership = Membership.objects.create(enterprise=enterprise, user=person, role=role)
        else:
            membership.role = role
            membership.save(update_fields=["role"])
        if role == Role.PRINCIPAL and enterprise.client_admin_id is None:
            enterprise.client_admin = person
            enterprise.save(update_fields=["client_admin"])
        _role_changed(enterprise, None, None, "set_by_operator", person.email, **{"from": former, "to": role})
        record(
            actor,
            "enterprise.role_set",
            details={"cbe": enterprise.cbe, "person": person.email, "from": former, "to": role},
        )
    return membership
