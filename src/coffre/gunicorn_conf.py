"""Gunicorn configuration of Coffre's production HTTP server (``gunicorn -c python:coffre.gunicorn_conf``).

Started by ``coffre run``; every value comes from the environment (docs/configuration.md):
COFFRE_BIND (default 127.0.0.1:8000, comma-separated for several), COFFRE_WEB_WORKERS (default
2 x cores + 1, at most 12), COFFRE_WEB_THREADS (default 4), COFFRE_WEB_TIMEOUT (default 60 s).
Threaded workers (gthread): uploads and downloads are streamed, and a slow client holds a thread,
not a process. Access and error logs go to stderr.
"""

import logging
import os
import sys

from gunicorn.glogging import Logger

from coffre.core.env import env_bool, env_int, env_list, env_str

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coffre.settings")

bind = env_list("COFFRE_BIND", ["127.0.0.1:8000"])
worker_class = "gthread"
workers = env_int("COFFRE_WEB_WORKERS", min(2 * (os.cpu_count() or 1) + 1, 12), minimum=1)
threads = env_int("COFFRE_WEB_THREADS", 4, minimum=1)

# A worker that does not report for `timeout` seconds is killed and replaced (its threads keep
# reporting while a request runs); on a stop, requests in flight get `graceful_timeout` to finish.
timeout = env_int("COFFRE_WEB_TIMEOUT", 60, minimum=1)
graceful_timeout = 30
keepalive = 5

# Refuse oversized request heads early (the body limit is COFFRE_MAX_REQUEST_BYTES, in Django).
limit_request_line = 8190
limit_request_fields = 100
limit_request_field_size = 8190

proc_name = "coffre-web"
forwarded_allow_ips = env_str("COFFRE_FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
# Worker heartbeats in memory rather than on a disk that may be slow.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
# The control socket lives at one fixed path per user: several servers would fight over it.
control_socket_disable = True

accesslog = "-" if env_bool("COFFRE_WEB_ACCESS_LOG", True) else None
errorlog = "-"
loglevel = env_str("COFFRE_LOG_LEVEL", "info").lower()


class StderrLogger(Logger):
    """Gunicorn's logger with the access log on stderr (gunicorn writes it to stdout for "-")."""

    def setup(self, cfg):
        super().setup(cfg)
        for handler in self.access_log.handlers:
            if getattr(handler, "_gunicorn", False) and isinstance(handler, logging.StreamHandler):
                handler.setStream(sys.stderr)


logger_class = StderrLogger
