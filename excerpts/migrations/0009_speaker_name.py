"""
A copy of each excerpt's speaker name, kept by triggers, and the indexes that answer ordering=speaker
(see excerpts/ordering.py). The copy is filled for the excerpts already there before the indexes are built.
"""

from django.db import migrations, models


def copy_names(apps, schema_editor):
    from excerpts import ordering

    if schema_editor.connection.vendor in ordering.STATEMENTS:
        ordering.install(schema_editor.connection)


def refresh_statistics(apps, schema_editor):
    # A SQLite database with planner statistics (seed_synthetic makes them) has none for the new indexes, and
    # the planner then takes them for the most selective: a list ordered by date walked the speaker index.
    if schema_editor.connection.vendor == "sqlite":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'")
            if cursor.fetchone()[0]:
                cursor.execute("ANALYZE excerpts_excerpt")


def drop_triggers(apps, schema_editor):
    from excerpts import ordering

    if schema_editor.connection.vendor in ordering.STATEMENTS:
        ordering.uninstall(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [
        ("excerpts", "0008_facet_counts"),
    ]

    operations = [
        # Added in SQL: Django would remake the whole table on SQLite for a NOT NULL column, dropping its triggers.
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    "ALTER TABLE excerpts_excerpt ADD COLUMN speaker_name varchar(200) NOT NULL DEFAULT ''",
                    "ALTER TABLE excerpts_excerpt DROP COLUMN speaker_name",
                )
            ],
            state_operations=[
                migrations.AddField(
                    model_name="excerpt",
                    name="speaker_name",
                    field=models.CharField(
                        default="",
                        editable=False,
                        help_text=(
                            "A copy of the speaker's name for ordering=speaker, kept by database triggers "
                            "(ordering.py)."
                        ),
                        max_length=200,
                    ),
                )
            ],
        ),
        migrations.RunPython(copy_names, drop_triggers, elidable=False),
        migrations.AddIndex(
            model_name="excerpt",
            index=models.Index(fields=["speaker_name", "date_start", "id"], name="excerpt_speaker_date_id"),
        ),
        migrations.AddIndex(
            model_name="excerpt",
            index=models.Index(
                fields=["status", "speaker_name", "date_start", "id"], name="excerpt_status_speaker_date_id"
            ),
        ),
        migrations.RunPython(refresh_statistics, migrations.RunPython.noop, elidable=True),
    ]
