"""The list index also holds the expiry (deep pages skip expired messages on the index alone),
and the table is analysed again so that the planner knows the new index at once."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('mailbox', '0002_ebox_notification_settings'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='message',
            name='message_list',
        ),
        migrations.AddIndex(
            model_name='message',
            index=models.Index(fields=['ebox', '-receipt_date', '-id', 'expiration_date'], name='message_list'),
        ),
        migrations.RunSQL("ANALYZE mailbox_message", reverse_sql=migrations.RunSQL.noop),
    ]
