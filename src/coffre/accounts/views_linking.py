"""Pages for linking a person to a business account (seed 003).

- ``/accounts/linked-accounts/``: the signed-in person's links, the form that makes one, and per
  link "report suspicious activity" and "remove my link" (the person's own data only);
- ``/accounts/link-removal/<token>/``: the one-click link e-mailed to the account's contacts. No
  sign-in: the token is the authority. GET only shows a confirmation page (mail scanners that
  follow links remove nobody); POST removes. Used or older than 30 days, it shows that it has
  expired and how to reach the support desk. The token never reaches the audit trail or a log.

Views stay thin: every change is a call to ``services_linking``.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from coffre.accounts import services_linking
from coffre.accounts.forms_linking import LinkForm
from coffre.accounts.models import AccountLink
from coffre.audit.services import Actor


def web_actor(request) -> Actor:
    """The signed-in person, as the audit trail names them."""
    return Actor(kind="web", name=request.user.email, method=request.method, url=request.path)


def ip_of(request) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def _removal_actor(request, link: AccountLink) -> Actor:
    # Whoever holds the e-mailed link; the URL is kept without its token.
    return Actor(
        kind="web",
        name=f"removal link #{link.pk}",
        method=request.method,
        url=reverse("accounts:link_removal", args=["-"]),
    )


REFUSALS = {
    "no_match": lambda: _(
        "These details do not match a business account. Check the client number, the postal code "
        "and the contract number, then try again."
    ),
    "rate_limited": lambda: _("Too many attempts. For your security, try again in an hour."),
}


@login_required
@require_http_methods(["GET", "POST"])
def linked_accounts(request):
    form = LinkForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            outcome = services_linking.link_account(
                request.user,
                **form.cleaned_data,
                actor=web_actor(request),
                base_url=request.build_absolute_uri("/"),
                ip_address=ip_of(request),
            )
        except services_linking.LinkRefused as refusal:
            form.add_error(None, REFUSALS[refusal.reason]())
        else:
            account = outcome.link.account
            if outcome.created:
                messages.success(
                    request,
                    _(
                        "Your profile is linked to the business account %(number)s of %(enterprise)s. "
                        "Its contacts have been told by e-mail."
                    )
                    % {"number": account.client_number, "enterprise": account.enterprise.name},
                )
            else:
                messages.info(request, _("Your profile was already linked to this business account."))
            return redirect("accounts:linked_accounts")
    return render(
        request,
        "accounts/linking/linked_accounts.html",
        {"form": form, "links": services_linking.live_links_of(request.user)},
    )


@login_required
@require_POST
def unlink_own(request, link_id: int):
    try:
        link = services_linking.unlink_own(
            request.user, link_id, actor=web_actor(request), ip_address=ip_of(request)
        )
    except AccountLink.DoesNotExist:
        raise Http404("no such link") from None
    messages.success(
        request,
        _("Your profile is no longer linked to the business account %(number)s.")
        % {"number": link.account.client_number},
    )
    return redirect("accounts:linked_accounts")


@login_required
@require_POST
def report_own(request, link_id: int):
    link = services_linking.live_links_of(request.user).filter(pk=link_id).first()
    if link is None:
        raise Http404("no such link")
    try:
        services_linking.report_suspicious_activity(
            link,
            reported_by="linked person",
            actor=web_actor(request),
            ip_address=ip_of(request),
            reporter=request.user,
        )
    except services_linking.TooManyReports:
        messages.info(request, _("This activity has already been reported today."))
    else:
        messages.success(
            request,
            _(
                "Thank you. Your report is in the security log and the principal access managers have "
                "been alerted."
            ),
        )
    return redirect("accounts:linked_accounts")


def _expired(request, status: int):
    return render(
        request,
        "accounts/linking/removal_expired.html",
        {"support_contact": settings.COFFRE_SUPPORT_CONTACT},
        status=status,
    )


@never_cache
@require_http_methods(["GET", "POST"])
def link_removal(request, token: str):
    link = services_linking.link_for_token(token)
    if not services_linking.removal_usable(link):
        return _expired(request, 404 if link is None else 410)
    if request.method == "POST":
        try:
            services_linking.remove_link_by_token(
                token, actor=_removal_actor(request, link), ip_address=ip_of(request)
            )
        except services_linking.RemovalLinkExpired:  # used meanwhile, or expired while reading
            return _expired(request, 410)
        return render(request, "accounts/linking/removal_done.html", {"link": link, "token": token})
    return render(request, "accounts/linking/removal_confirm.html", {"link": link, "token": token})


@never_cache
@require_POST
def link_removal_report(request, token: str):
    """Report suspicious activity from the e-mailed link: works for its 30 days, removed or not."""
    link = services_linking.link_for_token(token)
    if link is None or timezone.now() >= link.removal_expires_at:
        return _expired(request, 404 if link is None else 410)
    try:
        services_linking.report_suspicious_activity(
            link, reported_by="contact", actor=_removal_actor(request, link), ip_address=ip_of(request)
        )
    except services_linking.TooManyReports:
        already = True
    else:
        already = False
    return render(request, "accounts/linking/reported.html", {"link": link, "already": already})


urlpatterns = [
    path("linked-accounts/", linked_accounts, name="linked_accounts"),
    path("linked-accounts/<int:link_id>/remove/", unlink_own, name="unlink_own"),
    path("linked-accounts/<int:link_id>/report/", report_own, name="report_link"),
    path("link-removal/<str:token>/", link_removal, name="link_removal"),
    path("link-removal/<str:token>/report/", link_removal_report, name="link_removal_report"),
]
