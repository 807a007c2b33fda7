"""
The full-text search index and the triggers that keep it current.

SQLite gets an FTS5 table, PostgreSQL a stored tsvector column with a GIN index; each is filled
from the rows already there, so the migration is safe on a populated database.

Its SQL is written out here, as the code of its day produced it, so that it means the same thing forever;
0012 brings the objects to their current declarations in excerpts/db/.
"""

from django.db import migrations

from excerpts.db.operations import InstallDatabaseObjects


class Migration(migrations.Migration):
    dependencies = [("excerpts", "0004_curators_group")]

    operations = [
        InstallDatabaseObjects(
            forwards={
                'sqlite': [
                    'DROP TRIGGER IF EXISTS excerpts_excerpt_search_insert',
                    'DROP TRIGGER IF EXISTS excerpts_excerpt_search_update',
                    'DROP TRIGGER IF EXISTS excerpts_excerpt_search_delete',
                    'DROP TRIGGER IF EXISTS excerpts_speaker_search_insert',
                    'DROP TRIGGER IF EXISTS excerpts_speaker_search_update',
                    'DROP TRIGGER IF EXISTS excerpts_source_search_insert',
                    'DROP TRIGGER IF EXISTS excerpts_source_search_update',
                    'DROP TABLE IF EXISTS excerpts_excerpt_search',
                    "CREATE VIRTUAL TABLE excerpts_excerpt_search USING fts5(text, original_text, context, speaker, source_title, tokenize = 'porter unicode61 remove_diacritics 2')",
                    "INSERT INTO excerpts_excerpt_search(excerpts_excerpt_search, rank) VALUES ('rank', 'bm25(4.0, 1.0, 1.0, 2.0, 2.0)')",
                    "CREATE TRIGGER excerpts_excerpt_search_insert AFTER INSERT ON excerpts_excerpt BEGIN INSERT INTO excerpts_excerpt_search(rowid, text, original_text, context, speaker, source_title) SELECT NEW.id, NEW.text, NEW.original_text, NEW.context, (SELECT sp.name || ' ' || coalesce((SELECT group_concat(value, ' ') FROM json_each(sp.aliases)), '') FROM excerpts_speaker sp WHERE sp.id = NEW.speaker_id), (SELECT so.title FROM excerpts_source so WHERE so.id = NEW.source_id); END",
                    "CREATE TRIGGER excerpts_excerpt_search_update AFTER UPDATE OF text, original_text, context, speaker_id, source_id ON excerpts_excerpt BEGIN DELETE FROM excerpts_excerpt_search WHERE rowid = OLD.id; INSERT INTO excerpts_excerpt_search(rowid, text, original_text, context, speaker, source_title) SELECT NEW.id, NEW.text, NEW.original_text, NEW.context, (SELECT sp.name || ' ' || coalesce((SELECT group_concat(value, ' ') FROM json_each(sp.aliases)), '') FROM excerpts_speaker sp WHERE sp.id = NEW.speaker_id), (SELECT so.title FROM excerpts_source so WHERE so.id = NEW.source_id); END",
                    'CREATE TRIGGER excerpts_excerpt_search_delete AFTER DELETE ON excerpts_excerpt BEGIN DELETE FROM excerpts_excerpt_search WHERE rowid = OLD.id; END',
                    "CREATE TRIGGER excerpts_speaker_search_insert AFTER INSERT ON excerpts_speaker BEGIN UPDATE excerpts_excerpt_search SET speaker = (SELECT sp.name || ' ' || coalesce((SELECT group_concat(value, ' ') FROM json_each(sp.aliases)), '') FROM excerpts_speaker sp WHERE sp.id = NEW.id) WHERE rowid IN (SELECT id FROM excerpts_excerpt WHERE speaker_id = NEW.id); END",
                    "CREATE TRIGGER excerpts_speaker_search_update AFTER UPDATE OF name, aliases ON excerpts_speaker WHEN OLD.name IS NOT NEW.name OR OLD.aliases IS NOT NEW.aliases BEGIN UPDATE excerpts_excerpt_search SET speaker = (SELECT sp.name || ' ' || coalesce((SELECT group_concat(value, ' ') FROM json_each(sp.aliases)), '') FROM excerpts_speaker sp WHERE sp.id = NEW.id) WHERE rowid IN (SELECT id FROM excerpts_excerpt WHERE speaker_id = NEW.id); END",
                    'CREATE TRIGGER excerpts_source_search_insert AFTER INSERT ON excerpts_source BEGIN UPDATE excerpts_excerpt_search SET source_title = NEW.title WHERE rowid IN (SELECT id FROM excerpts_excerpt WHERE source_id = NEW.id); END',
                    'CREATE TRIGGER excerpts_source_search_update AFTER UPDATE OF title ON excerpts_source WHEN OLD.title IS NOT NEW.title BEGIN UPDATE excerpts_excerpt_search SET source_title = NEW.title WHERE rowid IN (SELECT id FROM excerpts_excerpt WHERE source_id = NEW.id); END',
                    "INSERT INTO excerpts_excerpt_search(rowid, text, original_text, context, speaker, source_title) SELECT e.id, e.text, e.original_text, e.context, (SELECT sp.name || ' ' || coalesce((SELECT group_concat(value, ' ') FROM json_each(sp.aliases)), '') FROM excerpts_speaker sp WHERE sp.id = e.speaker_id), (SELECT so.title FROM excerpts_source so WHERE so.id = e.source_id) FROM excerpts_excerpt e",
                    "INSERT INTO excerpts_excerpt_search(excerpts_excerpt_search) VALUES ('optimize')",
                ],
                'postgresql': [
                    'DROP TRIGGER IF EXISTS excerpts_excerpt_search ON excerpts_excerpt',
                    'DROP TRIGGER IF EXISTS excerpts_speaker_search ON excerpts_speaker',
                    'DROP TRIGGER IF EXISTS excerpts_source_search ON excerpts_source',
                    'DROP FUNCTION IF EXISTS excerpts_excerpt_search_trigger()',
                    'DROP FUNCTION IF EXISTS excerpts_speaker_search_trigger()',
                    'DROP FUNCTION IF EXISTS excerpts_source_search_trigger()',
                    'DROP FUNCTION IF EXISTS excerpts_search_document(text, text, text, bigint, bigint)',
                    'DROP INDEX IF EXISTS excerpt_search_vector',
                    'ALTER TABLE excerpts_excerpt DROP COLUMN IF EXISTS search_vector',
                    'ALTER TABLE excerpts_excerpt ADD COLUMN search_vector tsvector',
                    'CREATE INDEX excerpt_search_vector ON excerpts_excerpt USING gin (search_vector)',
                    """
    CREATE FUNCTION excerpts_search_document(
        body text, original text, note text, speaker bigint, source bigint
    ) RETURNS tsvector LANGUAGE sql STABLE AS $$
        SELECT setweight(to_tsvector('english', coalesce(body, '')), 'A')
            || setweight(coalesce((
                SELECT to_tsvector('english', sp.name) || to_tsvector('english', sp.aliases)
                FROM excerpts_speaker sp WHERE sp.id = speaker), ''::tsvector), 'B')
            || setweight(coalesce((
                SELECT to_tsvector('english', so.title) FROM excerpts_source so WHERE so.id = source
            ), ''::tsvector), 'B')
            || setweight(to_tsvector('english', coalesce(note, '')), 'C')
            || setweight(to_tsvector('english', coalesce(original, '')), 'D')
    $$
    """,
                    """
    CREATE FUNCTION excerpts_excerpt_search_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        NEW.search_vector := excerpts_search_document(
            NEW.text, NEW.original_text, NEW.context, NEW.speaker_id, NEW.source_id);
        RETURN NEW;
    END
    $$
    """,
                    'CREATE TRIGGER excerpts_excerpt_search BEFORE INSERT OR UPDATE OF text, original_text, context, speaker_id, source_id ON excerpts_excerpt FOR EACH ROW EXECUTE FUNCTION excerpts_excerpt_search_trigger()',
                    """
    CREATE FUNCTION excerpts_speaker_search_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' OR OLD.name IS DISTINCT FROM NEW.name OR OLD.aliases IS DISTINCT FROM NEW.aliases THEN
            UPDATE excerpts_excerpt SET search_vector = excerpts_search_document(
                text, original_text, context, speaker_id, source_id) WHERE speaker_id = NEW.id;
        END IF;
        RETURN NULL;
    END
    $$
    """,
                    'CREATE TRIGGER excerpts_speaker_search AFTER INSERT OR UPDATE OF name, aliases ON excerpts_speaker FOR EACH ROW EXECUTE FUNCTION excerpts_speaker_search_trigger()',
                    """
    CREATE FUNCTION excerpts_source_search_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' OR OLD.title IS DISTINCT FROM NEW.title THEN
            UPDATE excerpts_excerpt SET search_vector = excerpts_search_document(
                text, original_text, context, speaker_id, source_id) WHERE source_id = NEW.id;
        END IF;
        RETURN NULL;
    END
    $$
    """,
                    'CREATE TRIGGER excerpts_source_search AFTER INSERT OR UPDATE OF title ON excerpts_source FOR EACH ROW EXECUTE FUNCTION excerpts_source_search_trigger()',
                    'UPDATE excerpts_excerpt SET search_vector = excerpts_search_document(text, original_text, context, speaker_id, source_id)',
                ],
            },
            backwards={
                'sqlite': [
                    'DROP TRIGGER IF EXISTS excerpts_excerpt_search_insert',
                    'DROP TRIGGER IF EXISTS excerpts_excerpt_search_update',
                    'DROP TRIGGER IF EXISTS excerpts_excerpt_search_delete',
                    'DROP TRIGGER IF EXISTS excerpts_speaker_search_insert',
                    'DROP TRIGGER IF EXISTS excerpts_speaker_search_update',
                    'DROP TRIGGER IF EXISTS excerpts_source_search_insert',
                    'DROP TRIGGER IF EXISTS excerpts_source_search_update',
                    'DROP TABLE IF EXISTS excerpts_excerpt_search',
                ],
                'postgresql': [
                    'DROP TRIGGER IF EXISTS excerpts_excerpt_search ON excerpts_excerpt',
                    'DROP TRIGGER IF EXISTS excerpts_speaker_search ON excerpts_speaker',
                    'DROP TRIGGER IF EXISTS excerpts_source_search ON excerpts_source',
                    'DROP FUNCTION IF EXISTS excerpts_excerpt_search_trigger()',
                    'DROP FUNCTION IF EXISTS excerpts_speaker_search_trigger()',
                    'DROP FUNCTION IF EXISTS excerpts_source_search_trigger()',
                    'DROP FUNCTION IF EXISTS excerpts_search_document(text, text, text, bigint, bigint)',
                    'DROP INDEX IF EXISTS excerpt_search_vector',
                    'ALTER TABLE excerpts_excerpt DROP COLUMN IF EXISTS search_vector',
                ],
            },
            description='Install the full-text search index and its triggers',
        ),
    ]
