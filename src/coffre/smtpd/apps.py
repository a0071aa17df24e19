from django.apps import AppConfig


class SmtpdConfig(AppConfig):
    name = "coffre.smtpd"
    label = "smtpd"
    verbose_name = "SMTP server"
