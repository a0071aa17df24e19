"""The notification pages: /genuine/ (no login) and /notifications/alerts/ (the person's choice)."""

from django.urls import path

from coffre.notifications import views

app_name = "notifications"

urlpatterns = [
    path("genuine/", views.genuine, name="genuine"),
    path("notifications/alerts/", views.instant_alerts, name="instant_alerts"),
]
