from django.apps import AppConfig


class MailboxConfig(AppConfig):
    name = "coffre.mailbox"
    label = "mailbox"
    verbose_name = "e-Boxes and messages"
