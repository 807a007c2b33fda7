"""
Django's PostgreSQL backend, with column type changes that keep the triggers naming the column.

PostgreSQL refuses to change the type of a column that a trigger lists (``UPDATE OF text, ...``):
"cannot alter type of a column used in a trigger definition". Around such a change, this editor drops
those triggers and re-creates them exactly as they were, with their comments, so an ordinary AlterField
keeps working.
"""

from typing import Any

from django.db.backends.postgresql import base, schema
from django.db.models import Field, Model

LISTING_TRIGGERS = """
    SELECT t.tgname, pg_get_triggerdef(t.oid), obj_description(t.oid, 'pg_trigger'), t.tgenabled
    FROM pg_trigger t JOIN pg_attribute a ON a.attrelid = t.tgrelid AND a.attnum = ANY (t.tgattr)
    WHERE t.tgrelid = to_regclass(%s) AND a.attname = %s AND NOT t.tgisinternal
"""


class DatabaseSchemaEditor(schema.DatabaseSchemaEditor):
    def _alter_field(
        self,
        model: type[Model],
        old_field: Field,
        new_field: Field,
        old_type: str,
        new_type: str,
        *args: Any,
        **kwargs: Any,
    ) -> None:
        table = model._meta.db_table
        kept = []
        if old_type != new_type and old_field.column == new_field.column:
            with self.connection.cursor() as cursor:
                cursor.execute(LISTING_TRIGGERS, [table, old_field.column])
                kept = cursor.fetchall()
            for name, _, _, _ in kept:
                self.execute(f"DROP TRIGGER {self.quote_name(name)} ON {self.quote_name(table)}", params=None)
        # Django's private method, which django-stubs does not declare.
        super()._alter_field(model, old_field, new_field, old_type, new_type, *args, **kwargs)  # type: ignore[misc]
        for name, definition, comment, enabled in kept:
            self.execute(definition, params=None)
            if comment is not None:
                quoted = self.quote_value(comment)
                self.execute(f"COMMENT ON TRIGGER {self.quote_name(name)} ON {self.quote_name(table)} IS {quoted}")
            if enabled == "D":
                self.execute(
                    f"ALTER TABLE {self.quote_name(table)} DISABLE TRIGGER {self.quote_name(name)}", params=None
                )


class DatabaseWrapper(base.DatabaseWrapper):
    SchemaEditorClass = DatabaseSchemaEditor
