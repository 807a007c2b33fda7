"""
Many rows written with plain INSERT and UPDATE statements: an import's excerpts and the history entries that
history.record_versions makes.

Django's bulk_create and bulk_update cost more time per row to compile than the database takes to write it (an
import's history entries written with bulk_create doubled its write time), and on SQLite that time is spent
holding the write lock that the API's writers wait for.
"""

import contextlib

from django.db import connection, models

# Rows a PostgreSQL statement writes: its statement-level facet triggers cost more a row as statements grow
# (20,000 rows changed took 28 s to write at 1,000 a statement, 6.5 s at 100).
ROWS_PER_STATEMENT = 100


def chunks(items, size):
    """``items`` (a list) in lists of at most ``size``."""
    return [items[start : start + size] for start in range(0, len(items), size)]


def allocate_ids(model, count):
    """
    ``count`` new primary keys of ``model``'s table, for rows this transaction inserts with them: PostgreSQL's
    sequence hands them out; on SQLite the transaction holds the write lock, so the next ones are free.
    """
    if not count:
        return []
    table, column = model._meta.db_table, model._meta.pk.column
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)", [table, column, count]
            )
            return [row[0] for row in cursor.fetchall()]
        quote = connection.ops.quote_name
        cursor.execute(
            f"SELECT max(coalesce((SELECT max({quote(column)}) FROM {quote(table)}), 0), "
            "coalesce((SELECT seq FROM sqlite_sequence WHERE name = %s), 0))",
            [table],
        )
        start = cursor.fetchone()[0] + 1
    return list(range(start, start + count))


def zip_ids(model, rows):
    """``rows`` (tuples) each with a new primary key of ``model`` in front."""
    return [(pk, *row) for pk, row in zip(allocate_ids(model, len(rows)), rows, strict=True)]


@contextlib.contextmanager
def unlogged_cursor():
    """
    A cursor whose statements DEBUG's query log does not keep: an import's hold a thousand rows each, and the log
    would keep the last 9,000 of them. Errors are Django's, as from any cursor.
    """
    with connection.cursor() as cursor, connection.wrap_database_errors:
        yield cursor.cursor


def _as_is(field):
    """Whether the database driver takes a value of ``field`` as Python holds it: text and whole numbers (ids) do."""
    target = field.target_field if field.is_relation else field
    return isinstance(target, (models.CharField, models.TextField, models.IntegerField))


def _prepared(fields, rows):
    """``rows`` with each value as the database takes it, converting only those that need it (dates, times)."""
    converted = [index for index, field in enumerate(fields) if not _as_is(field)]
    if not converted:
        return rows
    prepared = []
    for row in rows:
        row = list(row)
        for index in converted:
            row[index] = fields[index].get_db_prep_save(row[index], connection)
        prepared.append(row)
    return prepared


def insert_rows(model, names, rows):
    """INSERT ``rows`` (sequences of values, in the order of the fields ``names``) into ``model``'s table."""
    if not rows:
        return
    fields = [model._meta.get_field(name) for name in names]
    quote = connection.ops.quote_name
    head = f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(field.column) for field in fields)}) VALUES "
    row = f"({', '.join(['%s'] * len(fields))})"
    with unlogged_cursor() as cursor:
        if connection.vendor == "sqlite":
            # One prepared statement run per row: SQLite's triggers are per row whatever the statement.
            cursor.executemany(head + row, _prepared(fields, rows))
            return
        # Many rows a statement: PostgreSQL's statement-level triggers (facet counts, data version) run per statement.
        for part in chunks(rows, ROWS_PER_STATEMENT):
            cursor.execute(
                head + ", ".join([row] * len(part)), [value for values in _prepared(fields, part) for value in values]
            )


def update_rows(model, names, instances):
    """UPDATE the columns ``names`` of each of ``instances`` to its values."""
    fields = [model._meta.get_field(name) for name in names]
    quote = connection.ops.quote_name
    table, pk = quote(model._meta.db_table), quote(model._meta.pk.column)
    rows = [[instance.pk, *(getattr(instance, field.attname) for field in fields)] for instance in instances]
    fields = [model._meta.pk, *fields]
    with unlogged_cursor() as cursor:
        if connection.vendor == "sqlite":
            sets = ", ".join(f"{quote(field.column)} = %s" for field in fields[1:])
            cursor.executemany(
                f"UPDATE {table} SET {sets} WHERE {pk} = %s", [[*row[1:], row[0]] for row in _prepared(fields, rows)]
            )
            return
        # One statement for many rows (see insert_rows), from a typed VALUES list.
        columns = [quote(field.column) for field in fields]
        typed = "(" + ", ".join(f"CAST(%s AS {field.db_type(connection)})" for field in fields) + ")"
        sets = ", ".join(f"{column} = v.{column}" for column in columns[1:])
        for part in chunks(rows, ROWS_PER_STATEMENT):
            source = f"(VALUES {', '.join([typed] * len(part))}) AS v ({', '.join(columns)})"
            cursor.execute(
                f"UPDATE {table} SET {sets} FROM {source} WHERE {table}.{pk} = v.{pk}",
                [value for values in _prepared(fields, part) for value in values],
            )
