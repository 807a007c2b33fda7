"""
A copy of each excerpt's speaker name, kept by triggers, and the indexes that answer ordering=speaker.
The copy is filled for the excerpts already there before the indexes are built.

Its SQL is written out here, as the code of its day produced it, so that it means the same thing forever;
0012 brings the objects to their current declarations in excerpts/db/.
"""

from django.db import migrations, models

from excerpts.db.operations import InstallDatabaseObjects


def refresh_statistics(apps, schema_editor):
    # A SQLite database with planner statistics (seed_synthetic makes them) has none for the new indexes, and
    # the planner then takes them for the most selective: a list ordered by date walked the speaker index.
    if schema_editor.connection.vendor == "sqlite":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'")
            if cursor.fetchone()[0]:
                cursor.execute("ANALYZE excerpts_excerpt")


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
        InstallDatabaseObjects(
            forwards={
                'sqlite': [
                    "CREATE TRIGGER IF NOT EXISTS excerpts_excerpt_speaker_name_insert AFTER INSERT ON excerpts_excerpt BEGIN UPDATE excerpts_excerpt SET speaker_name = coalesce((SELECT s.name FROM excerpts_speaker s WHERE s.id = NEW.speaker_id), '') WHERE id = NEW.id; END",
                    "CREATE TRIGGER IF NOT EXISTS excerpts_excerpt_speaker_name_update AFTER UPDATE OF speaker_id, speaker_name ON excerpts_excerpt BEGIN UPDATE excerpts_excerpt SET speaker_name = coalesce((SELECT s.name FROM excerpts_speaker s WHERE s.id = NEW.speaker_id), '') WHERE id = NEW.id; END",
                    'CREATE TRIGGER IF NOT EXISTS excerpts_speaker_name_copy_insert AFTER INSERT ON excerpts_speaker BEGIN UPDATE excerpts_excerpt SET speaker_name = NEW.name WHERE speaker_id = NEW.id; END',
                    'CREATE TRIGGER IF NOT EXISTS excerpts_speaker_name_copy_update AFTER UPDATE OF name ON excerpts_speaker WHEN OLD.name IS NOT NEW.name BEGIN UPDATE excerpts_excerpt SET speaker_name = NEW.name WHERE speaker_id = NEW.id; END',
                    "UPDATE excerpts_excerpt SET speaker_name = coalesce((SELECT s.name FROM excerpts_speaker s WHERE s.id = excerpts_excerpt.speaker_id), '')",
                ],
                'postgresql': [
                    """
    CREATE OR REPLACE FUNCTION excerpts_excerpt_speaker_name_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        NEW.speaker_name := coalesce((SELECT s.name FROM excerpts_speaker s WHERE s.id = NEW.speaker_id), '');
        RETURN NEW;
    END
    $$
    """,
                    'CREATE OR REPLACE TRIGGER excerpts_excerpt_speaker_name BEFORE INSERT OR UPDATE OF speaker_id, speaker_name ON excerpts_excerpt FOR EACH ROW EXECUTE FUNCTION excerpts_excerpt_speaker_name_trigger()',
                    """
    CREATE OR REPLACE FUNCTION excerpts_speaker_name_copy_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' OR OLD.name IS DISTINCT FROM NEW.name THEN
            UPDATE excerpts_excerpt SET speaker_name = NEW.name WHERE speaker_id = NEW.id;
        END IF;
        RETURN NULL;
    END
    $$
    """,
                    'CREATE OR REPLACE TRIGGER excerpts_speaker_name_copy AFTER INSERT OR UPDATE OF name ON excerpts_speaker FOR EACH ROW EXECUTE FUNCTION excerpts_speaker_name_copy_trigger()',
                    "UPDATE excerpts_excerpt SET speaker_name = coalesce((SELECT s.name FROM excerpts_speaker s WHERE s.id = excerpts_excerpt.speaker_id), '')",
                ],
            },
            backwards={
                'sqlite': [
                    'DROP TRIGGER IF EXISTS excerpts_excerpt_speaker_name_insert',
                    'DROP TRIGGER IF EXISTS excerpts_excerpt_speaker_name_update',
                    'DROP TRIGGER IF EXISTS excerpts_speaker_name_copy_insert',
                    'DROP TRIGGER IF EXISTS excerpts_speaker_name_copy_update',
                ],
                'postgresql': [
                    'DROP TRIGGER IF EXISTS excerpts_excerpt_speaker_name ON excerpts_excerpt',
                    'DROP TRIGGER IF EXISTS excerpts_speaker_name_copy ON excerpts_speaker',
                    'DROP FUNCTION IF EXISTS excerpts_excerpt_speaker_name_trigger()',
                    'DROP FUNCTION IF EXISTS excerpts_speaker_name_copy_trigger()',
                ],
            },
            description='Install the speaker-name triggers and copy every name',
        ),
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
