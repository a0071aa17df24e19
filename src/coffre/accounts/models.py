"""Enterprises (identified by their CBE/KBO number). People and roles come with the portal."""

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from coffre.core.cbe import InvalidCBE, normalize_cbe

LANGUAGES = [("fr", "Français"), ("nl", "Nederlands"), ("de", "Deutsch"), ("en", "English")]


def validate_cbe(value: str) -> None:
    try:
        if normalize_cbe(value) != value:
            raise ValidationError("store the 10-digit form of the CBE number")
    except InvalidCBE as exc:
        raise ValidationError(str(exc)) from None


class Enterprise(models.Model):
    cbe = models.CharField("CBE number", max_length=10, unique=True, validators=[validate_cbe])
    name = models.CharField(max_length=200)
    language = models.CharField(max_length=2, choices=LANGUAGES, default="fr")
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["cbe"]

    def __str__(self):
        return f"{self.cbe} {self.name}"
