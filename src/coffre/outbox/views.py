"""The operator's outbox pages (``/operator/outbox/``): every mail Coffre queued, newest first,
and one mail with its delivery record.

For the operator only (Django staff): a signed-out visitor is sent to the operator sign-in,
anyone else gets 404 (the pages are not disclosed). What a mail says is shown only while the
mail stays on this machine (``selectors.content_shown``); its HTML only inside a sandboxed frame
whose own CSP allows no script, no form and no request to anywhere (no tracking pixel either).
"""

from functools import wraps

from csp.decorators import csp
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from coffre.outbox import selectors
from coffre.outbox.models import MailStatus

# The directives of the frame's own policy (django-csp's decorator takes them directly).
HTML_FRAME_POLICY = {
    "default-src": ["'none'"],
    "style-src": ["'unsafe-inline'"],  # mail HTML carries its styles inline; nothing runs
    "img-src": ["data:"],
    "frame-ancestors": ["'self'"],
    "form-action": ["'none'"],
    "base-uri": ["'none'"],
    "sandbox": True,
}


def operator_only(view):
    @wraps(view)
    def checked(request, *args, **kwargs):
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse("admin:login"))
        if not (user.is_active and user.is_staff):
            raise Http404("no such page")
        response = view(request, *args, **kwargs)
        patch_cache_control(response, private=True, no_store=True)
        return response

    return checked


@require_GET
@operator_only
def outbox_list(request):
    status = request.GET.get("status", "")
    status = status if status in MailStatus.values else ""
    page = selectors.mail_page(status=status, before=selectors.Cursor.decode(request.GET.get("before")))
    query = f"status={status}&" if status else ""
    first_url = request.path + (f"?status={status}" if status else "")
    return render(
        request,
        "outbox/list.html",
        {
            "page": page,
            "status": status,
            "statuses": [
                (MailStatus.QUEUED, _("Queued")),
                (MailStatus.SENT, _("Sent")),
                (MailStatus.FAILED, _("Failed")),
            ],
            "first_url": first_url,
            "next_url": f"{request.path}?{query}before={page.next_cursor}" if page.next_cursor else "",
            "paged": bool(request.GET.get("before")),
        },
    )


def _mail_or_404(pk: int):
    mail = selectors.mail_by_id(pk)
    if mail is None:
        raise Http404("no such mail")
    return mail


@require_GET
@operator_only
def outbox_mail(request, pk: int):
    mail = _mail_or_404(pk)
    return render(
        request,
        "outbox/mail.html",
        {
            "mail": mail,
            "envelope_sender": selectors.envelope_sender(mail),
            "content_shown": selectors.content_shown(),
        },
    )


@require_GET
@operator_only
@csp(HTML_FRAME_POLICY)
def outbox_mail_html(request, pk: int):
    mail = _mail_or_404(pk)
    if not mail.html or not selectors.content_shown():
        raise Http404("no HTML to show")
    response = HttpResponse(mail.html, content_type="text/html; charset=utf-8")
    response["X-Frame-Options"] = "SAMEORIGIN"
    response["Referrer-Policy"] = "no-referrer"
    return response
