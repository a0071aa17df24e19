"""Webservice clients, the access tokens issued to them, and the JWT assertions already used.

A webservice client is an enterprise's software (an accounting application, an institution's
publisher) that calls the e-Box REST API. It belongs to exactly one enterprise and proves its
identity with a JWT signed by the private key of its registered X.509 certificate.

This module must never store an access token or an assertion: tokens are kept as their SHA-256
only, assertions as their ``jti`` only. Every change goes through ``coffre.oauth.services``.
"""

from django.db import models
from django.utils import timezone

from coffre.accounts.models import Enterprise


class WebserviceClient(models.Model):
    client_id = models.CharField(max_length=64, unique=True)
    enterprise = models.ForeignKey(Enterprise, on_delete=models.PROTECT, related_name="webservice_clients")
    name = models.CharField(max_length=200, blank=True)
    certificate_pem = models.TextField()
    certificate_sha256 = models.CharField("certificate SHA-256 fingerprint", max_length=64)
    scopes = models.JSONField(default=list)  # full scope strings, canonical order
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["enterprise__cbe", "created_at", "client_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["enterprise", "certificate_sha256"], name="oauth_client_one_per_certificate"
            ),
        ]

    def __str__(self):
        return self.client_id


class AccessToken(models.Model):
    token_sha256 = models.CharField(max_length=64, unique=True)  # the unique index is the lookup path
    client = models.ForeignKey(WebserviceClient, on_delete=models.PROTECT, related_name="access_tokens")
    scopes = models.JSONField(default=list)
    issued_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    revoked = models.BooleanField(default=False)

    class Meta:
        indexes = [models.Index(fields=["expires_at"], name="oauth_token_by_expiry")]

    def __str__(self):
        return f"token of {self.client_id} until {self.expires_at:%Y-%m-%d %H:%M}"


class UsedAssertion(models.Model):
    """A ``jti`` already accepted for a client: a replay of the same assertion is refused.

    Kept until the assertion could no longer pass its ``exp`` check, then purged.
    """

    client = models.ForeignKey(WebserviceClient, on_delete=models.CASCADE, related_name="used_assertions")
    jti = models.CharField(max_length=255)
    expires_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["client", "jti"], name="oauth_jti_used_once")]
        indexes = [models.Index(fields=["expires_at"], name="oauth_jti_by_expiry")]

    def __str__(self):
        return f"{self.client_id} {self.jti}"
