"""The due index by agent first (agent, next run, id): a claim reads only its agent's due connections
in order, and the agents with connections are found one index lookup each (docs/benchmarks.md)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("agents", "0001_initial"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="connection",
            name="agents_due",
        ),
        migrations.AddIndex(
            model_name="connection",
            index=models.Index(
                condition=models.Q(("next_run_at__isnull", False)),
                fields=["agent_id", "next_run_at", "id"],
                name="agents_due",
            ),
        ),
    ]
