from django.apps import AppConfig


class IntakeImapConfig(AppConfig):
    name = "coffre.intake.imap"
    label = "intake_imap"
    verbose_name = "Intake: IMAP polling"
