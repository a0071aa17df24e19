from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "coffre.audit"
    label = "audit"
    verbose_name = "Audit trail"
