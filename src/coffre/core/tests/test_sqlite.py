"""The SQLite backend's write gate: write transactions queue, time out like SQLite, and always let go."""

import threading

import pytest
from django.db.utils import ConnectionHandler, OperationalError

from coffre.core.sqlite.base import WriteGate, gate_for


def _handler(path, timeout=5):
    return ConnectionHandler(
        {
            "default": {
                "ENGINE": "coffre.core.sqlite",
                "NAME": str(path),
                "OPTIONS": {"timeout": timeout, "transaction_mode": "IMMEDIATE"},
            }
        }
    )


def _begin(connection):
    connection.set_autocommit(False, force_begin_transaction_with_broken_autocommit=True)


def _end(connection, commit=True):
    connection.commit() if commit else connection.rollback()
    connection.set_autocommit(True)


def _free(path) -> bool:
    """Whether another process could take the gate now (a second WriteGate is another open file)."""
    probe = WriteGate(str(path) + ".write-gate")
    try:
        probe.acquire(timeout=0)
    except OperationalError:
        return False
    probe.release()
    return True


@pytest.fixture(autouse=True)
def own_databases(django_db_blocker):
    """These tests open databases of their own, beside the test database."""
    with django_db_blocker.unblock():
        yield


@pytest.fixture
def database(tmp_path):
    path = tmp_path / "gate.sqlite3"
    handler = _handler(path)
    with handler["default"].cursor() as cursor:
        cursor.execute("CREATE TABLE item (value INTEGER)")
    handler["default"].close()
    return path


def test_a_second_writer_waits_for_the_first_to_commit(database):
    handler = _handler(database)
    first = handler["default"]
    _begin(first)
    first.cursor().execute("INSERT INTO item VALUES (1)")
    seen = []

    def second_writer():
        connection = handler["default"]  # this thread's own connection
        _begin(connection)
        seen.extend(value for (value,) in connection.cursor().execute("SELECT value FROM item"))
        connection.cursor().execute("INSERT INTO item VALUES (2)")
        _end(connection)
        connection.close()

    thread = threading.Thread(target=second_writer)
    thread.start()
    thread.join(timeout=0.5)
    assert thread.is_alive()  # queued at the gate, not polling SQLite into an error
    _end(first)
    thread.join(timeout=10)
    assert not thread.is_alive()
    assert seen == [1]  # it began after the first transaction committed
    first.close()


def test_waiting_for_the_gate_ends_like_sqlite_busy_timeout(database):
    other_process = WriteGate(str(database) + ".write-gate")  # its own open file: as another process
    other_process.acquire(timeout=1)
    connection = _handler(database, timeout=0.2)["default"]
    with pytest.raises(OperationalError, match="database is locked"):
        _begin(connection)
    other_process.release()
    _begin(connection)
    _end(connection)
    connection.close()


@pytest.mark.parametrize("ending", ["commit", "rollback", "close"])
def test_the_gate_is_released_however_the_transaction_ends(database, ending):
    connection = _handler(database)["default"]
    _begin(connection)
    connection.cursor().execute("INSERT INTO item VALUES (3)")
    assert not _free(database)
    if ending == "close":
        connection.close()
    else:
        _end(connection, commit=ending == "commit")
        connection.close()
    assert _free(database)
    assert not gate_for(str(database))._threads.locked()


def test_a_failed_begin_releases_the_gate(database, monkeypatch):
    connection = _handler(database)["default"]
    connection.ensure_connection()
    monkeypatch.setattr(connection, "transaction_mode", "NOT A MODE")
    with pytest.raises(OperationalError):
        _begin(connection)
    assert _free(database)
    connection.close()


def test_an_in_memory_database_has_no_gate():
    connection = _handler(":memory:")["default"]
    _begin(connection)
    assert connection._held_gate is None
    _end(connection)
    connection.close()


def _statistics(path) -> list:
    import sqlite3

    with sqlite3.connect(path) as raw:
        return raw.execute("SELECT tbl, idx FROM sqlite_stat1 WHERE tbl = 'message'").fetchall()


def _messages_table(path, rows=2000):
    import sqlite3

    with sqlite3.connect(path) as raw:
        raw.execute("CREATE TABLE message (id INTEGER PRIMARY KEY, box INTEGER, received TEXT)")
        raw.execute("CREATE INDEX message_list ON message (box, received DESC)")
        raw.executemany(
            "INSERT INTO message (box, received) VALUES (?, ?)",
            [(n % 20, f"2026-01-{n % 28 + 1:02d}") for n in range(rows)],
        )


def test_a_database_never_analysed_gets_statistics_when_opened(tmp_path):
    path = tmp_path / "stats.sqlite3"
    _messages_table(path)
    connection = _handler(path)["default"]
    connection.ensure_connection()
    connection.close()
    assert ("message", "message_list") in _statistics(path)


def test_closing_a_connection_analyses_tables_it_used_that_have_no_statistics(tmp_path):
    import sqlite3

    path = tmp_path / "stats.sqlite3"
    with sqlite3.connect(path) as raw:
        raw.execute("ANALYZE")  # statistics exist, but not for the table created next
    _messages_table(path)
    connection = _handler(path)["default"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM message WHERE box = 3 ORDER BY received DESC LIMIT 5")
        assert _statistics(path) == []
    connection.close()
    assert ("message", "message_list") in _statistics(path)
