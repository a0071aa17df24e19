"""Running Coffre: ``coffre run`` (supervises the HTTP server, the task worker and the scheduler)
and ``coffre scheduler`` (enqueues the periodic tasks of settings.COFFRE_PERIODIC_TASKS)."""
