"""The project's own periodic tasks are declared and enqueued."""

import io

from django.core.management import call_command
from django_tasks_db.models import DBTaskResult


def test_the_project_schedule_enqueues_its_maintenance_tasks(db, clock):
    call_command("scheduler", "--once", stdout=io.StringIO())
    enqueued = set(DBTaskResult.objects.values_list("task_path", flat=True))
    assert enqueued == {
        "coffre.mailbox.tasks.cleanup_orphan_blobs",
        "coffre.oauth.tasks.purge_expired_oauth_records",
        "coffre.notifications.tasks.notifications_catch_up",
        "coffre.outbox.tasks.enqueue_due_mail",
        "coffre.intake.tasks.expire_pending_mails",
        "coffre.intake.imap.tasks.poll_due_sources",
        "coffre.agents.tasks.sync_due_connections",
    }  # the nightly digest is not due at 10:00 (coffre.notifications.tests.test_tasks)
