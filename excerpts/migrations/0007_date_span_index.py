"""
An index on each excerpt's date span (date_end - date_start), so the longest span is one index seek.

Date-range filters use it as a lower bound on date_start (see ExcerptQuerySet.overlapping). Django
cannot express the difference portably (on SQLite it compiles to a Python function), hence raw SQL.
"""

from django.db import migrations

CREATE = {
    "sqlite": "CREATE INDEX IF NOT EXISTS excerpt_date_span ON excerpts_excerpt "
    "((julianday(date_end) - julianday(date_start)))",
    "postgresql": "CREATE INDEX IF NOT EXISTS excerpt_date_span ON excerpts_excerpt ((date_end - date_start))",
}


def create_index(apps, schema_editor):
    sql = CREATE.get(schema_editor.connection.vendor)
    if sql:
        schema_editor.execute(sql)


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor in CREATE:
        schema_editor.execute("DROP INDEX IF EXISTS excerpt_date_span")


class Migration(migrations.Migration):
    dependencies = [("excerpts", "0006_data_version")]

    operations = [migrations.RunPython(create_index, drop_index, elidable=False)]
