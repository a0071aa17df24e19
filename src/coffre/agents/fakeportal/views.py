"""The demo's fake provider portal, mounted in Coffre under /demo-portal/ (``make run``).

Only when the setting ``COFFRE_DEMO_PORTAL`` is on (the demo; never in production): otherwise the
route answers 404 like any unknown page. The view only translates a Django request into the
portal's ``PortalRequest`` and back; the portal's state is the JSON file
``$COFFRE_VAR_DIR/fakeportal/state.json``, shared by every web worker, created with the demo's
accounts the first time. Coffre's own CSRF check is off for it: the portal checks its own token.
"""

from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.http import Http404, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from coffre.agents.fakeportal.app import MAX_FORM_BYTES, FakePortal, PortalRequest
from coffre.agents.fakeportal.state import PortalState


@lru_cache(maxsize=4)
def _portal(path: str) -> FakePortal:
    return FakePortal(PortalState.demo(Path(path)))


def demo_state_path() -> Path:
    return Path(settings.VAR_DIR) / "fakeportal" / "state.json"


@csrf_exempt
def demo_portal(request, path: str = ""):
    if not settings.COFFRE_DEMO_PORTAL:
        raise Http404()
    root = request.path[: len(request.path) - len(path)].rstrip("/")
    form = {}
    if request.method == "POST" and len(request.body) <= MAX_FORM_BYTES:
        form = {key: request.POST.get(key) for key in request.POST}
    answer = _portal(str(demo_state_path())).handle(
        PortalRequest(
            method=request.method,
            path="/" + path,
            root=root,
            query={key: request.GET.get(key) for key in request.GET},
            form=form,
            cookies=dict(request.COOKIES),
        )
    )
    response = HttpResponse(answer.body, status=answer.status, content_type=answer.content_type)
    for name, value in answer.headers:
        response[name] = value
    for cookie in answer.cookies:
        response.set_cookie(cookie.name, cookie.value, max_age=cookie.max_age, path=cookie.path,
                            httponly=True, samesite="Lax")
    return response
