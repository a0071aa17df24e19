"""Pages of accounting firms (seed 002) and of an enterprise's relations with them.

- ``/accounts/portfolio/``: the client enterprises of the firms the person works for, with search,
  favourites (htmx toggle, a plain form without JavaScript), who is attached to each, and links into
  each client's mailbox (collaborators read and download like an accountant);
- ``/accounts/portfolio/<id>/``: one client file; firm admins attach and detach collaborators;
- ``/accounts/firms/<id>/``: the firm's collaborators; firm admins add and remove them;
- ``/accounts/enterprises/<cbe>/accounting-firms/``: an enterprise's access managers give a firm
  access (``Action.GRANT_FIRM``) and take it back;
- ``/accounts/enterprises/<cbe>/client-admin/``: they choose the client admin (``MANAGE_MEMBERS``).

Firm pages answer 404 to anyone who does not work for the firm and 403 to a collaborator who is
not its admin (``permissions.require_firm``); enterprise pages use ``permissions.require``.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from coffre.accounts import selectors_firms, services_firms
from coffre.accounts.forms_firms import (
    AddCollaboratorForm,
    ClientAdminForm,
    CollaboratorChoiceForm,
    GrantFirmForm,
    PortfolioSearchForm,
)
from coffre.accounts.models import Enterprise, Favourite
from coffre.accounts.permissions import Action, FirmAction, require
from coffre.accounts.views_linking import web_actor

PAGE_SIZE = 50


def _enterprise(request, cbe: str, action: Action) -> Enterprise:
    enterprise = get_object_or_404(Enterprise, cbe=cbe, active=True)
    request.standing = require(request.user, action, enterprise)
    return enterprise


def _back(request, default: str) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, {request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


# --- the portfolio --------------------------------------------------------------------------------


@login_required
@require_GET
def portfolio(request):
    collaborations = list(selectors_firms.collaborations_of(request.user))
    if not collaborations:
        raise Http404("not a collaborator of an accounting firm")
    form = PortfolioSearchForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    files = selectors_firms.portfolio_of(
        request.user,
        query=filters.get("q", ""),
        favourites_only=filters.get("favourites", False),
        attached_only=filters.get("mine", False),
    )
    page = Paginator(files, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "accounts/firms/portfolio.html",
        {
            "form": form,
            "page": page,
            "collaborations": collaborations,
            "several_firms": len(collaborations) > 1,
            "admin_firm_ids": {c.firm_id for c in collaborations if c.is_admin},
            "query_string": query.urlencode(),
            "here": request.get_full_path(),
        },
    )


@login_required
@require_POST
def favourite(request, file_id: int):
    client_file, me = selectors_firms.client_file_for(request.user, file_id, FirmAction.FAVOURITE)
    client_file.is_favourite = services_firms.toggle_favourite(me, client_file, actor=web_actor(request))
    if request.htmx:
        return render(
            request,
            "accounts/firms/_favourite.html",
            {"client_file": client_file, "next": _back(request, "")},
        )
    if client_file.is_favourite:
        messages.success(
            request, _("%(name)s is in your favourites.") % {"name": client_file.enterprise.name}
        )
    else:
        messages.success(
            request, _("%(name)s is no longer in your favourites.") % {"name": client_file.enterprise.name}
        )
    return redirect(_back(request, reverse("accounts:portfolio")))


@login_required
@require_GET
def client_file_page(request, file_id: int):
    client_file, me = selectors_firms.client_file_for(request.user, file_id, FirmAction.VIEW_PORTFOLIO)
    client_file.is_favourite = Favourite.objects.filter(collaborator=me, client_file=client_file).exists()
    return _client_file(request, client_file, me)


def _client_file(request, client_file, me, form=None, status=200):
    attached = list(selectors_firms.attached_collaborators(client_file))
    attached_ids = {collaborator.pk for collaborator in attached}
    others = [c for c in selectors_firms.collaborators_of(client_file.firm) if c.pk not in attached_ids]
    return render(
        request,
        "accounts/firms/client_file.html",
        {
            "client_file": client_file,
            "me": me,
            "attached": attached,
            "others": others,
            "form": form,
            "here": request.path,
        },
        status=status,
    )


def _attachment(request, file_id: int, change):
    client_file, me = selectors_firms.client_file_for(request.user, file_id, FirmAction.ATTACH)
    form = CollaboratorChoiceForm(request.POST, firm=client_file.firm)
    if not form.is_valid():
        client_file.is_favourite = Favourite.objects.filter(collaborator=me, client_file=client_file).exists()
        return _client_file(request, client_file, me, form=form, status=400)
    collaborator = form.cleaned_data["collaborator"]
    changed = change(client_file, collaborator, actor=web_actor(request))
    name = collaborator.user.full_name or collaborator.user.email
    if change is services_firms.attach:
        text = _("%(name)s is attached to this client.") if changed else _("%(name)s was already attached.")
    else:
        text = (
            _("%(name)s is no longer attached to this client.")
            if changed
            else _("%(name)s was not attached.")
        )
    messages.success(request, text % {"name": name})
    return redirect("accounts:client_file", file_id=client_file.pk)


@login_required
@require_POST
def attach(request, file_id: int):
    return _attachment(request, file_id, services_firms.attach)


@login_required
@require_POST
def detach(request, file_id: int):
    return _attachment(request, file_id, services_firms.detach)


# --- the firm and its collaborators ---------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def firm_page(request, firm_id: int):
    action = FirmAction.MANAGE_COLLABORATORS if request.method == "POST" else FirmAction.VIEW_PORTFOLIO
    firm, me = selectors_firms.firm_for(request.user, firm_id, action)
    form = AddCollaboratorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.cleaned_data["user"]
        outcome = services_firms.set_collaborator(
            firm, user, is_admin=form.cleaned_data["is_admin"], actor=web_actor(request), notify=True
        )
        if outcome.created:
            messages.success(
                request, _("%(email)s is now a collaborator of the firm.") % {"email": user.email}
            )
        else:
            messages.info(
                request, _("%(email)s was already a collaborator of the firm.") % {"email": user.email}
            )
        return redirect("accounts:firm", firm_id=firm.pk)
    return render(
        request,
        "accounts/firms/firm.html",
        {"firm": firm, "me": me, "collaborators": selectors_firms.collaborators_of(firm), "form": form},
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def remove_collaborator(request, firm_id: int, collaborator_id: int):
    firm, _admin = selectors_firms.firm_for(request.user, firm_id, FirmAction.MANAGE_COLLABORATORS)
    collaborator = firm.collaborators.select_related("user").filter(pk=collaborator_id).first()
    if collaborator is None:
        raise Http404("no such collaborator")
    try:
        services_firms.remove_collaborator(collaborator, actor=web_actor(request))
    except services_firms.FirmError as refusal:
        messages.error(request, str(refusal))
    else:
        messages.success(
            request, _("%(email)s is no longer a collaborator.") % {"email": collaborator.user.email}
        )
    return redirect("accounts:firm", firm_id=firm.pk)


# --- an enterprise and the firms -------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def enterprise_firms(request, cbe: str):
    enterprise = _enterprise(request, cbe, Action.GRANT_FIRM)
    form = GrantFirmForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            firm = selectors_firms.find_firm(form.cleaned_data["firm"])
        except selectors_firms.AmbiguousFirm:
            form.add_error(
                "firm", _("This address administers several firms: give the firm's number instead.")
            )
        else:
            if firm is None:
                form.add_error(
                    "firm",
                    _(
                        "No accounting firm matches. "
                        "Check the e-mail address of its administrator or its number."
                    ),
                )
            else:
                outcome = services_firms.grant_firm_access(
                    enterprise, firm, granted_by=request.user, actor=web_actor(request)
                )
                if outcome.created:
                    messages.success(request, _("%(firm)s now has access.") % {"firm": firm.name})
                else:
                    messages.info(request, _("%(firm)s already had access.") % {"firm": firm.name})
                return redirect("accounts:enterprise_firms", cbe=enterprise.cbe)
    return render(
        request,
        "accounts/firms/enterprise_firms.html",
        {
            "current_enterprise": enterprise,
            "client_files": selectors_firms.firms_with_access(enterprise),
            "form": form,
        },
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def enterprise_firm_revoke(request, cbe: str, file_id: int):
    enterprise = _enterprise(request, cbe, Action.GRANT_FIRM)
    client_file = selectors_firms.client_file_of_enterprise(enterprise, file_id)
    services_firms.revoke_firm_access(client_file, actor=web_actor(request))
    messages.success(request, _("%(firm)s no longer has access.") % {"firm": client_file.firm.name})
    return redirect("accounts:enterprise_firms", cbe=enterprise.cbe)


@login_required
@require_http_methods(["GET", "POST"])
def client_admin(request, cbe: str):
    enterprise = _enterprise(request, cbe, Action.MANAGE_MEMBERS)
    candidates = selectors_firms.client_admin_candidates(enterprise)
    current = selectors_firms.client_admin_of(enterprise)
    chosen = enterprise.client_admin if current and current.pk == enterprise.client_admin_id else None
    form = ClientAdminForm(request.POST or None, candidates=candidates, initial={"client_admin": chosen})
    if request.method == "POST" and form.is_valid():
        try:
            services_firms.set_client_admin(
                enterprise, form.cleaned_data["client_admin"], actor=web_actor(request)
            )
        except services_firms.FirmError as refusal:
            form.add_error("client_admin", str(refusal))
        else:
            messages.success(request, _("The client admin is saved."))
            return redirect("accounts:client_admin", cbe=enterprise.cbe)
    return render(
        request,
        "accounts/firms/client_admin.html",
        {"current_enterprise": enterprise, "form": form, "client_admin": current},
        status=400 if form.errors else 200,
    )


urlpatterns = [
    path("portfolio/", portfolio, name="portfolio"),
    path("portfolio/<int:file_id>/", client_file_page, name="client_file"),
    path("portfolio/<int:file_id>/favourite/", favourite, name="favourite"),
    path("portfolio/<int:file_id>/attach/", attach, name="attach"),
    path("portfolio/<int:file_id>/detach/", detach, name="detach"),
    path("firms/<int:firm_id>/", firm_page, name="firm"),
    path(
        "firms/<int:firm_id>/collaborators/<int:collaborator_id>/remove/",
        remove_collaborator,
        name="remove_collaborator",
    ),
    path("enterprises/<str:cbe>/accounting-firms/", enterprise_firms, name="enterprise_firms"),
    path(
        "enterprises/<str:cbe>/accounting-firms/<int:file_id>/revoke/",
        enterprise_firm_revoke,
        name="enterprise_firm_revoke",
    ),
    path("enterprises/<str:cbe>/client-admin/", client_admin, name="client_admin"),
]
