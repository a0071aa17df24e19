"""Accounting firms (seed 002): the firm and its collaborators, the client files of its portfolio
(an enterprise gives the firm access), each collaborator's favourites, the collaborators attached to
each client file, and an enterprise's client admin (who approves unknown senders of documents).

Every change is atomic with its audit record; mails leave once it has committed. Who may call what
is decided by the views (``permissions.require`` / ``require_firm``); the services check only the
invariants of the data (same firm, last admin, the client admin has a role in the enterprise).
"""

from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _

from coffre.accounts.models import (
    AccountingFirm,
    Assignment,
    ClientFile,
    Collaborator,
    Enterprise,
    Favourite,
    Membership,
    User,
)
from coffre.accounts.permissions import INSIDERS
from coffre.audit.services import Actor, record
from coffre.core.mail import send_templated_mail


class FirmError(ValueError):
    """A change that the data does not allow; the message is for the person (translated)."""


@dataclass(frozen=True)
class Change:
    obj: object
    created: bool
    changed: bool


def _firm_details(firm: AccountingFirm) -> dict:
    return {"firm": firm.pk, "firm_name": firm.name}


# --- the firm and its collaborators ---------------------------------------------------------------


def set_up_firm(name: str, *, actor: Actor, enterprise: Enterprise | None = None) -> Change:
    """Create the firm named ``name`` (case-insensitive), or set its enterprise (idempotent)."""
    name = " ".join(name.split())
    if not name:
        raise FirmError(_("An accounting firm needs a name."))
    with transaction.atomic():
        firms = list(AccountingFirm.objects.select_for_update().filter(name__iexact=name)[:2])
        if len(firms) > 1:
            raise FirmError(
                _("Several accounting firms are named %(name)s; use the firm's number.") % {"name": name}
            )
        if not firms:
            firm = AccountingFirm.objects.create(name=name, enterprise=enterprise)
            record(
                actor,
                "firm.create",
                details={**_firm_details(firm), "cbe": enterprise.cbe if enterprise else None},
            )
            return Change(firm, created=True, changed=True)
        firm = firms[0]
        if enterprise is not None and firm.enterprise_id != enterprise.pk:
            firm.enterprise = enterprise
            firm.save(update_fields=["enterprise"])
            record(actor, "firm.update", details={**_firm_details(firm), "cbe": enterprise.cbe})
            return Change(firm, created=False, changed=True)
        return Change(firm, created=False, changed=False)


def set_collaborator(
    firm: AccountingFirm, user: User, *, is_admin: bool | None, actor: Actor, notify: bool = False
) -> Change:
    """Make ``user`` a collaborator of the firm, or change their admin flag (idempotent).

    ``notify`` e-mails the person that they were added (the portal does; the CLI does not).
    """
    with transaction.atomic():
        AccountingFirm.objects.select_for_update().filter(pk=firm.pk).first()  # serialise admin changes
        collaborator = Collaborator.objects.filter(firm=firm, user=user).first()
        if collaborator is None:
            collaborator = Collaborator.objects.create(firm=firm, user=user, is_admin=bool(is_admin))
            record(
                actor,
                "firm.collaborator_add",
                details={**_firm_details(firm), "user": user.email, "is_admin": collaborator.is_admin},
            )
            if notify:
                send_templated_mail(
                    [user.email],
                    "accounts/mail/firms_collaborator_added",
                    {"firm_name": firm.name, "is_admin": collaborator.is_admin},
                    user.language,
                )
            return Change(collaborator, created=True, changed=True)
        if is_admin is None or collaborator.is_admin == is_admin:
            return Change(collaborator, created=False, changed=False)
        if not is_admin:
            _keep_an_admin(firm, collaborator)
        collaborator.is_admin = is_admin
        collaborator.save(update_fields=["is_admin"])
        record(
            actor,
            "firm.collaborator_update",
            details={**_firm_details(firm), "user": user.email, "is_admin": is_admin},
        )
        return Change(collaborator, created=False, changed=True)


def _keep_an_admin(firm: AccountingFirm, leaving: Collaborator) -> None:
    if leaving.is_admin and not firm.collaborators.filter(is_admin=True).exclude(pk=leaving.pk).exists():
        raise FirmError(_("An accounting firm keeps at least one administrator."))


def remove_collaborator(collaborator: Collaborator, *, actor: Actor) -> None:
    """Remove a collaborator (their favourites and attachments go with them); never the last admin."""
    firm = collaborator.firm
    with transaction.atomic():
        AccountingFirm.objects.select_for_update().filter(pk=firm.pk).first()
        _keep_an_admin(firm, collaborator)
        email = collaborator.user.email
        collaborator.delete()
        record(actor, "firm.collaborator_remove", details={**_firm_details(firm), "user": email})


# --- client files: an enterprise gives a firm access ----------------------------------------------


def grant_firm_access(
    enterprise: Enterprise, firm: AccountingFirm, *, granted_by: User | None, actor: Actor
) -> Change:
    """Put the enterprise in the firm's portfolio (idempotent) and tell the firm's admins."""
    with transaction.atomic():
        client_file, created = ClientFile.objects.get_or_create(
            firm=firm, enterprise=enterprise, defaults={"granted_by": granted_by}
        )
        if created:
            record(actor, "firm.access_grant", details={**_firm_details(firm), "cbe": enterprise.cbe})
            admins = User.objects.filter(
                collaborations__firm=firm, collaborations__is_admin=True, is_active=True
            )
            for admin in admins:
                send_templated_mail(
                    [admin.email],
                    "accounts/mail/firms_access_granted",
                    {"firm_name": firm.name, "enterprise_name": enterprise.name, "cbe": enterprise.cbe},
                    admin.language,
                )
        return Change(client_file, created=created, changed=created)


def revoke_firm_access(client_file: ClientFile, *, actor: Actor) -> None:
    """Take the enterprise out of the firm's portfolio (favourites and attachments go with it)."""
    with transaction.atomic():
        details = {**_firm_details(client_file.firm), "cbe": client_file.enterprise.cbe}
        client_file.delete()
        record(actor, "firm.access_revoke", details=details)


# --- favourites and attachments -------------------------------------------------------------------


def _same_firm(client_file: ClientFile, collaborator: Collaborator) -> None:
    if client_file.firm_id != collaborator.firm_id:
        raise FirmError(_("This collaborator does not work for the firm of this client file."))


def toggle_favourite(collaborator: Collaborator, client_file: ClientFile, *, actor: Actor) -> bool:
    """Add or remove the client file from the collaborator's favourites; True when now a favourite."""
    _same_firm(client_file, collaborator)
    with transaction.atomic():
        deleted, _ = Favourite.objects.filter(collaborator=collaborator, client_file=client_file).delete()
        if not deleted:
            Favourite.objects.create(collaborator=collaborator, client_file=client_file)
        details = {
            **_firm_details(collaborator.firm),
            "cbe": client_file.enterprise.cbe,
            "user": collaborator.user.email,
            "favourite": not deleted,
        }
        record(actor, "firm.favourite", details=details)
        return not deleted


def attach(client_file: ClientFile, collaborator: Collaborator, *, actor: Actor) -> bool:
    """Attach the collaborator to the client file; False when already attached."""
    _same_firm(client_file, collaborator)
    with transaction.atomic():
        _, created = Assignment.objects.get_or_create(collaborator=collaborator, client_file=client_file)
        if created:
            record(
                actor,
                "firm.attach",
                details={
                    **_firm_details(client_file.firm),
                    "cbe": client_file.enterprise.cbe,
                    "user": collaborator.user.email,
                },
            )
        return created


def detach(client_file: ClientFile, collaborator: Collaborator, *, actor: Actor) -> bool:
    """Detach the collaborator from the client file; False when they were not attached."""
    _same_firm(client_file, collaborator)
    with transaction.atomic():
        deleted, _ = Assignment.objects.filter(collaborator=collaborator, client_file=client_file).delete()
        if deleted:
            record(
                actor,
                "firm.detach",
                details={
                    **_firm_details(client_file.firm),
                    "cbe": client_file.enterprise.cbe,
                    "user": collaborator.user.email,
                },
            )
        return bool(deleted)


# --- the client admin of an enterprise ------------------------------------------------------------


def set_client_admin(enterprise: Enterprise, user: User | None, *, actor: Actor) -> bool:
    """Set the enterprise's client admin (None: back to the principal access manager).

    The client admin holds a role inside the enterprise (access manager or member). True when
    something changed.
    """
    with transaction.atomic():
        locked = Enterprise.objects.select_for_update().get(pk=enterprise.pk)
        if (
            user is not None
            and not Membership.objects.filter(enterprise=locked, user=user, role__in=INSIDERS).exists()
        ):
            raise FirmError(_("The client admin must be an access manager or a member of the enterprise."))
        new_id = user.pk if user is not None else None
        if locked.client_admin_id == new_id:
            return False
        locked.client_admin = user
        locked.save(update_fields=["client_admin"])
        enterprise.client_admin = user
        record(
            actor,
            "enterprise.client_admin",
            details={"cbe": enterprise.cbe, "client_admin": user.email if user else None},
        )
        return True
