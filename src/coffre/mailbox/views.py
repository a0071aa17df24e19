"""The web mailbox: the messages of one enterprise's e-Box, for the people allowed to read it."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, render

from coffre.accounts.models import Enterprise
from coffre.accounts.permissions import Action, require
from coffre.mailbox import selectors


def enterprise_for(request, cbe: str, action: Action) -> Enterprise:
    """The enterprise of the URL, when the person may do ``action`` there (else 404/403)."""
    enterprise = get_object_or_404(Enterprise, cbe=cbe, active=True)
    request.standing = require(request.user, action, enterprise)
    return enterprise


@login_required
def message_list(request, cbe: str):
    enterprise = enterprise_for(request, cbe, Action.VIEW_MESSAGES)
    ebox = selectors.ebox_of(enterprise.cbe)
    messages, total = selectors.page_of_messages(ebox, selectors.MessageFilters(), 1, 50)
    return render(
        request,
        "mailbox/list.html",
        {"current_enterprise": enterprise, "messages": messages, "total": total},
    )
