"""
On PostgreSQL, vacuum and analyze the excerpts after 0012 rewrote every row (the search vectors and speaker-name
copies it filled afresh).

Without it the table holds a dead version of each row and the planner's statistics describe the old one: at a
million excerpts the first page of a search for a common term took 1.26 s (median) instead of 0.1 s after it. VACUUM
cannot run in a transaction, hence a migration of its own, not atomic.
"""

from django.db import migrations


def vacuum(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE excerpts_excerpt")


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("excerpts", "0013_bulk_history_topics")]

    operations = [migrations.RunPython(vacuum, migrations.RunPython.noop, elidable=True)]
