"""Claims (lease) for delivery, the enqueue mark of the sweep, and each mail's bounce token.

The token is added without its uniqueness first, filled for the mails already queued (one fresh
random value each), then made unique; the reverse drops the columns.
"""

import secrets

from django.db import migrations, models

import coffre.outbox.models


def fill_bounce_tokens(apps, schema_editor):
    OutgoingMail = apps.get_model("outbox", "OutgoingMail")
    for mail in OutgoingMail.objects.filter(bounce_token__isnull=True).only("pk").iterator():
        OutgoingMail.objects.filter(pk=mail.pk).update(bounce_token=secrets.token_hex(16))


class Migration(migrations.Migration):

    dependencies = [
        ("outbox", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="outgoingmail",
            name="failed_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="outgoingmail",
            name="claimed_by",
            field=models.CharField(blank=True, max_length=32, default=""),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="outgoingmail",
            name="claimed_until",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="outgoingmail",
            name="enqueued_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="outgoingmail",
            name="bounce_token",
            field=models.CharField(max_length=32, null=True),
        ),
        migrations.RunPython(fill_bounce_tokens, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="outgoingmail",
            name="bounce_token",
            field=models.CharField(default=coffre.outbox.models.new_bounce_token, max_length=32, unique=True),
        ),
    ]
