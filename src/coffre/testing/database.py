"""Let pytest-django empty the tables between transactional tests despite the append-only triggers.

After each ``transactional_db`` test (and so each ``gunicorn_server`` test) Django flushes every
table: TRUNCATE on PostgreSQL, DELETE on SQLite. The audit trail's triggers (audit migration
0002) refuse both, as they should in production. In tests only, the flush is wrapped so that the
user triggers of the flushed tables are set aside for the flush and restored in the same
transaction: PostgreSQL ``ALTER TABLE ... DISABLE/ENABLE TRIGGER USER``; SQLite has no such
switch, so the triggers are dropped and created again from their own SQL. During the tests
themselves every trigger is in force.
"""

from django.db import connections

_original = {}


def _postgres_sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
    statements = _original[type(self)](
        self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade
    )
    if not statements:
        return statements
    with self.connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE NOT t.tgisinternal AND c.relname = ANY(%s)",
            [list(tables)],
        )
        guarded = sorted(row[0] for row in cursor.fetchall())
    quote = self.quote_name
    return (
        [f"ALTER TABLE {quote(table)} DISABLE TRIGGER USER;" for table in guarded]
        + statements
        + [f"ALTER TABLE {quote(table)} ENABLE TRIGGER USER;" for table in guarded]
    )


def _sqlite_sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
    statements = _original[type(self)](
        self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade
    )
    if not statements:
        return statements
    placeholders = ", ".join("%s" for _ in tables)
    with self.connection.cursor() as cursor:
        cursor.execute(
            f"SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN ({placeholders}) "
            "ORDER BY name",
            list(tables),
        )
        triggers = cursor.fetchall()
    return (
        [f"DROP TRIGGER {self.quote_name(name)};" for name, _ in triggers]
        + statements
        + [f"{sql};" for _, sql in triggers]
    )


def allow_flush_past_triggers() -> None:
    """Wrap the ``sql_flush`` of the database backends in use (PostgreSQL, SQLite)."""
    wrappers = {"postgresql": _postgres_sql_flush, "sqlite": _sqlite_sql_flush}
    for connection in connections.all(initialized_only=False):
        operations = type(connection.ops)
        if connection.vendor in wrappers and operations not in _original:
            _original[operations] = operations.sql_flush
            operations.sql_flush = wrappers[connection.vendor]
