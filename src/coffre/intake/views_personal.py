"""A person's "My documents": its list and message pages (the mailbox's, through ``BoxPages``),
its documents, its e-mail address (replaceable), and the mails from the person's own but
unauthenticated address waiting for their one-click approval.

The person's own data only: every view works on ``personal_box(request.user)``, so that an id
of someone else's message or waiting mail is not found (404), like one that does not exist.
"""

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from coffre.intake import selectors, services
from coffre.intake.views import VERDICT_LABELS
from coffre.mailbox.models import Folder
from coffre.mailbox.services_spaces import personal_box
from coffre.mailbox.views import LIST_TARGET, BoxPages, is_partial, list_context, private, web_actor
from coffre.mailbox.views_message import render_message, serve_attachment

PAGES = BoxPages("intake:my_documents", "intake:my_document", "intake:my_download", "intake:my_preview", None)
AUDIT = {"box": "my documents"}


@login_required
@require_GET
def my_documents(request):
    box = personal_box(request.user)
    context = list_context(
        request,
        box,
        request.GET,
        PAGES,
        regenerate_url=lambda folder: reverse("intake:my_address_regenerate"),
    )
    context["waiting"] = [
        (pending, VERDICT_LABELS.get(pending.activity.verdict_status, pending.activity.verdict_status))
        for pending in selectors.waiting_mails(box)
    ]
    template = "mailbox/_messages.html" if is_partial(request, LIST_TARGET) else "intake/my_documents.html"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return private(response)


@login_required
@require_GET
def my_document(request, message_id: str):
    return render_message(request, personal_box(request.user), message_id, PAGES, audit=AUDIT)


@login_required
@require_GET
def my_preview(request, message_id: str, attachment_id: str):
    return serve_attachment(
        request, personal_box(request.user), PAGES, message_id, attachment_id, inline=True, audit=AUDIT
    )


@login_required
@require_GET
def my_download(request, message_id: str, attachment_id: str):
    return serve_attachment(
        request, personal_box(request.user), PAGES, message_id, attachment_id, inline=False, audit=AUDIT
    )


@login_required
@require_POST
def my_waiting_decision(request, pending_id: int):
    """The one-click approval (or discarding) of a mail from the person's own address."""
    box = personal_box(request.user)
    pending = selectors.pending_in(box, pending_id)
    if pending is None:
        raise Http404("no such waiting e-mail")
    decision = request.POST.get("decision", "")
    if decision not in ("accept", "discard"):
        return HttpResponseBadRequest(_("Choose accept or discard."))
    act = services.accept_mail if decision == "accept" else services.discard_mail
    try:
        act(pending, by=request.user, actor=web_actor(request))
    except services.DecisionRefused:
        flash.error(request, _("This e-mail no longer waits for a decision."))
    else:
        flash.success(
            request, _("The e-mail is stored.") if decision == "accept" else _("The e-mail is discarded.")
        )
    return redirect("intake:my_documents")


@login_required
@require_POST
def my_address_regenerate(request):
    box = personal_box(request.user)
    address = services.regenerate_address(box, Folder.DOCUMENTS, web_actor(request))
    flash.success(
        request,
        _("The new address of this space is %(address)s; mail to the old one is refused.")
        % {"address": selectors.full_address(address)},
    )
    return redirect("intake:my_documents")
