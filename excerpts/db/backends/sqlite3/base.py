"""
Django's SQLite backend, with table remakes that keep the triggers and indexes Django does not manage, and a
cursor that converts each distinct query's placeholders once per process.

SQLite cannot alter most columns, so Django remakes the table: it creates a copy, moves the rows, drops
the original and renames the copy. That drops the table's triggers and the indexes Django does not know
of (``excerpt_date_span``), and a trigger on another table that names the remade one stops the rename
("error in trigger ...: no such table"). Around each remake, this editor sets those triggers and indexes
aside and re-creates them exactly as they were, so an ordinary AddField or AlterField keeps working.
"""

import functools
import re
import sqlite3
from typing import Any

from django.db.backends.sqlite3 import base, schema
from django.db.models import Field, Model


class DatabaseSchemaEditor(schema.DatabaseSchemaEditor):
    def _remake_table(
        self,
        model: type[Model],
        create_field: Field | None = None,
        delete_field: Field | None = None,
        alter_fields: list[tuple[Field, Field]] | None = None,
    ) -> None:
        kept = self._set_aside(model)
        # _remake_table and _model_indexes_sql are Django's private methods, which django-stubs does not declare.
        super()._remake_table(  # type: ignore[misc]
            model, create_field=create_field, delete_field=delete_field, alter_fields=alter_fields
        )
        for name, sql in kept:
            if not self._exists(name):  # a unique_together index, re-created by Django under the same name
                self.execute(sql, params=None)

    def _set_aside(self, model: type[Model]) -> list[tuple[str, str]]:
        """Drop every trigger that names the model's table; list them and its unmanaged indexes, to re-create."""
        table = model._meta.db_table
        # Django re-creates (or, for a removed field, drops) the indexes it manages itself.
        indexes = self._model_indexes_sql(model)  # type: ignore[attr-defined]
        managed = {str(statement.parts["name"]).strip('"') for statement in indexes}
        managed.update(constraint.name for constraint in model._meta.constraints)
        mentions = re.compile(rf"\b{re.escape(table)}\b", re.IGNORECASE)
        with self.connection.cursor() as cursor:
            cursor.execute(
                "SELECT type, name, tbl_name, sql FROM sqlite_master "
                "WHERE type IN ('trigger', 'index') AND sql IS NOT NULL ORDER BY type DESC, rowid"
            )
            rows = cursor.fetchall()
        kept = []
        for kind, name, owner, sql in rows:
            if kind == "trigger" and mentions.search(sql):
                self.execute(f"DROP TRIGGER {self.quote_name(name)}", params=None)
                kept.append((name, sql))
            elif kind == "index" and owner == table and name not in managed:
                kept.append((name, sql))  # goes with the old table, unknown to Django
        return kept

    def _exists(self, name: str) -> bool:
        with self.connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM sqlite_master WHERE name = %s", [name])
            return cursor.fetchone() is not None


@functools.lru_cache(maxsize=512)
def qmark(query: str) -> str:
    """A query in Django's "format" style (``%s``) in SQLite's "qmark" style (``?``), as Django converts it."""
    return base.FORMAT_QMARK_REGEX.sub("?", query).replace("%%", "%")


class SQLiteCursorWrapper(base.SQLiteCursorWrapper):
    """
    Django's cursor, converting each distinct query's placeholders once per process instead of at every execute:
    the regular expression over a page's five-table join (60 columns) was 3% of reading one excerpt.
    """

    def convert_query(self, query: str, *, param_names: list[str] | None = None) -> str:
        if param_names is None:
            return qmark(query)
        # convert_query is Django's, which django-stubs does not declare.
        return super().convert_query(query, param_names=param_names)  # type: ignore[misc]


class DatabaseWrapper(base.DatabaseWrapper):
    SchemaEditorClass = DatabaseSchemaEditor

    def create_cursor(self, name: str | None = None) -> SQLiteCursorWrapper:
        return self.connection.cursor(factory=SQLiteCursorWrapper)

    def get_new_connection(self, conn_params: dict[str, Any]) -> sqlite3.Connection:
        connection = super().get_new_connection(conn_params)
        use_wal(connection)
        return connection


def use_wal(connection: sqlite3.Connection) -> None:
    """
    Put the database in WAL mode (readers beside the writer), unless it is already or cannot be written.

    WAL mode is kept in the file, so this writes once per database. Setting it at every connect, as an
    ``init_command`` would, needs write access and would make a read-only file refuse its reads too.
    """
    if connection.execute("PRAGMA journal_mode").fetchone()[0] in ("wal", "memory"):
        return
    try:
        connection.execute("PRAGMA journal_mode=WAL")
    except sqlite3.OperationalError as error:
        if error.sqlite_errorcode & 0xFF != sqlite3.SQLITE_READONLY:
            raise
