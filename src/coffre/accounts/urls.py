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

# Linking to business accounts (seed 003) and accounting firms (seed 002).
from coffre.accounts import views_firms, views_linking

urlpatterns += views_linking.urlpatterns + views_firms.urlpatterns
