"""SQL for the hot paths: INSERT statements built once per process, SELECTs converted by field.

``Model.save()`` and ``bulk_create`` compile their SQL anew on every call: about 0.1 ms of
Python per INSERT before the database does any work, and the statements of a publication run
while SQLite's single writer is held (docs/benchmarks.md). ``insert`` writes the same rows with
the statement text cached per model, column list and database vendor, and the values prepared
exactly as the ORM prepares them (``Field.pre_save`` then ``Field.get_db_prep_save``, so JSON,
dates and decimals are what ``save()`` would store on SQLite and on PostgreSQL alike).

What it does not do, on purpose: no signals (like ``bulk_create``), no validation, no
inheritance. Use it for plain models written by a service that has already checked everything.

The ORM's look-ups cost more still (a SELECT joined over two tables: about 0.4 ms to build
against 0.03 ms to run). ``fetch_one`` and ``fetch_all`` run a written SELECT and convert each
column as the ORM would for the model field it names (``Field.from_db_value`` and the backend's
converters: JSON text, SQLite's date-times and booleans), so that the rows are the same Python
values on SQLite and PostgreSQL. Keep such SQL portable (double-quoted names, ``%s``), next to
the selector that uses it, and covered by a test of that selector.
"""

from collections.abc import Sequence

from django.db import connections
from django.db.models import Field, Model
from django.db.models.expressions import Col

_statements: dict[tuple, tuple[str, list]] = {}


def _statement(model: type[Model], rows: int, vendor: str, conflict: tuple[str, ...], quote) -> tuple[str, list]:
    key = (model, rows, vendor, conflict)
    cached = _statements.get(key)
    if cached is None:
        meta = model._meta
        # Every column but an auto-incremented key (a key given by the caller is written).
        fields = [field for field in meta.concrete_fields if field is not meta.auto_field]
        placeholders = "(" + ", ".join(["%s"] * len(fields)) + ")"
        sql = (
            f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "
            f"VALUES {', '.join([placeholders] * rows)}"
        )
        if conflict:
            columns = ", ".join(quote(meta.get_field(name).column) for name in conflict)
            sql += f" ON CONFLICT ({columns}) DO NOTHING"
        sql += f" RETURNING {quote(meta.pk.column)}"
        cached = _statements[key] = (sql, fields)
    return cached


def insert(instances: list[Model], *, using: str = "default", ignore_conflicts_on: tuple[str, ...] = ()) -> int:
    """Insert unsaved instances of one model in one statement; set their primary keys.

    With ``ignore_conflicts_on`` (the fields of a unique constraint; one instance only), a row
    that would violate the constraint is not inserted: the instance keeps ``pk = None`` and the
    function returns 0. Returns the number of rows inserted.
    """
    if not instances:
        return 0
    if ignore_conflicts_on and len(instances) != 1:
        raise ValueError("ignore_conflicts_on takes one instance at a time")
    connection = connections[using]
    model = type(instances[0])
    sql, fields = _statement(model, len(instances), connection.vendor, ignore_conflicts_on, connection.ops.quote_name)
    params = []
    for instance in instances:
        params += [field.get_db_prep_save(field.pre_save(instance, True), connection) for field in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        returned = cursor.fetchall()
    for instance, (pk,) in zip(instances, returned):
        instance.pk = pk
        instance._state.adding = False
        instance._state.db = using
    return len(returned)


_converters: dict[tuple, list] = {}


def _converters_of(fields: Sequence[Field | None], connection) -> list:
    key = (tuple(fields), connection.vendor)
    cached = _converters.get(key)
    if cached is None:
        cached = []
        for field in fields:
            if field is None:  # a computed column: as the database gives it
                cached.append(None)
                continue
            column = Col(field.model._meta.db_table, field)
            functions = [*connection.ops.get_db_converters(column), *column.get_db_converters(connection)]
            cached.append((column, functions) if functions else None)
        _converters[key] = cached
    return cached


def _converted(row: tuple, converters: list, connection) -> tuple:
    values = list(row)
    for index, converter in enumerate(converters):
        if converter is not None:
            column, functions = converter
            for function in functions:
                values[index] = function(values[index], column, connection)
    return tuple(values)


def fetch_all(sql: str, params: Sequence, fields: Sequence[Field | None], *, using: str = "default") -> list[tuple]:
    """The rows of ``sql``, column ``i`` converted as the model field ``fields[i]`` (None: as is)."""
    connection = connections[using]
    converters = _converters_of(fields, connection)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [_converted(row, converters, connection) for row in cursor.fetchall()]


def fetch_one(sql: str, params: Sequence, fields: Sequence[Field | None], *, using: str = "default") -> tuple | None:
    connection = connections[using]
    converters = _converters_of(fields, connection)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return None if row is None else _converted(row, converters, connection)


def field(model: type[Model], name: str) -> Field:
    return model._meta.get_field(name)
