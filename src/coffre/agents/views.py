"""The agents' pages of a box: the agents of an enterprise (/e/<cbe>/agents/, its Documents and
Purchases spaces) or of a person's "My documents" (/my-documents/agents/), the catalog with its
search and "suggest an agent", and adding an agent. One connection's page and actions are in
``views_connection``, the operators' page in ``views_operator``.

Every page exists twice, for an enterprise and for the person's own box: ``Place`` says which box
and where its pages are. An enterprise's pages apply the permission matrix first (404 without
standing, 403 without the role: ``mailbox.views.ebox_for``); a person's are their own box only.
Views parse, call one selector or service (which check again), and render; nothing here changes
state by itself.
"""

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from coffre.accounts.models import Enterprise
from coffre.accounts.permissions import Action
from coffre.agents import catalog, credentials, presentation, selectors, services
from coffre.agents.forms import AddForm, CredentialsForm, SuggestionForm
from coffre.agents.models import Connection
from coffre.agents.sdk import Agent, Category
from coffre.mailbox.models import Ebox, Folder
from coffre.mailbox.services_spaces import personal_box
from coffre.mailbox.views import ebox_for, private, web_actor

MAX_QUERY = 100
DOCCONSUMER = "ebox-docconsumer"



def through_service(form, call: Callable[[], object], *, credentials_form=None):
    """Run ``call`` (a service taking the form's values): its result, or None when the service
    refused. Its reasons go on the form: credentials field by field (``credentials_form``, else
    ``form``), anything else on its field when the form has it, else above the form."""
    try:
        return call()
    except credentials.CredentialsInvalid as error:
        (credentials_form or form).add_service_errors(error.errors)
    except services.AgentServiceError as error:
        form.add_error(error.field if error.field in form.fields else None, error.message)
    return None

@dataclass(frozen=True)
class Place:
    """The box whose agents a page shows: an enterprise's e-Box (URL names ``agents:e_*``, with
    its CBE number) or the person's "My documents" (``agents:my_*``)."""

    box: Ebox
    enterprise: Enterprise | None = None

    @property
    def personal(self) -> bool:
        return self.enterprise is None

    def url(self, name: str, *args) -> str:
        if self.personal:
            return reverse(f"agents:my_{name}", args=args)
        return reverse(f"agents:e_{name}", args=[self.enterprise.cbe, *args])

    @property
    def name(self) -> str:
        return _("My documents") if self.personal else self.enterprise.name

    def may(self, person, action: Action) -> bool:
        return selectors.may(person, self.box, action)

    def context(self, request, **extra) -> dict:
        return {
            "place": self,
            "current_enterprise": self.enterprise,
            "personal": self.personal,
            "agents_url": self.url("agents"),
            "catalog_url": self.url("catalog"),
            "may_manage": self.may(request.user, Action.MANAGE_AGENTS),
            "may_sync": self.may(request.user, Action.SYNC_AGENTS),
            **extra,
        }


def enterprise_place(request, cbe: str, action: Action) -> Place:
    enterprise, box = ebox_for(request, cbe, action)
    return Place(box, enterprise)


def personal_place(request) -> Place:
    return Place(personal_box(request.user))


def both_places(action: Action, methods: tuple[str, ...] = ("GET",)) -> Callable:
    """Make a page body ``body(request, place, **kwargs)`` into the two views: the enterprise's
    (``cbe`` in the URL; the matrix's ``action`` there) and the person's own."""

    def decorate(body):
        @login_required
        @require_http_methods(list(methods))
        @wraps(body)
        def of_enterprise(request, cbe: str, **kwargs):
            return private(body(request, enterprise_place(request, cbe, action), **kwargs))

        @login_required
        @require_http_methods(list(methods))
        @wraps(body)
        def of_person(request, **kwargs):
            return private(body(request, personal_place(request), **kwargs))

        return of_enterprise, of_person

    return decorate


def connection_in(request, place: Place, connection_id: int, action: Action) -> Connection:
    """The connection of the URL, when it fetches into the place's box and the person may do
    ``action`` on it (else 404 / 403, from the selector)."""
    connection = selectors.connection_for(request.user, connection_id, action)
    if connection.box_id != place.box.pk:
        raise Http404("no such agent here")
    return connection


def catalog_agent(agent_id: str) -> Agent:
    try:
        return catalog.agent(agent_id)
    except catalog.UnknownAgent:
        raise Http404("no such agent in the catalog") from None


def folder_wanted(place: Place, value: str | None) -> str:
    return value if value in place.box.folders() else Folder.DOCUMENTS


# --- the agents of a box ---------------------------------------------------------------------------


def _agents_page(request, place: Place):
    connections = selectors.connections_of_box(request.user, place.box)
    runs = selectors.runs_by_id(item.last_run_id for item in connections)
    in_maintenance = selectors.agents_in_maintenance()
    situations = []
    for item in connections:
        shown = presentation.situation(item, runs.get(item.last_run_id), in_maintenance)
        shown.url = place.url("connection", item.pk)
        situations.append(shown)
    spaces = [
        {
            "folder": folder,
            "label": presentation.space_label(place.box, folder),
            "situations": [shown for shown in situations if shown.connection.folder == folder],
            "catalog_url": place.url("catalog") + (f"?folder={folder}" if not place.personal else ""),
        }
        for folder in place.box.folders()
    ]
    return render(request, "agents/agents.html", place.context(request, spaces=spaces))


enterprise_agents, my_agents = both_places(Action.VIEW_AGENTS)(_agents_page)


# --- the catalog -----------------------------------------------------------------------------------


def _entry(place: Place, agent: Agent, folder: str = "") -> dict:
    # The DocConsumer is set up in steps (Coffre makes its key): its own pages.
    add_url = place.url("docconsumer") if agent.id == DOCCONSUMER else place.url("add", agent.id)
    return {
        "agent": agent,
        "category": presentation.category_label(agent.category),
        "frequency": presentation.frequency_words(agent.frequency),
        "add_url": f"{add_url}?folder={folder}" if folder else add_url,
    }


def _catalog_context(request, place: Place, suggestion_form: SuggestionForm | None = None) -> dict:
    query = request.GET.get("q", "").strip()[:MAX_QUERY]
    category = request.GET.get("category", "")
    category = category if category in {item.value for item in Category} else ""
    folder = folder_wanted(place, request.GET.get("folder"))
    found = catalog.search(query, category)
    if suggestion_form is None:
        suggestion_form = SuggestionForm(initial={"provider_name": query})
    return place.context(
        request,
        query=query,
        category=category,
        categories=presentation.categories(),
        folder=folder if len(place.box.folders()) > 1 else "",
        entries=[_entry(place, agent, folder if len(place.box.folders()) > 1 else "") for agent in found],
        searched=bool(query or category),
        suggestion_form=suggestion_form,
        suggest_url=place.url("suggest"),
    )


def _catalog(request, place: Place):
    return render(request, "agents/catalog.html", _catalog_context(request, place))


enterprise_catalog, my_catalog = both_places(Action.VIEW_AGENTS)(_catalog)


def _suggest(request, place: Place):
    """Record a suggestion of a new agent ("suggest an agent", seed 004): back to the catalog."""
    form = SuggestionForm(request.POST)
    if form.is_valid():
        try:
            services.suggest_agent(
                request.user,
                form.cleaned_data["provider_name"],
                website=form.cleaned_data["website"],
                comment=form.cleaned_data["comment"],
                actor=web_actor(request),
            )
        except services.AgentServiceError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            flash.success(
                request,
                _(
                    "Thank you: your suggestion of an agent for %(provider)s is recorded. The operators "
                    "read every suggestion; the agent appears in the catalog once it exists."
                )
                % {"provider": form.cleaned_data["provider_name"]},
            )
            return redirect(place.url("catalog"))
    context = _catalog_context(request, place, suggestion_form=form)
    context["searched"] = True  # show the form with its errors
    return render(request, "agents/catalog.html", context, status=400)


enterprise_suggest, my_suggest = both_places(Action.VIEW_AGENTS, ("POST",))(_suggest)


# --- adding an agent -------------------------------------------------------------------------------


def _add(request, place: Place, agent_id: str):
    agent = catalog_agent(agent_id)
    folders = place.box.folders()
    if request.method == "POST":
        form = AddForm(request.POST, folders=folders)
        credentials_form = CredentialsForm(agent, request.POST)
        valid = form.is_valid() & credentials_form.is_valid()
        connection = valid and through_service(
            form,
            lambda: services.add_connection(
                request.user,
                place.box,
                form.cleaned_data.get("folder", Folder.DOCUMENTS),
                agent.id,
                credentials_form.values(),
                label=form.cleaned_data["label"],
                actor=web_actor(request),
            ),
            credentials_form=credentials_form,
        )
        if connection:
            flash.success(
                request,
                _("The agent is added: its first synchronisation starts now. Its documents arrive in %(space)s.")
                % {"space": presentation.space_label(place.box, connection.folder)},
            )
            return redirect(place.url("connection", connection.pk))
        status = 400
    else:
        folder = folder_wanted(place, request.GET.get("folder"))
        form = AddForm(folders=folders, initial={"folder": folder})
        credentials_form = CredentialsForm(agent)
        status = 200
    context = place.context(
        request, agent=agent, entry=_entry(place, agent), form=form, credentials_form=credentials_form
    )
    return render(request, "agents/add.html", context, status=status)


enterprise_add, my_add = both_places(Action.MANAGE_AGENTS, ("GET", "POST"))(_add)
