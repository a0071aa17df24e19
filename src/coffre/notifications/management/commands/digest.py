"""``coffre digest``: do the night's notification work now, as the scheduler does at night.

Writes the follow-up events due today, finishes a digest run left by a crash, then runs (or, if it
was interrupted, resumes) today's digests. Safe to run again: an enterprise gets one digest a
night. ``--alerts`` also sends the instant alerts not sent yet.
"""

from django.core.management.base import BaseCommand

from coffre.notifications import services, services_alerts


class Command(BaseCommand):
    help = "Run (or resume) tonight's follow-up events and digests now."

    def add_arguments(self, parser):
        parser.add_argument("--alerts", action="store_true", help="also send the pending instant alerts")

    def handle(self, *args, alerts: bool, **options):
        report = services.run_nightly()
        self.stdout.write(
            f"Night {report.night}: {report.follow_ups.reminders} reminder(s) and {report.follow_ups.alerts} "
            f"expiry alert(s) emitted, {report.digests} digest(s) queued"
            + (f" (runs: {', '.join(night.isoformat() for night in report.runs)})" if report.runs else
               " (tonight's run was already done)")
            + "."
        )
        if alerts:
            self.stdout.write(f"{services_alerts.process_instant_alerts()} instant alert(s) queued.")
