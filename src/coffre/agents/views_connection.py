"""One connection's page and what a person can do there: its status in words with the action it
calls for, its credentials (the non-secret values only; the rest is only replaced), its history of
runs (keyset pages, newest first), and the actions: replace the credentials, "I have done it",
"Sync now", "Report to support", remove (after a confirmation page).

Each view exists for an enterprise and for "My documents" (``views.both_places``): the matrix is
applied to the enterprise of the URL, then the connection must be one of that box's (404
otherwise) and the service checks again. The status region of the page refreshes itself with htmx
while a sync is on its way (progressive enhancement: a reload shows the same).
"""

from django.contrib import messages as flash
from django.shortcuts import redirect, render
from django.utils import formats, timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _

from coffre.accounts.permissions import Action
from coffre.agents import presentation, selectors, services
from coffre.agents.forms import CredentialsForm
from coffre.agents.models import Status
from coffre.agents.statuses import Remedy
from coffre.agents.views import DOCCONSUMER, Place, both_places, connection_in, through_service
from coffre.mailbox.views import is_partial, web_actor

STATUS_TARGET = "connection-status"  # the id of the region htmx refreshes


def _situation(connection) -> presentation.Situation:
    run = selectors.last_run(connection)
    return presentation.situation(connection, run, selectors.agents_in_maintenance())


def _credentials_url(place: Place, connection) -> str:
    """Where the credentials are replaced: a DocConsumer keeps the key Coffre made (its set-up page)."""
    if connection.agent_id == DOCCONSUMER:
        return place.url("docconsumer_setup", connection.pk)
    return place.url("credentials", connection.pk)


def _before(request) -> int | None:
    value = request.GET.get("before", "")
    return int(value) if value.isdigit() and len(value) < 19 else None


def _page(request, place: Place, connection_id: int):
    connection = connection_in(request, place, connection_id, Action.VIEW_AGENTS)
    situation = _situation(connection)
    context = place.context(
        request,
        situation=situation,
        credentials_url=_credentials_url(place, connection),
        status_target=STATUS_TARGET,
        refresh=(situation.status == Status.PENDING and not situation.setting_up) or situation.running,
        connection_url=place.url("connection", connection.pk),
        report=selectors.open_report_of(connection, situation.last_run),
        offer_credentials=situation.explanation.remedy == Remedy.REPLACE_CREDENTIALS,
        offer_done=situation.explanation.remedy == Remedy.CONFIRM_DONE,
        offer_report=situation.explanation.remedy == Remedy.REPORT,
        offer_setup=situation.setting_up,
    )
    if is_partial(request, STATUS_TARGET):
        response = render(request, "agents/_status.html", context)
        patch_vary_headers(response, ["HX-Request"])
        return response
    before = _before(request)
    runs, next_before = selectors.runs_page(request.user, connection.pk, before)
    context.update(
        shown=presentation.shown_credentials(situation.agent, connection),
        runs=runs,
        next_runs_url=f"{context['connection_url']}?before={next_before}#history" if next_before else "",
        first_runs_url=f"{context['connection_url']}#history" if before else "",
    )
    response = render(request, "agents/connection.html", context)
    patch_vary_headers(response, ["HX-Request"])
    return response


enterprise_connection, my_connection = both_places(Action.VIEW_AGENTS)(_page)


def _credentials(request, place: Place, connection_id: int):
    """Replace the credentials: the secret fields start blank, the others show their values."""
    connection = connection_in(request, place, connection_id, Action.MANAGE_AGENTS)
    if connection.agent_id == DOCCONSUMER:
        return redirect(_credentials_url(place, connection))
    situation = _situation(connection)
    if situation.agent is None:
        flash.error(request, _("This agent does not exist (any more) on this server."))
        return redirect(place.url("connection", connection.pk))
    if request.method == "POST":
        form = CredentialsForm(situation.agent, request.POST)
        if form.is_valid() and through_service(
            form,
            lambda: services.replace_credentials(
                request.user, connection.pk, form.values(), actor=web_actor(request)
            ),
        ):
            flash.success(request, _("The new credentials are saved: the agent tries them now."))
            return redirect(place.url("connection", connection.pk))
        status = 400
    else:
        form = CredentialsForm(situation.agent, initial=dict(connection.shown_credentials or {}))
        status = 200
    context = place.context(
        request, situation=situation, form=form, connection_url=place.url("connection", connection.pk)
    )
    return render(request, "agents/credentials.html", context, status=status)


enterprise_credentials, my_credentials = both_places(Action.MANAGE_AGENTS, ("GET", "POST"))(_credentials)


def _acted(request, place: Place, connection_id: int, action: Action, act, done: str):
    """Run one service on the connection, say what happened, back to its page."""
    connection = connection_in(request, place, connection_id, action)
    try:
        act(connection)
    except services.SyncNowTooSoon as error:
        when = formats.time_format(timezone.localtime(error.retry_at), "TIME_FORMAT")
        again = _("It is allowed again from %(time)s.") % {"time": when}
        flash.error(request, f"{error.message} {again}")
    except services.AgentServiceError as error:
        flash.error(request, error.message)
    else:
        flash.success(request, done)
    return redirect(place.url("connection", connection.pk))


def _done(request, place: Place, connection_id: int):
    return _acted(
        request,
        place,
        connection_id,
        Action.MANAGE_AGENTS,
        lambda connection: services.user_action_done(request.user, connection.pk, actor=web_actor(request)),
        _("Thank you: the agent tries again now."),
    )


enterprise_done, my_done = both_places(Action.MANAGE_AGENTS, ("POST",))(_done)


def _sync(request, place: Place, connection_id: int):
    return _acted(
        request,
        place,
        connection_id,
        Action.SYNC_AGENTS,
        lambda connection: services.sync_now(request.user, connection.pk, actor=web_actor(request)),
        _("The synchronisation starts now."),
    )


enterprise_sync, my_sync = both_places(Action.SYNC_AGENTS, ("POST",))(_sync)


def _report(request, place: Place, connection_id: int):
    connection = connection_in(request, place, connection_id, Action.SYNC_AGENTS)
    try:
        report = services.report_to_support(request.user, connection.pk, actor=web_actor(request))
    except services.AgentServiceError as error:
        flash.error(request, error.message)
    else:
        flash.success(
            request,
            _(
                "Your report is recorded (number %(number)d). Support receives the technical details "
                "of the error, never your credentials."
            )
            % {"number": report.pk},
        )
    return redirect(place.url("connection", connection.pk))


enterprise_report, my_report = both_places(Action.SYNC_AGENTS, ("POST",))(_report)


def _remove(request, place: Place, connection_id: int):
    """A confirmation page, then the removal (the documents it brought stay)."""
    connection = connection_in(request, place, connection_id, Action.MANAGE_AGENTS)
    if request.method == "POST":
        services.remove_connection(request.user, connection.pk, actor=web_actor(request))
        flash.success(request, _("The agent is removed. The documents it brought stay in their space."))
        return redirect(place.url("agents"))
    context = place.context(
        request, situation=_situation(connection), connection_url=place.url("connection", connection.pk)
    )
    return render(request, "agents/remove.html", context)


enterprise_remove, my_remove = both_places(Action.MANAGE_AGENTS, ("GET", "POST"))(_remove)
