"""
The data version that cached facet counts and list totals are keyed by, and the triggers that change
it on every write (see excerpts/caching.py).
"""

from django.db import migrations


def create_version(apps, schema_editor):
    from excerpts import caching

    if schema_editor.connection.vendor in caching.STATEMENTS:
        caching.install(schema_editor.connection)


def drop_version(apps, schema_editor):
    from excerpts import caching

    if schema_editor.connection.vendor in caching.STATEMENTS:
        caching.uninstall(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("excerpts", "0005_search_index")]

    operations = [migrations.RunPython(create_version, drop_version, elidable=False)]
