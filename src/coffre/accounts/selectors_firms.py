"""Reads about accounting firms that cross a permission boundary: a collaborator's portfolio (only
the client files of the firms they work for), one client file as its firm's collaborators see it,
the firms an enterprise gave access to, and an enterprise's client admin.

Never returns a client file of a firm the person does not work for: views use these instead of
querying the models.
"""

import re
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404

from coffre.accounts.models import (
    AccountingFirm,
    Assignment,
    ClientFile,
    Collaborator,
    Enterprise,
    Favourite,
    Membership,
    Role,
    User,
)
from coffre.accounts.permissions import INSIDERS, FirmAction, require_firm


def collaborations_of(user) -> QuerySet[Collaborator]:
    if not getattr(user, "is_authenticated", False):
        return Collaborator.objects.none()
    return Collaborator.objects.filter(user=user).select_related("firm").order_by("firm__name")


def portfolio_of(
    user, *, query: str = "", favourites_only: bool = False, attached_only: bool = False
) -> QuerySet[ClientFile]:
    """The client files of every firm ``user`` works for, favourites first, then by name.

    Each carries ``is_favourite`` and ``is_attached`` (for this person) and its ``assignments``
    (with the attached collaborators' people) prefetched.
    """
    # A favourite or an assignment of a client file always belongs to a collaborator of its firm.
    files = (
        ClientFile.objects.filter(firm__collaborators__user=user, enterprise__active=True)
        .select_related("enterprise", "firm")
        .annotate(
            is_favourite=Exists(
                Favourite.objects.filter(client_file=OuterRef("pk"), collaborator__user=user)
            ),
            is_attached=Exists(
                Assignment.objects.filter(client_file=OuterRef("pk"), collaborator__user=user)
            ),
        )
        .prefetch_related(
            Prefetch(
                "assignments",
                queryset=Assignment.objects.select_related("collaborator__user").order_by(
                    "collaborator__user__email"
                ),
            )
        )
    )
    query = query.strip()
    if query:
        condition = Q(enterprise__name__icontains=query)
        digits = re.sub(r"\D", "", query)
        if len(digits) >= 3:
            condition |= Q(enterprise__cbe__contains=digits)
        files = files.filter(condition)
    if favourites_only:
        files = files.filter(is_favourite=True)
    if attached_only:
        files = files.filter(is_attached=True)
    return files.order_by("-is_favourite", "enterprise__name", "firm__name")


def client_file_for(user, file_id: int, action: FirmAction) -> tuple[ClientFile, Collaborator]:
    """The client file and the person's collaborator row, when ``action`` is allowed (404/403)."""
    client_file = (
        ClientFile.objects.select_related("enterprise", "firm")
        .filter(pk=file_id, enterprise__active=True)
        .first()
    )
    if client_file is None:
        raise Http404("no such client file")
    return client_file, require_firm(user, action, client_file.firm)


def attached_collaborators(client_file: ClientFile) -> QuerySet[Collaborator]:
    return (
        Collaborator.objects.filter(assignments__client_file=client_file)
        .select_related("user")
        .order_by("user__email")
    )


def collaborators_of(firm: AccountingFirm) -> QuerySet[Collaborator]:
    return firm.collaborators.select_related("user").order_by("-is_admin", "user__email")


def firm_for(user, firm_id: int, action: FirmAction) -> tuple[AccountingFirm, Collaborator]:
    firm = AccountingFirm.objects.filter(pk=firm_id).first()
    if firm is None:
        raise Http404("no such accounting firm")
    return firm, require_firm(user, action, firm)


class AmbiguousFirm(Exception):
    """The e-mail address is the administrator of several firms."""


def find_firm(identifier: str) -> AccountingFirm | None:
    """A firm by its number (id) or by the e-mail address of one of its administrators."""
    identifier = identifier.strip()
    if identifier.isdigit():
        return AccountingFirm.objects.filter(pk=int(identifier)).first()
    if "@" in identifier:
        firms = list(
            AccountingFirm.objects.filter(
                collaborators__user__email__iexact=identifier, collaborators__is_admin=True
            ).distinct()[:2]
        )
        if len(firms) > 1:
            raise AmbiguousFirm()
        return firms[0] if firms else None
    return None


def firms_with_access(enterprise: Enterprise) -> QuerySet[ClientFile]:
    return enterprise.client_files.select_related("firm", "granted_by").order_by("firm__name")


def client_file_of_enterprise(enterprise: Enterprise, file_id: int) -> ClientFile:
    client_file = enterprise.client_files.select_related("firm", "enterprise").filter(pk=file_id).first()
    if client_file is None:
        raise Http404("no such client file")
    return client_file


def client_admin_candidates(enterprise: Enterprise) -> QuerySet[User]:
    """The people who may be client admin: access managers and members of the enterprise."""
    return (
        User.objects.filter(
            is_active=True, memberships__enterprise=enterprise, memberships__role__in=INSIDERS
        )
        .distinct()
        .order_by("email")
    )


def client_admin_of(enterprise: Enterprise) -> User | None:
    """The client admin: the one the access managers chose while they keep a role inside the
    enterprise, else the principal access manager."""
    if (
        enterprise.client_admin_id
        and client_admin_candidates(enterprise).filter(pk=enterprise.client_admin_id).exists()
    ):
        return enterprise.client_admin
    principal = (
        Membership.objects.filter(enterprise=enterprise, role=Role.PRINCIPAL).select_related("user").first()
    )
    return principal.user if principal else None


# --- senders of documents by e-mail (seed 002) ----------------------------------------------------


@dataclass(frozen=True)
class SenderStanding:
    """What an e-mail address is to an enterprise, for the rules of documents sent by e-mail."""

    holds_role: bool  # an active person with this address holds a role in the enterprise
    collaborator: bool  # ... works for a firm that has the enterprise in its portfolio
    favourite: bool  # ... and has marked that client file as a favourite

    @property
    def favourite_or_insider(self) -> bool:
        """People who hold a role count as collaborators with the enterprise in favourites."""
        return self.holds_role or self.favourite


def sender_standing(address: str, enterprise: Enterprise) -> SenderStanding:
    """The standing of the person whose sign-in address is ``address`` (case-insensitive)."""
    people = User.objects.filter(email__iexact=address, is_active=True)
    holds_role = Membership.objects.filter(user__in=people, enterprise=enterprise).exists()
    files = ClientFile.objects.filter(enterprise=enterprise, firm__collaborators__user__in=people)
    collaborator = files.exists()
    favourite = collaborator and Favourite.objects.filter(
        collaborator__user__in=people, client_file__enterprise=enterprise
    ).exists()
    return SenderStanding(holds_role=holds_role, collaborator=collaborator, favourite=favourite)


def attached_people(enterprise: Enterprise) -> QuerySet[User]:
    """The active people attached to the enterprise's client files (``Assignment``)."""
    return (
        User.objects.filter(
            is_active=True, collaborations__assignments__client_file__enterprise=enterprise
        )
        .distinct()
        .order_by("email")
    )


def enterprises_attached_to(user) -> QuerySet[Enterprise]:
    """The active enterprises to whose client files the person is attached."""
    return Enterprise.objects.filter(
        active=True, client_files__assignments__collaborator__user=user
    ).distinct()


def enterprises_administered_by(user) -> list[Enterprise]:
    """The active enterprises whose client admin (``client_admin_of``) the person is."""
    candidates = Enterprise.objects.filter(active=True).filter(
        Q(client_admin=user) | Q(memberships__user=user, memberships__role=Role.PRINCIPAL)
    ).distinct()
    found = []
    for enterprise in candidates:
        admin = client_admin_of(enterprise)
        if admin is not None and admin.pk == user.pk:
            found.append(enterprise)
    return found
