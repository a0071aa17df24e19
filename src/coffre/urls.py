from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path

from coffre.accounts.views import home
from coffre.agents.fakeportal.views import demo_portal

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", home, name="home"),  # before the API: django-ninja adds a root route of its own
    path("", include("coffre.intake.urls")),  # My documents, E-mail access (before the API's root route)
    path("", include("coffre.agents.urls")),  # the agents of an enterprise and of My documents
    path("", include("coffre.oauth.urls")),
    path("", include("coffre.api.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("coffre.accounts.urls")),
    path("e/<str:cbe>/", include("coffre.mailbox.urls")),
    path("operator/", include("coffre.outbox.urls")),
    path("operator/agents/", include("coffre.agents.urls_operator")),
    path("", include("coffre.notifications.urls")),
    # The demo's fake provider portal: answers 404 unless COFFRE_DEMO_PORTAL is on.
    re_path(r"^demo-portal/(?P<path>.*)$", demo_portal, name="demo_portal"),
]

if settings.COFFRE_BENCH:  # `make bench` only: the bare upload endpoint it compares publication to
    from coffre.core.bench import bare_upload

    urlpatterns.append(path("bench/bare-upload", bare_upload))

handler404 = "coffre.core.views.not_found"
handler500 = "coffre.core.views.error"
