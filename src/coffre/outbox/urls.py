from django.urls import path

from coffre.outbox import views

app_name = "outbox"

urlpatterns = [
    path("outbox/", views.outbox_list, name="list"),
    path("outbox/<int:pk>/", views.outbox_mail, name="mail"),
    path("outbox/<int:pk>/html/", views.outbox_mail_html, name="mail_html"),
]
