"""Small shared records: rate-limit buckets."""

from django.db import models


class RateLimitBucket(models.Model):
    """Attempts counted for one key (e.g. ``login:email:alice@example.be``) in a fixed window."""

    key = models.CharField(max_length=200, unique=True)
    window_start = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)
