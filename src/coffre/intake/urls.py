"""The intake's pages: "My documents" (/my-documents/...) and an enterprise's "E-mail access"
(/e/<cbe>/email-access/...), namespace ``intake``."""

from django.urls import path

from coffre.intake import views, views_personal

app_name = "intake"

urlpatterns = [
    path("my-documents/", views_personal.my_documents, name="my_documents"),
    path("my-documents/m/<str:message_id>/", views_personal.my_document, name="my_document"),
    path(
        "my-documents/m/<str:message_id>/a/<str:attachment_id>/preview/",
        views_personal.my_preview,
        name="my_preview",
    ),
    path(
        "my-documents/m/<str:message_id>/a/<str:attachment_id>/download/",
        views_personal.my_download,
        name="my_download",
    ),
    path(
        "my-documents/waiting/<int:pending_id>/",
        views_personal.my_waiting_decision,
        name="my_waiting_decision",
    ),
    path(
        "my-documents/address/regenerate/", views_personal.my_address_regenerate, name="my_address_regenerate"
    ),
    path("e/<str:cbe>/email-access/", views.email_access, name="email_access"),
    path("e/<str:cbe>/email-access/activity/", views.email_activity, name="email_activity"),
    path(
        "e/<str:cbe>/email-access/senders/<int:approval_id>/", views.sender_decision, name="sender_decision"
    ),
    path("e/<str:cbe>/email-access/waiting/<int:pending_id>/", views.mail_decision, name="mail_decision"),
    path(
        "e/<str:cbe>/addresses/<str:folder>/regenerate/", views.regenerate_address, name="regenerate_address"
    ),
]
