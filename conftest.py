"""What every test of Coffre can rely on (fixtures here apply to src/coffre/*/tests and tests/).

Environment (coffre.testing.environment, loaded with ``-p`` before Django's settings):
    each run has its own temporary ``COFFRE_VAR_DIR`` (never ./var) and a generated master key.

Network:
    outbound connections are blocked for the whole run (coffre.testing.network): a socket
    connecting or sending to anything but 127.0.0.0/8, ::1 or a unix socket, or resolving a host
    name other than localhost, raises ``NetworkBlocked``. Servers the tests start listen on
    127.0.0.1.

Database:
    pytest-django's ``db`` / ``transactional_db`` fixtures. SQLite by default; PostgreSQL when
    ``DATABASE_URL=postgres://user:password@host:port/name`` is set (the role needs CREATEDB:
    pytest-django creates and drops ``test_<name>``). With SQLite the test database is a file,
    ``<COFFRE_VAR_DIR>/coffre.sqlite3`` (settings' ``DATABASES["default"]["TEST"]["NAME"]``, from
    ``COFFRE_TEST_SQLITE_NAME``), so that a server in a subprocess can open it; with PostgreSQL
    the subprocess gets a ``DATABASE_URL`` naming the test database. The flush that empties the
    tables after a transactional test sets the append-only triggers aside for that flush only
    (coffre.testing.database); in the tests themselves they are in force.

``clock`` -- a controlled clock (time-machine), frozen until moved::

    def test_reminder(clock):
        clock.move_to("2026-03-02T09:00:00+01:00")   # a datetime or an ISO 8601 string
        ...
        clock.shift(timedelta(days=15))             # or a number of seconds
        assert clock.now() == ...                   # django.utils.timezone.now()

    It starts frozen at ``coffre.testing.clock.CLOCK_START`` (2026-01-15 09:00 UTC); time does
    not pass by itself (``tick=False``), so a test decides every instant. It patches time.time,
    datetime.now & co. in this process (all threads), not in subprocesses, and not
    time.monotonic.

``gunicorn_server`` -- the production HTTP server (gunicorn, coffre/gunicorn_conf.py) started in
    a subprocess on a free port of 127.0.0.1, serving the test database; yields its base URL
    (``"http://127.0.0.1:PORT"``), stopped after the test. It implies ``transactional_db``: what
    the test writes is committed, so the server sees it (and the tables are emptied after the
    test). The static files are collected first (WhiteNoise serves what it finds at start-up),
    and the documents of the test go to a directory of its own, shared by the test and the
    server (the tables are emptied after the test; its files are not, and other tests count
    the files of the default directory). Tests using it are marked ``live``
    (``pytest -m "not live"`` skips them).

``dns_server``, ``silent_nameserver`` -- a DNS server on 127.0.0.1 serving the records the test
    adds, with Coffre's resolver pointed at it; a nameserver that never answers
    (coffre.testing.dns).

``browser``, ``open_page`` -- headless Chromium through Playwright, one fresh browser context per
    person, failing the test on any console error or CSP violation (coffre.testing.browser).
"""

import pytest
from django.core.management import call_command

from coffre.testing.clock import frozen_clock
from coffre.testing.database import allow_flush_past_triggers
from coffre.testing.live import GunicornServer
from coffre.testing.network import block_outbound_network

pytest_plugins = ["coffre.testing.browser", "coffre.testing.dns"]
_static_collected = False


def pytest_configure(config):
    block_outbound_network()
    allow_flush_past_triggers()


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "gunicorn_server" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.live)


@pytest.fixture
def clock():
    travel, clock = frozen_clock()
    try:
        yield clock
    finally:
        travel.stop()


def collect_static_files() -> None:
    """Once a run: the production server serves collected files only (htmx, site.css, site.js)."""
    global _static_collected
    if not _static_collected:
        call_command("collectstatic", interactive=False, verbosity=0)
        _static_collected = True


@pytest.fixture
def gunicorn_server(transactional_db, settings, tmp_path):
    collect_static_files()
    blobs = tmp_path / "blobs"
    settings.STORAGES = {
        **settings.STORAGES,
        "blobs": {**settings.STORAGES["blobs"], "OPTIONS": {"location": str(blobs)}},
    }
    with GunicornServer(env={"COFFRE_BLOB_DIR": str(blobs)}) as server:
        yield server.url
