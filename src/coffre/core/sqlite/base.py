"""Django's SQLite backend with a write gate: write transactions queue instead of polling.

With ``transaction_mode=IMMEDIATE`` every transaction takes SQLite's write lock when it begins.
A connection that finds the lock taken gets SQLITE_BUSY, and SQLite's busy handler retries after
sleeping 1, 2, 5, 10, 15, 20, 25, ... 100 ms: under concurrent writes (several gunicorn threads
and processes publishing), the lock sits unused while the waiters sleep, and a publication waits
tens of milliseconds for a lock held for one.

The gate makes them queue instead. Before ``BEGIN`` a thread takes a lock shared by the threads
of its process (they wake as soon as it is released), then an exclusive ``flock`` on
``<database>.write-gate`` shared by the processes (polled every 0.1 to 1 ms); it lets go after
``COMMIT`` or ``ROLLBACK``. The gate only orders who asks SQLite first: SQLite's own locking
still decides, so a write outside a transaction, or another program, stays correct. Waiting for
the gate is bounded by the connection's ``timeout``, as SQLite's busy timeout is, and ends with
the same "database is locked" error. In-memory databases (tests) have no gate.

It also keeps the query planner's statistics, as SQLite advises for long-lived databases: without
them the planner reads the index on (e-Box, expiry) and sorts a whole e-Box to show one page of
it, instead of walking the index on (e-Box, receipt date) (docs/benchmarks.md). A connection to a
database that has never been analysed runs ``ANALYZE`` when it opens; every connection runs
``PRAGMA optimize`` when it closes, which analyses again the tables whose size changed a lot.
``analysis_limit`` makes both sample a few hundred rows per index: milliseconds on millions of
rows.
"""

import contextlib
import fcntl
import os
import threading
import time

from django.db.backends.sqlite3 import base
from django.db.utils import OperationalError


class WriteGate:
    """A lock over the write transactions of every thread and process using one database file."""

    def __init__(self, path: str):
        self.path = path
        self._threads = threading.Lock()
        self._fd: int | None = None
        self._fd_pid: int | None = None

    def _file(self) -> int:
        if self._fd is None or self._fd_pid != os.getpid():  # a forked child opens its own
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            self._fd_pid = os.getpid()
        return self._fd

    def acquire(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        if not self._threads.acquire(timeout=timeout):
            raise OperationalError("database is locked")
        try:
            fd, pause = self._file(), 0.0001
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    return
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise OperationalError("database is locked") from None
                    time.sleep(pause)
                    pause = min(pause * 2, 0.001)
        except BaseException:
            self._threads.release()
            raise

    def release(self) -> None:
        try:
            fcntl.flock(self._file(), fcntl.LOCK_UN)
        finally:
            self._threads.release()


_gates: dict[str, WriteGate] = {}
_gates_lock = threading.Lock()


def gate_for(database_path: str) -> WriteGate:
    path = os.path.abspath(database_path) + ".write-gate"
    with _gates_lock:
        return _gates.setdefault(path, WriteGate(path))


class DatabaseWrapper(base.DatabaseWrapper):
    _held_gate: WriteGate | None = None

    def get_new_connection(self, conn_params):
        connection = super().get_new_connection(conn_params)
        if not self.is_in_memory_db():
            connection.execute("PRAGMA analysis_limit=400")
            if (
                connection.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'").fetchone()
                is None
            ):
                connection.execute("ANALYZE")
        return connection

    def _gate(self) -> WriteGate | None:
        if self.is_in_memory_db():
            return None
        return gate_for(str(self.settings_dict["NAME"]))

    def _start_transaction_under_autocommit(self):
        gate = self._gate()
        if gate is not None and self._held_gate is None:
            gate.acquire(float(self.settings_dict["OPTIONS"].get("timeout", 5)))
            self._held_gate = gate
        try:
            super()._start_transaction_under_autocommit()
        except BaseException:
            self._release_gate()
            raise

    def _release_gate(self) -> None:
        gate, self._held_gate = self._held_gate, None
        if gate is not None:
            gate.release()

    def _commit(self):
        try:
            return super()._commit()
        finally:
            self._release_gate()

    def _rollback(self):
        try:
            return super()._rollback()
        finally:
            self._release_gate()

    def _close(self):
        if self.connection is not None and self._held_gate is None:
            with contextlib.suppress(base.Database.Error):  # statistics are never worth an error
                self.connection.execute("PRAGMA optimize")
        try:
            return super()._close()
        finally:
            self._release_gate()
