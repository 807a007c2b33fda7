"""
The data version that cached facet counts and list totals are keyed by, and the triggers that change
it on every write.

Its SQL is written out here, as the code of its day produced it, so that it means the same thing forever;
0012 brings the objects to their current declarations in excerpts/db/.
"""

from django.db import migrations

from excerpts.db.operations import InstallDatabaseObjects


class Migration(migrations.Migration):
    dependencies = [("excerpts", "0005_search_index")]

    operations = [
        InstallDatabaseObjects(
            forwards={
                'sqlite': [
                    'CREATE TABLE IF NOT EXISTS excerpts_data_version (id integer PRIMARY KEY CHECK (id = 1), version integer NOT NULL)',
                    'INSERT OR IGNORE INTO excerpts_data_version (id, version) VALUES (1, 0)',
                    'CREATE TRIGGER IF NOT EXISTS excerpts_excerpt_version_insert AFTER INSERT ON excerpts_excerpt BEGIN UPDATE excerpts_data_version SET version = version + 1; END',
                    'CREATE TRIGGER IF NOT EXISTS excerpts_excerpt_version_update AFTER UPDATE ON excerpts_excerpt BEGIN UPDATE excerpts_data_version SET version = version + 1; END',
                    'CREATE TRIGGER IF NOT EXISTS excerpts_excerpt_version_delete AFTER DELETE ON excerpts_excerpt BEGIN UPDATE excerpts_data_version SET version = version + 1; END',
                    'CREATE TRIGGER IF NOT EXISTS excerpts_excerpt_topics_version_insert AFTER INSERT ON excerpts_excerpt_topics BEGIN UPDATE excerpts_data_version SET version = version + 1; END',
                    'CREATE TRIGGER IF NOT EXISTS excerpts_excerpt_topics_version_update AFTER UPDATE ON excerpts_excerpt_topics BEGIN UPDATE excerpts_data_version SET version = version + 1; END',
                    'CREATE TRIGGER IF NOT EXISTS excerpts_excerpt_topics_version_delete AFTER DELETE ON excerpts_excerpt_topics BEGIN UPDATE excerpts_data_version SET version = version + 1; END',
                    'CREATE TRIGGER IF NOT EXISTS excerpts_speaker_version_insert AFTER INSERT ON excerpts_speaker BEGIN UPDATE excerpts_data_version SET version = version + 1; END',
                    'CREATE TRIGGER IF NOT EXISTS excerpts_speaker_version_update AFTER UPDATE ON excerpts_speaker BEGIN UPDATE excerpts_data_version SET version = version + 1; END',
                    'CREATE TRIGGER IF NOT EXISTS excerpts_speaker_version_delete AFTER DELETE ON excerpts_speaker BEGIN UPDATE excerpts_data_version SET version = version + 1; END',
                    'CREATE TRIGGER IF NOT EXISTS excerpts_source_version_insert AFTER INSERT ON excerpts_source BEGIN UPDATE excerpts_data_version SET version = version + 1; END',
                    'CREATE TRIGGER IF NOT EXISTS excerpts_source_version_update AFTER UPDATE ON excerpts_source BEGIN UPDATE excerpts_data_version SET version = version + 1; END',
                    'CREATE TRIGGER IF NOT EXISTS excerpts_source_version_delete AFTER DELETE ON excerpts_source BEGIN UPDATE excerpts_data_version SET version = version + 1; END',
                    'CREATE TRIGGER IF NOT EXISTS excerpts_topic_version_insert AFTER INSERT ON excerpts_topic BEGIN UPDATE excerpts_data_version SET version = version + 1; END',
                    'CREATE TRIGGER IF NOT EXISTS excerpts_topic_version_update AFTER UPDATE ON excerpts_topic BEGIN UPDATE excerpts_data_version SET version = version + 1; END',
                    'CREATE TRIGGER IF NOT EXISTS excerpts_topic_version_delete AFTER DELETE ON excerpts_topic BEGIN UPDATE excerpts_data_version SET version = version + 1; END',
                    'CREATE TRIGGER IF NOT EXISTS excerpts_event_version_insert AFTER INSERT ON excerpts_event BEGIN UPDATE excerpts_data_version SET version = version + 1; END',
                    'CREATE TRIGGER IF NOT EXISTS excerpts_event_version_update AFTER UPDATE ON excerpts_event BEGIN UPDATE excerpts_data_version SET version = version + 1; END',
                    'CREATE TRIGGER IF NOT EXISTS excerpts_event_version_delete AFTER DELETE ON excerpts_event BEGIN UPDATE excerpts_data_version SET version = version + 1; END',
                ],
                'postgresql': [
                    'CREATE TABLE IF NOT EXISTS excerpts_data_version (transaction_id bigint PRIMARY KEY, writes bigint NOT NULL DEFAULT 1)',
                    """
    CREATE OR REPLACE FUNCTION excerpts_data_version_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO excerpts_data_version AS v (transaction_id) VALUES (txid_current())
            ON CONFLICT (transaction_id) DO UPDATE SET writes = v.writes + 1;
        RETURN NULL;
    END
    $$
    """,
                    'CREATE OR REPLACE TRIGGER excerpts_excerpt_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON excerpts_excerpt FOR EACH STATEMENT EXECUTE FUNCTION excerpts_data_version_trigger()',
                    'CREATE OR REPLACE TRIGGER excerpts_excerpt_topics_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON excerpts_excerpt_topics FOR EACH STATEMENT EXECUTE FUNCTION excerpts_data_version_trigger()',
                    'CREATE OR REPLACE TRIGGER excerpts_speaker_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON excerpts_speaker FOR EACH STATEMENT EXECUTE FUNCTION excerpts_data_version_trigger()',
                    'CREATE OR REPLACE TRIGGER excerpts_source_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON excerpts_source FOR EACH STATEMENT EXECUTE FUNCTION excerpts_data_version_trigger()',
                    'CREATE OR REPLACE TRIGGER excerpts_topic_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON excerpts_topic FOR EACH STATEMENT EXECUTE FUNCTION excerpts_data_version_trigger()',
                    'CREATE OR REPLACE TRIGGER excerpts_event_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON excerpts_event FOR EACH STATEMENT EXECUTE FUNCTION excerpts_data_version_trigger()',
                ],
            },
            backwards={
                'sqlite': [
                    'DROP TRIGGER IF EXISTS excerpts_excerpt_version_insert',
                    'DROP TRIGGER IF EXISTS excerpts_excerpt_version_update',
                    'DROP TRIGGER IF EXISTS excerpts_excerpt_version_delete',
                    'DROP TRIGGER IF EXISTS excerpts_excerpt_topics_version_insert',
                    'DROP TRIGGER IF EXISTS excerpts_excerpt_topics_version_update',
                    'DROP TRIGGER IF EXISTS excerpts_excerpt_topics_version_delete',
                    'DROP TRIGGER IF EXISTS excerpts_speaker_version_insert',
                    'DROP TRIGGER IF EXISTS excerpts_speaker_version_update',
                    'DROP TRIGGER IF EXISTS excerpts_speaker_version_delete',
                    'DROP TRIGGER IF EXISTS excerpts_source_version_insert',
                    'DROP TRIGGER IF EXISTS excerpts_source_version_update',
                    'DROP TRIGGER IF EXISTS excerpts_source_version_delete',
                    'DROP TRIGGER IF EXISTS excerpts_topic_version_insert',
                    'DROP TRIGGER IF EXISTS excerpts_topic_version_update',
                    'DROP TRIGGER IF EXISTS excerpts_topic_version_delete',
                    'DROP TRIGGER IF EXISTS excerpts_event_version_insert',
                    'DROP TRIGGER IF EXISTS excerpts_event_version_update',
                    'DROP TRIGGER IF EXISTS excerpts_event_version_delete',
                    'DROP TABLE IF EXISTS excerpts_data_version',
                ],
                'postgresql': [
                    'DROP TRIGGER IF EXISTS excerpts_excerpt_version ON excerpts_excerpt',
                    'DROP TRIGGER IF EXISTS excerpts_excerpt_topics_version ON excerpts_excerpt_topics',
                    'DROP TRIGGER IF EXISTS excerpts_speaker_version ON excerpts_speaker',
                    'DROP TRIGGER IF EXISTS excerpts_source_version ON excerpts_source',
                    'DROP TRIGGER IF EXISTS excerpts_topic_version ON excerpts_topic',
                    'DROP TRIGGER IF EXISTS excerpts_event_version ON excerpts_event',
                    'DROP FUNCTION IF EXISTS excerpts_data_version_trigger()',
                    'DROP TABLE IF EXISTS excerpts_data_version',
                ],
            },
            description='Install the data version and its triggers',
        ),
    ]
