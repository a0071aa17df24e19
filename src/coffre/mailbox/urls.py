"""The web mailbox of an enterprise: /e/<cbe>/..."""

from django.urls import path

from coffre.mailbox import views, views_management, views_message

app_name = "mailbox"

urlpatterns = [
    path("", views.message_list, name="list"),
    path("visibility/", views.change_visibility, name="visibility"),
    path("m/<str:message_id>/", views_message.message_page, name="message"),
    path("m/<str:message_id>/a/<str:attachment_id>/preview/", views_message.preview, name="preview"),
    path("m/<str:message_id>/a/<str:attachment_id>/download/", views_message.download, name="download"),
    path("management/", views_management.management_page, name="management"),
    path("management/address/", views_management.change_address, name="change_address"),
    path("management/address/resend/", views_management.resend_confirmation, name="resend_confirmation"),
    path("management/address/cancel/", views_management.cancel_change, name="cancel_change"),
    path("management/phrase/", views_management.change_phrase, name="change_phrase"),
    path("management/confirm/<str:token>/", views_management.confirm_address, name="confirm_address"),
]
