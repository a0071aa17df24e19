"""The notification pages: "Is this e-mail genuine?" (no login) and the person's instant alerts
(posted from the settings page). Parse, call one selector or service, answer."""

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from coffre.accounts.views_common import client_ip, web_actor
from coffre.core import ratelimit
from coffre.notifications import codes, selectors, services_alerts
from coffre.notifications.forms import GenuineForm, instant_alerts_form

# Checks of reference codes per client address: a person checks a few; guessing needs billions.
GENUINE_LIMIT = (20, timedelta(hours=1))


@require_http_methods(["GET", "POST"])
def genuine(request):
    form = GenuineForm(request.POST or None, initial={"code": request.GET.get("code", "")[:40]})
    context = {"form": form, "checked": False}
    status = 200
    if request.method == "POST" and form.is_valid():
        if not ratelimit.hit(f"genuine:ip:{client_ip(request)}", *GENUINE_LIMIT).allowed:
            form.add_error(None, _("Too many codes were checked from your connection. Try again in an hour."))
            status = 429
        else:
            notice = selectors.notice_by_code(form.cleaned_data["code"])
            context.update(
                checked=True,
                code=codes.display(form.cleaned_data["code"]),
                notice=notice,
                masked_address=codes.mask_email(notice.to_address) if notice else "",
            )
    return render(request, "notifications/genuine.html", context, status=status)


@login_required
@require_POST
def instant_alerts(request):
    form = instant_alerts_form(request.user, request.POST)
    if form.is_valid():
        services_alerts.set_instant_alerts(request.user, list(form.cleaned_data["enterprises"]),
                                           web_actor(request))
        messages.success(request, _("Your instant alerts are saved."))
    else:
        messages.error(request, _("Choose among the e-Boxes listed."))
    return redirect(reverse("accounts:settings") + "#alerts-heading")
