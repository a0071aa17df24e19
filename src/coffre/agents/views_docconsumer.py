"""The e-Box DocConsumer's set-up pages (seed 001, inside Coffre; docs/agents-docconsumer.md):

1. ``docconsumer``: the space and a label, then "Generate my certificate" (a key and a
   self-signed certificate, kept server-side: ``services_docconsumer.start_setup``);
2. ``docconsumer_setup``: download the certificate (``certificate``, PEM) and register it at the
   e-Box side (ChaMan for the official e-Box; ``coffre client create`` for another Coffre);
3. on the same page, paste the client id (the registry's addresses are given, editable) and
   connect (``services_docconsumer.connect``): the first sync starts at once.

For an enterprise's agents and for "My documents" (``views.both_places``), for those who add
agents (``MANAGE_AGENTS``). The private key is never rendered nor downloadable.
"""

from django.contrib import messages as flash
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from coffre.accounts.permissions import Action
from coffre.agents import catalog, presentation, selectors, services_docconsumer
from coffre.agents.forms import AddForm, DocConsumerForm
from coffre.agents.providers.ebox_registry import OFFICIAL_AUTHORIZATION, OFFICIAL_REGISTRY
from coffre.agents.views import Place, both_places, connection_in, folder_wanted, through_service
from coffre.mailbox.models import Folder
from coffre.mailbox.views import web_actor

AGENT_ID = services_docconsumer.AGENT_ID
OFFICIAL_TOKEN_URL = OFFICIAL_AUTHORIZATION["services.socialsecurity.be"][0]
SCOPES = ("messagesfull", "referencedata")


def _docconsumer(request, place: Place, connection_id: int):
    connection = connection_in(request, place, connection_id, Action.MANAGE_AGENTS)
    if connection.agent_id != AGENT_ID:
        raise Http404("not an e-Box DocConsumer")
    return connection


def certificate_name(place: Place) -> str:
    return f"coffre-docconsumer-{place.enterprise.cbe if place.enterprise else 'my-documents'}.pem"


def _start(request, place: Place):
    """Step 1: where its documents go, then "Generate my certificate"."""
    agent = catalog.agent(AGENT_ID)
    folders = place.box.folders()
    if request.method == "POST":
        form = AddForm(request.POST, folders=folders)
        connection = form.is_valid() and through_service(
            form,
            lambda: services_docconsumer.start_setup(
                request.user,
                place.box,
                form.cleaned_data.get("folder", Folder.DOCUMENTS),
                label=form.cleaned_data["label"],
                actor=web_actor(request),
            ),
        )
        if connection:
            flash.success(request, _("Your certificate is ready: download it and register it at the e-Box side."))
            return redirect(place.url("docconsumer_setup", connection.pk))
        status = 400
    else:
        form = AddForm(folders=folders, initial={"folder": folder_wanted(place, request.GET.get("folder"))})
        status = 200
    context = place.context(
        request,
        agent=agent,
        form=form,
        frequency=presentation.frequency_words(agent.frequency),
        add_url=place.url("add", AGENT_ID),
    )
    return render(request, "agents/docconsumer_start.html", context, status=status)


enterprise_docconsumer, my_docconsumer = both_places(Action.MANAGE_AGENTS, ("GET", "POST"))(_start)


def _initial(place: Place, connection) -> dict:
    shown = connection.shown_credentials or {}
    if shown.get("client_id"):  # connected already: its settings as they are
        return {name: shown.get(name, "") for name in services_docconsumer.SETTINGS}
    return {
        "registry_url": OFFICIAL_REGISTRY,
        "token_url": OFFICIAL_TOKEN_URL,
        "enterprise": place.enterprise.cbe if place.enterprise else "",
    }


def _setup(request, place: Place, connection_id: int):
    """Steps 2 and 3: the certificate to register, then the client id the e-Box side gave."""
    connection = _docconsumer(request, place, connection_id)
    if request.method == "POST":
        form = DocConsumerForm(request.POST)
        if form.is_valid() and through_service(
            form,
            lambda: services_docconsumer.connect(
                request.user, connection.pk, form.values(), actor=web_actor(request)
            ),
        ):
            flash.success(request, _("The e-Box is connected: the first synchronisation starts now."))
            return redirect(place.url("connection", connection.pk))
        status = 400
    else:
        form = DocConsumerForm(initial=_initial(place, connection))
        status = 200
    name = certificate_name(place)
    cbe = place.enterprise.cbe if place.enterprise else "<CBE>"
    scopes = " ".join(f"--scope {scope}" for scope in SCOPES)
    context = place.context(
        request,
        situation=presentation.situation(connection, selectors.last_run(connection), set()),
        form=form,
        connection_url=place.url("connection", connection.pk),
        certificate_url=place.url("certificate", connection.pk),
        has_certificate=bool((connection.shown_credentials or {}).get("certificate")),
        certificate_name=name,
        command=f'coffre client create --enterprise {cbe} --certificate {name} {scopes} --name "Coffre DocConsumer"',
        connected=not services_docconsumer.being_set_up(connection),
    )
    return render(request, "agents/docconsumer_setup.html", context, status=status)


enterprise_docconsumer_setup, my_docconsumer_setup = both_places(Action.MANAGE_AGENTS, ("GET", "POST"))(
    _setup
)


def _certificate(request, place: Place, connection_id: int):
    """The certificate (PEM) to register at the e-Box side; never the key."""
    connection = _docconsumer(request, place, connection_id)
    certificate = selectors.docconsumer_certificate(request.user, connection.pk)
    if not certificate:
        raise Http404("no certificate kept for this connection")
    response = HttpResponse(certificate, content_type="application/x-pem-file")
    response["Content-Disposition"] = f'attachment; filename="{certificate_name(place)}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


enterprise_certificate, my_certificate = both_places(Action.MANAGE_AGENTS)(_certificate)
