"""
On PostgreSQL, vacuum and analyze the excerpts after 0017 rewrote every row (each search vector computed afresh), as
0014 does after 0012: otherwise the table holds a dead version of each row and the planner's statistics describe the
old vectors. VACUUM cannot run in a transaction, hence a migration of its own, not atomic.
"""

from django.db import migrations


def vacuum(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE excerpts_excerpt")


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("excerpts", "0017_search_parity")]

    operations = [migrations.RunPython(vacuum, migrations.RunPython.noop, elidable=True)]
