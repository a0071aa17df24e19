"""Accounting firms: collaborators, client files, favourites, attachments, the client admin (seed 002)."""

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from coffre.accounts import selectors_firms, services_firms
from coffre.accounts.models import Assignment, ClientFile, Collaborator, Favourite
from coffre.accounts.permissions import (
    COLLABORATOR,
    FIRM_MATRIX,
    READERS,
    Action,
    FirmAction,
    can,
    firm_matrix_table,
    require_firm,
)
from coffre.accounts.tests.portal_people import ACTOR, person, world_fixture  # noqa: F401
from coffre.audit.models import AuditRecord
from coffre.core.cbe import make_cbe


def test_firm_standing_is_404_for_outsiders_and_403_for_non_admins(world):
    assert require_firm(world.fanny, FirmAction.ATTACH, world.fidu) == world.fanny_c
    assert require_firm(world.felix, FirmAction.VIEW_PORTFOLIO, world.fidu) == world.felix_c
    with pytest.raises(PermissionDenied):
        require_firm(world.felix, FirmAction.ATTACH, world.fidu)
    with pytest.raises(PermissionDenied):
        require_firm(world.felix, FirmAction.MANAGE_COLLABORATORS, world.fidu)
    for outsider in (world.olga, world.alice, world.paula):
        with pytest.raises(Http404):
            require_firm(outsider, FirmAction.VIEW_PORTFOLIO, world.fidu)


def test_firm_matrix_table_lists_every_action():
    table = firm_matrix_table()
    assert table.count("\n") == len(FirmAction) + 1
    assert "| attach and detach collaborators to client files | yes | no |" in table
    assert set(FIRM_MATRIX) == set(FirmAction)


def test_collaborators_read_like_accountants_through_the_client_file(world):
    assert COLLABORATOR in READERS
    assert can(world.felix, Action.VIEW_MESSAGES, world.a) and can(world.felix, Action.DOWNLOAD, world.a)
    assert not can(world.felix, Action.HIDE_MESSAGES, world.a)
    assert not can(world.felix, Action.VIEW_MESSAGES, world.b)
    assert not can(world.olga, Action.VIEW_MESSAGES, world.a)


def test_granting_is_idempotent_audited_and_tells_the_firms_admins(
    world, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = services_firms.grant_firm_access(world.b, world.fidu, granted_by=world.bert, actor=ACTOR)
        again = services_firms.grant_firm_access(world.b, world.fidu, granted_by=world.bert, actor=ACTOR)
    assert first.created and not again.created and first.obj == again.obj
    assert [mail.to for mail in mailoutbox] == [["fanny@example.be"]]  # admins only, once
    assert "Beta BV" in mailoutbox[0].subject
    assert (
        AuditRecord.objects.filter(
            action="firm.access_grant", details__cbe=world.b.cbe, details__firm=world.fidu.pk
        ).count()
        == 1
    )
    assert can(world.felix, Action.VIEW_MESSAGES, world.b)


def test_revoking_removes_access_favourites_and_attachments(world):
    services_firms.toggle_favourite(world.felix_c, world.fidu_a, actor=ACTOR)
    services_firms.attach(world.fidu_a, world.felix_c, actor=ACTOR)
    services_firms.revoke_firm_access(world.fidu_a, actor=ACTOR)
    assert not ClientFile.objects.filter(firm=world.fidu, enterprise=world.a).exists()
    assert not Favourite.objects.exists() and not Assignment.objects.exists()
    assert not can(world.felix, Action.VIEW_MESSAGES, world.a)
    assert AuditRecord.objects.filter(action="firm.access_revoke").count() == 1


def test_favourites_toggle_per_collaborator(world):
    assert services_firms.toggle_favourite(world.felix_c, world.fidu_a, actor=ACTOR) is True
    felix_view = selectors_firms.portfolio_of(world.felix).get()
    fanny_view = selectors_firms.portfolio_of(world.fanny).get()
    assert felix_view.is_favourite and not fanny_view.is_favourite
    assert services_firms.toggle_favourite(world.felix_c, world.fidu_a, actor=ACTOR) is False
    assert not selectors_firms.portfolio_of(world.felix).get().is_favourite


def test_a_collaborator_of_another_firm_cannot_favourite_or_be_attached(world):
    with pytest.raises(services_firms.FirmError):
        services_firms.toggle_favourite(world.olga_c, world.fidu_a, actor=ACTOR)
    with pytest.raises(services_firms.FirmError):
        services_firms.attach(world.fidu_a, world.olga_c, actor=ACTOR)
    assert not Favourite.objects.exists() and not Assignment.objects.exists()


def test_attach_and_detach(world):
    assert services_firms.attach(world.fidu_a, world.felix_c, actor=ACTOR) is True
    assert services_firms.attach(world.fidu_a, world.felix_c, actor=ACTOR) is False
    assert list(selectors_firms.attached_collaborators(world.fidu_a)) == [world.felix_c]
    assert selectors_firms.portfolio_of(world.felix).get().is_attached
    assert services_firms.detach(world.fidu_a, world.felix_c, actor=ACTOR) is True
    assert services_firms.detach(world.fidu_a, world.felix_c, actor=ACTOR) is False
    assert AuditRecord.objects.filter(action__in=["firm.attach", "firm.detach"]).count() == 2


def test_portfolio_shows_only_the_firms_own_clients(world):
    assert [cf.enterprise for cf in selectors_firms.portfolio_of(world.felix)] == [world.a]
    assert [cf.enterprise for cf in selectors_firms.portfolio_of(world.olga)] == [world.b]
    assert not selectors_firms.portfolio_of(world.alice).exists()


def test_portfolio_search_favourites_first(world):
    gamma = services_firms.grant_firm_access(
        _enterprise(make_cbe(4000003), "Gamma SA"), world.fidu, granted_by=None, actor=ACTOR
    ).obj
    names = lambda **kw: [cf.enterprise.name for cf in selectors_firms.portfolio_of(world.felix, **kw)]
    assert names() == ["Alpha SRL", "Gamma SA"]
    services_firms.toggle_favourite(world.felix_c, gamma, actor=ACTOR)
    assert names() == ["Gamma SA", "Alpha SRL"]
    assert names(favourites_only=True) == ["Gamma SA"]
    assert names(query="alpha") == ["Alpha SRL"]
    assert names(query=make_cbe(4000003)[:4] + "." + make_cbe(4000003)[4:7]) == ["Gamma SA"]
    assert names(query="nothing") == []
    services_firms.attach(gamma, world.felix_c, actor=ACTOR)
    assert names(attached_only=True) == ["Gamma SA"]


def _enterprise(cbe, name):
    from coffre.accounts.services import register_enterprise

    return register_enterprise(cbe, name, ACTOR).enterprise


def test_a_firm_keeps_an_admin(world):
    with pytest.raises(services_firms.FirmError):
        services_firms.remove_collaborator(world.fanny_c, actor=ACTOR)
    with pytest.raises(services_firms.FirmError):
        services_firms.set_collaborator(world.fidu, world.fanny, is_admin=False, actor=ACTOR)
    services_firms.set_collaborator(world.fidu, world.felix, is_admin=True, actor=ACTOR)
    services_firms.remove_collaborator(world.fanny_c, actor=ACTOR)
    assert not Collaborator.objects.filter(user=world.fanny).exists()


def test_adding_a_collaborator_from_the_portal_tells_them(
    world, mailoutbox, django_capture_on_commit_callbacks
):
    newcomer = person("nina@fidu.example")
    with django_capture_on_commit_callbacks(execute=True):
        outcome = services_firms.set_collaborator(
            world.fidu, newcomer, is_admin=False, actor=ACTOR, notify=True
        )
    assert outcome.created and [mail.to for mail in mailoutbox] == [["nina@fidu.example"]]
    assert "Fidu Lebrun" in mailoutbox[0].subject


def test_find_firm_by_number_or_admin_address(world):
    assert selectors_firms.find_firm(str(world.fidu.pk)) == world.fidu
    assert selectors_firms.find_firm("FANNY@example.be") == world.fidu
    assert selectors_firms.find_firm("felix@example.be") is None  # not an admin
    assert selectors_firms.find_firm("Fidu Lebrun") is None
    services_firms.set_collaborator(world.other_fidu, world.fanny, is_admin=True, actor=ACTOR)
    with pytest.raises(selectors_firms.AmbiguousFirm):
        selectors_firms.find_firm("fanny@example.be")


def test_client_admin_defaults_to_the_principal(world):
    assert selectors_firms.client_admin_of(world.a) == world.paula
    assert services_firms.set_client_admin(world.a, world.bob, actor=ACTOR) is True
    assert services_firms.set_client_admin(world.a, world.bob, actor=ACTOR) is False
    assert selectors_firms.client_admin_of(world.a) == world.bob
    world.bob.memberships.filter(enterprise=world.a).delete()  # bob leaves: back to the principal
    world.a.refresh_from_db()
    assert selectors_firms.client_admin_of(world.a) == world.paula
    assert services_firms.set_client_admin(world.a, None, actor=ACTOR) is True
    assert AuditRecord.objects.filter(action="enterprise.client_admin").count() == 2


@pytest.mark.parametrize("name", ["charlie", "felix", "dave"])
def test_the_client_admin_has_a_role_inside_the_enterprise(world, name):
    with pytest.raises(services_firms.FirmError):
        services_firms.set_client_admin(world.a, world.person(name), actor=ACTOR)
    world.a.refresh_from_db()
    assert world.a.client_admin is None


def test_the_docs_carry_the_firm_matrix():
    from pathlib import Path

    import coffre

    docs = Path(coffre.__file__).resolve().parents[2] / "docs" / "business-accounts-and-firms.md"
    assert firm_matrix_table() in docs.read_text(encoding="utf-8")
