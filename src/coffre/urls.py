from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("coffre.oauth.urls")),
    path("", include("coffre.api.urls")),
]

handler404 = "coffre.core.views.not_found"
handler500 = "coffre.core.views.error"
