"""
The indexes of the date and speaker orders also carry the unindexed filter columns (date_end, kind,
language, attribution, and status on those without it), so that a count or a page of such filters
reads the index alone.

A count of kind, language and a date range walked the date index and read every row it passed
(0.6 s at 1M on SQLite); a filter value that matches nothing read the whole table (1.9 s, by date or
by speaker). The new indexes are built before the old ones go, so each order always has one.
"""

from django.db import migrations, models


def refresh_statistics(apps, schema_editor):
    # A SQLite database with planner statistics has none for new indexes, and the planner then takes them for
    # the most selective (see 0009).
    if schema_editor.connection.vendor == "sqlite":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'")
            if cursor.fetchone()[0]:
                cursor.execute("ANALYZE excerpts_excerpt")


class Migration(migrations.Migration):
    dependencies = [("excerpts", "0010_topic_links_index")]

    operations = [
        migrations.AddIndex(
            model_name="excerpt",
            index=models.Index(
                fields=["date_start", "id", "date_end", "kind", "language", "attribution", "status"],
                name="excerpt_date_covering",
            ),
        ),
        migrations.AddIndex(
            model_name="excerpt",
            index=models.Index(
                fields=["status", "date_start", "id", "date_end", "kind", "language", "attribution"],
                name="excerpt_status_date_covering",
            ),
        ),
        migrations.AddIndex(
            model_name="excerpt",
            index=models.Index(
                fields=["speaker_name", "date_start", "id", "date_end", "kind", "language", "attribution", "status"],
                name="excerpt_speaker_covering",
            ),
        ),
        migrations.AddIndex(
            model_name="excerpt",
            index=models.Index(
                fields=["status", "speaker_name", "date_start", "id", "date_end", "kind", "language", "attribution"],
                name="excerpt_status_speaker_cover",
            ),
        ),
        migrations.RemoveIndex(model_name="excerpt", name="excerpt_date_start_id"),
        migrations.RemoveIndex(model_name="excerpt", name="excerpt_status_date_id"),
        migrations.RemoveIndex(model_name="excerpt", name="excerpt_speaker_date_id"),
        migrations.RemoveIndex(model_name="excerpt", name="excerpt_status_speaker_date_id"),
        migrations.RunPython(refresh_statistics, migrations.RunPython.noop, elidable=True),
    ]
