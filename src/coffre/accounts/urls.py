"""The portal's account pages. Each area has its own module of views (``views``, and the helpers'
``views_*``); their URL lists are gathered here under the ``accounts`` namespace."""

from django.urls import path

from coffre.accounts import views

app_name = "accounts"

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("settings/", views.settings_page, name="settings"),
]
