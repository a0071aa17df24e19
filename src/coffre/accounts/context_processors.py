"""What every portal page needs: the enterprises the person can open (lazily, one query).

The header names at most ``HEADER_ENTERPRISES`` of them (an accounting firm's collaborator may have
hundreds of clients); beyond, ``all_enterprises_url`` leads to the page that lists them all: the
portfolio for a firm's collaborator, else the settings (the person's enterprises and roles).
"""

from django.urls import reverse
from django.utils.functional import SimpleLazyObject

from coffre.accounts.models import Collaborator
from coffre.accounts.permissions import enterprises_of

HEADER_ENTERPRISES = 10


def _all_enterprises_url(user, first: list) -> str:
    if len(first) <= HEADER_ENTERPRISES:
        return ""
    if Collaborator.objects.filter(user=user).exists():
        return reverse("accounts:portfolio")
    return reverse("accounts:settings")


def portal(request):
    user = getattr(request, "user", None)
    first = SimpleLazyObject(lambda: list(enterprises_of(user)[: HEADER_ENTERPRISES + 1]))
    return {
        "my_enterprises": SimpleLazyObject(lambda: first[:HEADER_ENTERPRISES]),
        "all_enterprises_url": SimpleLazyObject(lambda: _all_enterprises_url(user, first)),
    }
