"""The "e-Box management" page (seed 000), for (co-)principal and (co-)access managers: the
enterprise's notification e-mail address (change with confirmation, resend, cancel) and its
anti-phishing phrase; and the confirmation link that the new address receives.

The confirmation link needs no sign-in (a group address may be read by people without an
account): its token is the proof. Opening it only shows what it would confirm; the change happens
on the button's POST, so that mail scanners that follow links confirm nothing. The token never
reaches the audit trail (its URL is recorded without it).
"""

from django.conf import settings
from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from coffre.accounts.models import Enterprise
from coffre.accounts.permissions import Action
from coffre.mailbox import selectors_web
from coffre.mailbox import services_management as management
from coffre.mailbox.forms import AntiPhishingPhraseForm, NotificationAddressForm
from coffre.mailbox.views import ebox_for, page_language, private, web_actor

MAX_TOKEN = 300


def _page(request, enterprise, ebox, *, address_form=None, phrase_form=None, status=200):
    context = {
        "current_enterprise": enterprise,
        "ebox": ebox,
        "address_form": address_form or NotificationAddressForm(),
        "phrase_form": phrase_form or AntiPhishingPhraseForm(initial={"phrase": ebox.anti_phishing_phrase}),
        "suggest_group_address": selectors_web.manager_count(enterprise) > 1,
        "pending_expired": bool(ebox.pending_expires_at and ebox.pending_expires_at <= timezone.now()),
    }
    return private(render(request, "mailbox/management.html", context, status=status))


def _link_maker(request, cbe: str):
    def link_for(token: str) -> str:
        path = reverse("mailbox:confirm_address", args=[cbe, token])
        return (
            f"{settings.COFFRE_BASE_URL}{path}"
            if settings.COFFRE_BASE_URL
            else request.build_absolute_uri(path)
        )

    return link_for


def _back(enterprise):
    return redirect("mailbox:management", cbe=enterprise.cbe)


@login_required
@require_GET
def management_page(request, cbe: str):
    enterprise, ebox = ebox_for(request, cbe, Action.MANAGE_EBOX)
    return _page(request, enterprise, ebox)


@login_required
@require_POST
def change_address(request, cbe: str):
    enterprise, ebox = ebox_for(request, cbe, Action.MANAGE_EBOX)
    form = NotificationAddressForm(request.POST)
    if form.is_valid():
        try:
            pending = management.request_address_change(
                ebox,
                form.cleaned_data["email"],
                requested_by=request.user.email,
                actor=web_actor(request),
                language=page_language(),
                link_for=_link_maker(request, enterprise.cbe),
            )
        except management.ManagementRefused as exc:
            form.add_error("email", exc.message)
        else:
            flash.success(
                request,
                _("A confirmation link was sent to %(email)s. The address changes once it is confirmed.")
                % {"email": pending.email},
            )
            return _back(enterprise)
    return _page(request, enterprise, ebox, address_form=form)


@login_required
@require_POST
def resend_confirmation(request, cbe: str):
    enterprise, ebox = ebox_for(request, cbe, Action.MANAGE_EBOX)
    try:
        pending = management.resend_confirmation(
            ebox,
            requested_by=request.user.email,
            actor=web_actor(request),
            language=page_language(),
            link_for=_link_maker(request, enterprise.cbe),
        )
    except management.ManagementRefused as exc:
        flash.error(request, exc.message)
    else:
        flash.success(request, _("A new confirmation link was sent to %(email)s.") % {"email": pending.email})
    return _back(enterprise)


@login_required
@require_POST
def cancel_change(request, cbe: str):
    enterprise, ebox = ebox_for(request, cbe, Action.MANAGE_EBOX)
    try:
        management.cancel_address_change(ebox, actor=web_actor(request))
    except management.ManagementRefused as exc:
        flash.error(request, exc.message)
    else:
        flash.success(request, _("The change of address is cancelled; the current address stays."))
    return _back(enterprise)


@login_required
@require_POST
def change_phrase(request, cbe: str):
    enterprise, ebox = ebox_for(request, cbe, Action.MANAGE_EBOX)
    if "remove" in request.POST:
        management.set_anti_phishing_phrase(ebox, "", actor=web_actor(request))
        flash.success(request, _("The anti-phishing phrase is removed."))
        return _back(enterprise)
    form = AntiPhishingPhraseForm(request.POST)
    if form.is_valid():
        try:
            management.set_anti_phishing_phrase(ebox, form.cleaned_data["phrase"], actor=web_actor(request))
        except management.ManagementRefused as exc:
            form.add_error("phrase", exc.message)
        else:
            flash.success(request, _("The anti-phishing phrase is saved."))
            return _back(enterprise)
    return _page(request, enterprise, ebox, phrase_form=form)


@require_http_methods(["GET", "POST"])
def confirm_address(request, cbe: str, token: str):
    """The link of the confirmation e-mail: GET shows what it confirms, POST confirms (once)."""
    enterprise = get_object_or_404(Enterprise, cbe=cbe, active=True)
    context = {"enterprise": enterprise}
    try:
        if len(token) > MAX_TOKEN:
            raise management.InvalidConfirmation("invalid")
        if request.method == "POST":
            audited_url = reverse("mailbox:confirm_address", args=[cbe, "TOKEN"]).replace("TOKEN", "[token]")
            ebox = management.confirm_address(token, cbe, actor=web_actor(request, url=audited_url))
            context.update(state="confirmed", email=ebox.notification_email)
        else:
            pending = management.pending_confirmation(token, cbe)
            context.update(state="pending", email=pending.email, expires_at=pending.expires_at)
    except management.InvalidConfirmation as exc:
        context.update(state=exc.reason)
        response = render(request, "mailbox/confirm_address.html", context, status=400)
    else:
        response = render(request, "mailbox/confirm_address.html", context)
    response["Referrer-Policy"] = "no-referrer"  # the token must not leave in a Referer header
    return private(response)
