"""What every portal page needs: the enterprises the person can open (lazily, one query)."""

from django.utils.functional import SimpleLazyObject

from coffre.accounts.permissions import enterprises_of


def portal(request):
    user = getattr(request, "user", None)
    return {"my_enterprises": SimpleLazyObject(lambda: list(enterprises_of(user)))}
