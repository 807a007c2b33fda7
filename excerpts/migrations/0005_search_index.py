"""
The full-text search index and the triggers that keep it current (see excerpts/search.py).

SQLite gets an FTS5 table, PostgreSQL a stored tsvector column with a GIN index; each is filled
from the rows already there, so the migration is safe on a populated database.
"""

from django.db import migrations


def create_index(apps, schema_editor):
    from excerpts import search

    if schema_editor.connection.vendor in search.STATEMENTS:
        search.install(schema_editor.connection)


def drop_index(apps, schema_editor):
    from excerpts import search

    if schema_editor.connection.vendor in search.STATEMENTS:
        search.uninstall(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("excerpts", "0004_curators_group")]

    operations = [migrations.RunPython(create_index, drop_index, elidable=False)]
