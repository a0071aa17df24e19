"""Background work of the notifications (thin wrappers around the services, no arguments)."""

from django_tasks import task

from coffre.notifications import services, services_alerts


@task()
def nightly_digest() -> dict:
    """The night's follow-up events and digests (settings: COFFRE_DIGEST_CRON)."""
    report = services.run_nightly()
    return {"night": report.night.isoformat(), "digests": report.digests,
            "reminders": report.follow_ups.reminders, "alerts": report.follow_ups.alerts}


@task()
def send_instant_alerts() -> int:
    """The instant alerts of the arrivals not told yet (enqueued after a publication)."""
    return services_alerts.process_instant_alerts()


@task()
def notifications_catch_up() -> dict:
    """Periodic: the instant alerts a lost wake-up left, and a digest run whose worker died."""
    return {"digests": services.resume_unfinished(),
            "instant_alerts": services_alerts.process_instant_alerts()}
