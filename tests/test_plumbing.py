"""The test-suite plumbing itself: blocked network, own var dir and key, controlled clock."""

import datetime
import socket
import threading
import time
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone

from coffre.core.keys import keyring
from coffre.testing.clock import CLOCK_START
from coffre.testing.network import NetworkBlocked

REPOSITORY = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("address", [("192.0.2.10", 80), ("10.1.2.3", 5432), ("2001:db8::1", 443)])
def test_outbound_connections_are_refused(address):
    family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.settimeout(2)
        with pytest.raises(NetworkBlocked, match=f"connection to '{address[0]}' refused"):
            sock.connect(address)
        with pytest.raises(NetworkBlocked):
            sock.connect_ex(address)


def test_outbound_datagrams_and_name_lookups_are_refused():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        with pytest.raises(NetworkBlocked):
            sock.sendto(b"query", ("192.0.2.53", 53))
    with pytest.raises(socket.gaierror, match="blocked in tests: resolving 'pypi.org' refused"):
        socket.create_connection(("pypi.org", 443), timeout=2)
    for lookup in (socket.getaddrinfo, socket.gethostbyname, socket.gethostbyname_ex, socket.gethostbyaddr):
        with pytest.raises(socket.gaierror, match="blocked in tests"):
            lookup("example.com")
    assert socket.gethostbyname("localhost") == "127.0.0.1"
    assert socket.getfqdn("mail.example.com") == "mail.example.com"  # survives, as offline


def test_loopback_and_unix_sockets_are_allowed(tmp_path):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        with socket.create_connection(("localhost", server.getsockname()[1]), timeout=5) as client:
            accepted, _ = server.accept()
            client.sendall(b"ping")
            assert accepted.recv(4) == b"ping"
            accepted.close()
    path = str(tmp_path / "s.sock")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind(path)
        server.listen(1)
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
            client.connect(path)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        with pytest.raises(ConnectionRefusedError):  # let through: nobody listens there
            sock.connect(("127.0.0.1", port))


def test_each_run_has_its_own_var_dir_and_key():
    var_dir = Path(settings.VAR_DIR)
    assert var_dir.name.startswith("coffre-test-")
    assert not var_dir.is_relative_to(REPOSITORY)
    assert settings.COFFRE_MASTER_KEY
    assert not settings.COFFRE_MASTER_KEY_PATH.exists()  # no key file written
    assert keyring().current.to_b64() == settings.COFFRE_MASTER_KEY


@pytest.mark.django_db
def test_the_sqlite_test_database_is_a_file_in_the_var_dir():
    from django.db import connection

    if connection.vendor != "sqlite":
        assert connection.settings_dict["NAME"].startswith("test_")
        return
    assert connection.settings_dict["NAME"] == str(Path(settings.VAR_DIR) / "coffre.sqlite3")
    assert Path(connection.settings_dict["NAME"]).is_file()


def test_the_clock_is_frozen_until_moved(clock):
    assert clock.now() == CLOCK_START
    time.sleep(0.01)
    assert timezone.now() == CLOCK_START
    assert datetime.datetime.now(datetime.UTC) == CLOCK_START
    assert time.time() == CLOCK_START.timestamp()

    clock.shift(datetime.timedelta(days=15))
    assert timezone.now() == CLOCK_START + datetime.timedelta(days=15)
    clock.shift(90)
    assert timezone.now() == CLOCK_START + datetime.timedelta(days=15, seconds=90)

    clock.move_to("2026-10-25T02:30:00+01:00")
    assert timezone.now() == datetime.datetime(2026, 10, 25, 1, 30, tzinfo=datetime.UTC)

    seen = []
    thread = threading.Thread(target=lambda: seen.append(timezone.now()))
    thread.start()
    thread.join()
    assert seen == [timezone.now()]  # every thread sees the test's time


def test_the_clock_refuses_a_naive_time(clock):
    with pytest.raises(ValueError, match="aware"):
        clock.move_to(datetime.datetime(2026, 1, 1, 12, 0))


def test_without_the_clock_time_is_real():
    assert not time_machine.escape_hatch.is_travelling()  # no test left the clock frozen
    assert timezone.now() > CLOCK_START + datetime.timedelta(days=1)


@pytest.mark.django_db(transaction=True)
def test_the_flush_between_transactional_tests_passes_the_append_only_trail():
    from django.core.management import call_command
    from django.db import DatabaseError, transaction

    from coffre.audit.models import AuditRecord
    from coffre.audit.services import Actor, record

    record(Actor.cli("test"), "plumbing.check")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditRecord.objects.all().delete()  # the trigger is in force during a test

    call_command("flush", interactive=False, verbosity=0)  # what pytest-django runs after this test
    assert AuditRecord.objects.count() == 0

    record(Actor.cli("test"), "plumbing.check")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditRecord.objects.all().delete()  # and in force again after the flush
