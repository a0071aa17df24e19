"""The web mailbox of an enterprise: /e/<cbe>/..."""

from django.urls import path

from coffre.mailbox import views

app_name = "mailbox"

urlpatterns = [
    path("", views.message_list, name="list"),
]
