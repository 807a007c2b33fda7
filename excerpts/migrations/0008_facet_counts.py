"""
The facet summary table, its triggers, and the counts of the excerpts already there (see excerpts/facets.py).

Whole-corpus facets read it instead of grouping every excerpt eight times.
"""

from django.db import migrations


def create_summary(apps, schema_editor):
    from excerpts import facets

    if schema_editor.connection.vendor in facets.STATEMENTS:
        facets.install(schema_editor.connection)


def drop_summary(apps, schema_editor):
    from excerpts import facets

    if schema_editor.connection.vendor in facets.STATEMENTS:
        facets.uninstall(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("excerpts", "0007_date_span_index")]

    operations = [migrations.RunPython(create_summary, drop_summary, elidable=False)]
