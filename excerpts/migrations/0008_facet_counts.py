"""
The facet summary table, its triggers, and the counts of the excerpts already there.

Whole-corpus facets read it instead of grouping every excerpt eight times.

Its SQL is written out here, as the code of its day produced it, so that it means the same thing forever;
0012 brings the objects to their current declarations in excerpts/db/.
"""

from django.db import migrations

from excerpts.db.operations import InstallDatabaseObjects


class Migration(migrations.Migration):
    dependencies = [("excerpts", "0007_date_span_index")]

    operations = [
        InstallDatabaseObjects(
            forwards={
                'sqlite': [
                    'CREATE TABLE IF NOT EXISTS excerpts_facet_count (status text NOT NULL, facet text NOT NULL, value text NOT NULL, count integer NOT NULL, PRIMARY KEY (status, facet, value)) WITHOUT ROWID',
                    "CREATE TRIGGER IF NOT EXISTS excerpts_excerpt_facet_insert AFTER INSERT ON excerpts_excerpt BEGIN INSERT INTO excerpts_facet_count (status, facet, value, count) SELECT status, facet, value, +1 FROM (SELECT status, facet, value FROM (SELECT NEW.status AS status, 'speaker' AS facet, CAST(NEW.speaker_id AS text) AS value UNION ALL SELECT NEW.status AS status, 'event' AS facet, CAST(NEW.event_id AS text) AS value UNION ALL SELECT NEW.status AS status, 'kind' AS facet, NEW.kind AS value UNION ALL SELECT NEW.status AS status, 'attribution' AS facet, NEW.attribution AS value UNION ALL SELECT NEW.status AS status, 'language' AS facet, NEW.language AS value UNION ALL SELECT NEW.status AS status, 'year' AS facet, CAST(CAST(substr(NEW.date_start, 1, 4) AS integer) AS text) AS value UNION ALL SELECT NEW.status, 'topic', CAST(l.topic_id AS text) FROM excerpts_excerpt_topics l WHERE l.excerpt_id = NEW.id) AS v WHERE value IS NOT NULL) WHERE true ON CONFLICT (status, facet, value) DO UPDATE SET count = count + excluded.count; END",
                    "CREATE TRIGGER IF NOT EXISTS excerpts_excerpt_facet_update AFTER UPDATE OF status, speaker_id, event_id, kind, attribution, language, date_start ON excerpts_excerpt BEGIN INSERT INTO excerpts_facet_count (status, facet, value, count) SELECT status, facet, value, -1 FROM (SELECT status, facet, value FROM (SELECT OLD.status AS status, 'speaker' AS facet, CAST(OLD.speaker_id AS text) AS value UNION ALL SELECT OLD.status AS status, 'event' AS facet, CAST(OLD.event_id AS text) AS value UNION ALL SELECT OLD.status AS status, 'kind' AS facet, OLD.kind AS value UNION ALL SELECT OLD.status AS status, 'attribution' AS facet, OLD.attribution AS value UNION ALL SELECT OLD.status AS status, 'language' AS facet, OLD.language AS value UNION ALL SELECT OLD.status AS status, 'year' AS facet, CAST(CAST(substr(OLD.date_start, 1, 4) AS integer) AS text) AS value UNION ALL SELECT OLD.status, 'topic', CAST(l.topic_id AS text) FROM excerpts_excerpt_topics l WHERE l.excerpt_id = OLD.id) AS v WHERE value IS NOT NULL) WHERE true ON CONFLICT (status, facet, value) DO UPDATE SET count = count + excluded.count; INSERT INTO excerpts_facet_count (status, facet, value, count) SELECT status, facet, value, +1 FROM (SELECT status, facet, value FROM (SELECT NEW.status AS status, 'speaker' AS facet, CAST(NEW.speaker_id AS text) AS value UNION ALL SELECT NEW.status AS status, 'event' AS facet, CAST(NEW.event_id AS text) AS value UNION ALL SELECT NEW.status AS status, 'kind' AS facet, NEW.kind AS value UNION ALL SELECT NEW.status AS status, 'attribution' AS facet, NEW.attribution AS value UNION ALL SELECT NEW.status AS status, 'language' AS facet, NEW.language AS value UNION ALL SELECT NEW.status AS status, 'year' AS facet, CAST(CAST(substr(NEW.date_start, 1, 4) AS integer) AS text) AS value UNION ALL SELECT NEW.status, 'topic', CAST(l.topic_id AS text) FROM excerpts_excerpt_topics l WHERE l.excerpt_id = NEW.id) AS v WHERE value IS NOT NULL) WHERE true ON CONFLICT (status, facet, value) DO UPDATE SET count = count + excluded.count; END",
                    "CREATE TRIGGER IF NOT EXISTS excerpts_excerpt_facet_delete AFTER DELETE ON excerpts_excerpt BEGIN INSERT INTO excerpts_facet_count (status, facet, value, count) SELECT status, facet, value, -1 FROM (SELECT status, facet, value FROM (SELECT OLD.status AS status, 'speaker' AS facet, CAST(OLD.speaker_id AS text) AS value UNION ALL SELECT OLD.status AS status, 'event' AS facet, CAST(OLD.event_id AS text) AS value UNION ALL SELECT OLD.status AS status, 'kind' AS facet, OLD.kind AS value UNION ALL SELECT OLD.status AS status, 'attribution' AS facet, OLD.attribution AS value UNION ALL SELECT OLD.status AS status, 'language' AS facet, OLD.language AS value UNION ALL SELECT OLD.status AS status, 'year' AS facet, CAST(CAST(substr(OLD.date_start, 1, 4) AS integer) AS text) AS value UNION ALL SELECT OLD.status, 'topic', CAST(l.topic_id AS text) FROM excerpts_excerpt_topics l WHERE l.excerpt_id = OLD.id) AS v WHERE value IS NOT NULL) WHERE true ON CONFLICT (status, facet, value) DO UPDATE SET count = count + excluded.count; END",
                    "CREATE TRIGGER IF NOT EXISTS excerpts_excerpt_topics_facet_insert AFTER INSERT ON excerpts_excerpt_topics BEGIN INSERT INTO excerpts_facet_count (status, facet, value, count) SELECT status, facet, value, +1 FROM (SELECT e.status AS status, 'topic' AS facet, CAST(NEW.topic_id AS text) AS value FROM excerpts_excerpt e WHERE e.id = NEW.excerpt_id) WHERE true ON CONFLICT (status, facet, value) DO UPDATE SET count = count + excluded.count; END",
                    "CREATE TRIGGER IF NOT EXISTS excerpts_excerpt_topics_facet_update AFTER UPDATE ON excerpts_excerpt_topics BEGIN INSERT INTO excerpts_facet_count (status, facet, value, count) SELECT status, facet, value, -1 FROM (SELECT e.status AS status, 'topic' AS facet, CAST(OLD.topic_id AS text) AS value FROM excerpts_excerpt e WHERE e.id = OLD.excerpt_id) WHERE true ON CONFLICT (status, facet, value) DO UPDATE SET count = count + excluded.count; INSERT INTO excerpts_facet_count (status, facet, value, count) SELECT status, facet, value, +1 FROM (SELECT e.status AS status, 'topic' AS facet, CAST(NEW.topic_id AS text) AS value FROM excerpts_excerpt e WHERE e.id = NEW.excerpt_id) WHERE true ON CONFLICT (status, facet, value) DO UPDATE SET count = count + excluded.count; END",
                    "CREATE TRIGGER IF NOT EXISTS excerpts_excerpt_topics_facet_delete AFTER DELETE ON excerpts_excerpt_topics BEGIN INSERT INTO excerpts_facet_count (status, facet, value, count) SELECT status, facet, value, -1 FROM (SELECT e.status AS status, 'topic' AS facet, CAST(OLD.topic_id AS text) AS value FROM excerpts_excerpt e WHERE e.id = OLD.excerpt_id) WHERE true ON CONFLICT (status, facet, value) DO UPDATE SET count = count + excluded.count; END",
                    'DELETE FROM excerpts_facet_count',
                    "INSERT INTO excerpts_facet_count (status, facet, value, count) SELECT status, facet, value, count(*) FROM (SELECT status, facet, value FROM (SELECT r.status AS status, 'speaker' AS facet, CAST(r.speaker_id AS text) AS value FROM excerpts_excerpt r UNION ALL SELECT r.status AS status, 'event' AS facet, CAST(r.event_id AS text) AS value FROM excerpts_excerpt r UNION ALL SELECT r.status AS status, 'kind' AS facet, r.kind AS value FROM excerpts_excerpt r UNION ALL SELECT r.status AS status, 'attribution' AS facet, r.attribution AS value FROM excerpts_excerpt r UNION ALL SELECT r.status AS status, 'language' AS facet, r.language AS value FROM excerpts_excerpt r UNION ALL SELECT r.status AS status, 'year' AS facet, CAST(CAST(substr(r.date_start, 1, 4) AS integer) AS text) AS value FROM excerpts_excerpt r UNION ALL SELECT r.status, 'topic', CAST(l.topic_id AS text) FROM excerpts_excerpt r JOIN excerpts_excerpt_topics l ON l.excerpt_id = r.id) AS v WHERE value IS NOT NULL) AS v GROUP BY status, facet, value",
                ],
                'postgresql': [
                    'CREATE TABLE IF NOT EXISTS excerpts_facet_count (status text NOT NULL, facet text NOT NULL, value text NOT NULL, count bigint NOT NULL)',
                    'CREATE INDEX IF NOT EXISTS excerpts_facet_count_value ON excerpts_facet_count (status, facet, value)',
                    """CREATE OR REPLACE FUNCTION excerpts_excerpt_facet_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO excerpts_facet_count (status, facet, value, count) SELECT status, facet, value, sum(delta) FROM (SELECT status, facet, value, 1 AS delta FROM (SELECT status, facet, value FROM (SELECT r.status AS status, 'speaker' AS facet, r.speaker_id::text AS value FROM new_rows r UNION ALL SELECT r.status AS status, 'event' AS facet, r.event_id::text AS value FROM new_rows r UNION ALL SELECT r.status AS status, 'kind' AS facet, r.kind::text AS value FROM new_rows r UNION ALL SELECT r.status AS status, 'attribution' AS facet, r.attribution::text AS value FROM new_rows r UNION ALL SELECT r.status AS status, 'language' AS facet, r.language::text AS value FROM new_rows r UNION ALL SELECT r.status AS status, 'year' AS facet, extract(year FROM r.date_start)::int::text AS value FROM new_rows r UNION ALL SELECT r.status, 'topic', CAST(l.topic_id AS text) FROM new_rows r JOIN excerpts_excerpt_topics l ON l.excerpt_id = r.id) AS v WHERE value IS NOT NULL) AS v) AS changes GROUP BY status, facet, value HAVING sum(delta) <> 0;
    END IF;
    IF TG_OP = 'UPDATE' THEN
        INSERT INTO excerpts_facet_count (status, facet, value, count) SELECT status, facet, value, sum(delta) FROM (SELECT status, facet, value, -1 AS delta FROM (SELECT status, facet, value FROM (SELECT r.status AS status, 'speaker' AS facet, r.speaker_id::text AS value FROM old_rows r UNION ALL SELECT r.status AS status, 'event' AS facet, r.event_id::text AS value FROM old_rows r UNION ALL SELECT r.status AS status, 'kind' AS facet, r.kind::text AS value FROM old_rows r UNION ALL SELECT r.status AS status, 'attribution' AS facet, r.attribution::text AS value FROM old_rows r UNION ALL SELECT r.status AS status, 'language' AS facet, r.language::text AS value FROM old_rows r UNION ALL SELECT r.status AS status, 'year' AS facet, extract(year FROM r.date_start)::int::text AS value FROM old_rows r UNION ALL SELECT r.status, 'topic', CAST(l.topic_id AS text) FROM old_rows r JOIN excerpts_excerpt_topics l ON l.excerpt_id = r.id) AS v WHERE value IS NOT NULL) AS v UNION ALL SELECT status, facet, value, 1 AS delta FROM (SELECT status, facet, value FROM (SELECT r.status AS status, 'speaker' AS facet, r.speaker_id::text AS value FROM new_rows r UNION ALL SELECT r.status AS status, 'event' AS facet, r.event_id::text AS value FROM new_rows r UNION ALL SELECT r.status AS status, 'kind' AS facet, r.kind::text AS value FROM new_rows r UNION ALL SELECT r.status AS status, 'attribution' AS facet, r.attribution::text AS value FROM new_rows r UNION ALL SELECT r.status AS status, 'language' AS facet, r.language::text AS value FROM new_rows r UNION ALL SELECT r.status AS status, 'year' AS facet, extract(year FROM r.date_start)::int::text AS value FROM new_rows r UNION ALL SELECT r.status, 'topic', CAST(l.topic_id AS text) FROM new_rows r JOIN excerpts_excerpt_topics l ON l.excerpt_id = r.id) AS v WHERE value IS NOT NULL) AS v) AS changes GROUP BY status, facet, value HAVING sum(delta) <> 0;
    END IF;
    IF TG_OP = 'DELETE' THEN
        INSERT INTO excerpts_facet_count (status, facet, value, count) SELECT status, facet, value, sum(delta) FROM (SELECT status, facet, value, -1 AS delta FROM (SELECT status, facet, value FROM (SELECT r.status AS status, 'speaker' AS facet, r.speaker_id::text AS value FROM old_rows r UNION ALL SELECT r.status AS status, 'event' AS facet, r.event_id::text AS value FROM old_rows r UNION ALL SELECT r.status AS status, 'kind' AS facet, r.kind::text AS value FROM old_rows r UNION ALL SELECT r.status AS status, 'attribution' AS facet, r.attribution::text AS value FROM old_rows r UNION ALL SELECT r.status AS status, 'language' AS facet, r.language::text AS value FROM old_rows r UNION ALL SELECT r.status AS status, 'year' AS facet, extract(year FROM r.date_start)::int::text AS value FROM old_rows r UNION ALL SELECT r.status, 'topic', CAST(l.topic_id AS text) FROM old_rows r JOIN excerpts_excerpt_topics l ON l.excerpt_id = r.id) AS v WHERE value IS NOT NULL) AS v) AS changes GROUP BY status, facet, value HAVING sum(delta) <> 0;
    END IF;
    RETURN NULL;
END
$$""",
                    """CREATE OR REPLACE FUNCTION excerpts_excerpt_topics_facet_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO excerpts_facet_count (status, facet, value, count) SELECT status, facet, value, sum(delta) FROM (SELECT status, facet, value, 1 AS delta FROM (SELECT e.status AS status, 'topic' AS facet, CAST(l.topic_id AS text) AS value FROM new_rows l JOIN excerpts_excerpt e ON e.id = l.excerpt_id) AS v) AS changes GROUP BY status, facet, value HAVING sum(delta) <> 0;
    END IF;
    IF TG_OP = 'UPDATE' THEN
        INSERT INTO excerpts_facet_count (status, facet, value, count) SELECT status, facet, value, sum(delta) FROM (SELECT status, facet, value, -1 AS delta FROM (SELECT e.status AS status, 'topic' AS facet, CAST(l.topic_id AS text) AS value FROM old_rows l JOIN excerpts_excerpt e ON e.id = l.excerpt_id) AS v UNION ALL SELECT status, facet, value, 1 AS delta FROM (SELECT e.status AS status, 'topic' AS facet, CAST(l.topic_id AS text) AS value FROM new_rows l JOIN excerpts_excerpt e ON e.id = l.excerpt_id) AS v) AS changes GROUP BY status, facet, value HAVING sum(delta) <> 0;
    END IF;
    IF TG_OP = 'DELETE' THEN
        INSERT INTO excerpts_facet_count (status, facet, value, count) SELECT status, facet, value, sum(delta) FROM (SELECT status, facet, value, -1 AS delta FROM (SELECT e.status AS status, 'topic' AS facet, CAST(l.topic_id AS text) AS value FROM old_rows l JOIN excerpts_excerpt e ON e.id = l.excerpt_id) AS v) AS changes GROUP BY status, facet, value HAVING sum(delta) <> 0;
    END IF;
    RETURN NULL;
END
$$""",
                    """CREATE OR REPLACE FUNCTION excerpts_facet_recount_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM excerpts_facet_count;
    INSERT INTO excerpts_facet_count (status, facet, value, count) SELECT status, facet, value, count(*) FROM (SELECT status, facet, value FROM (SELECT r.status AS status, 'speaker' AS facet, r.speaker_id::text AS value FROM excerpts_excerpt r UNION ALL SELECT r.status AS status, 'event' AS facet, r.event_id::text AS value FROM excerpts_excerpt r UNION ALL SELECT r.status AS status, 'kind' AS facet, r.kind::text AS value FROM excerpts_excerpt r UNION ALL SELECT r.status AS status, 'attribution' AS facet, r.attribution::text AS value FROM excerpts_excerpt r UNION ALL SELECT r.status AS status, 'language' AS facet, r.language::text AS value FROM excerpts_excerpt r UNION ALL SELECT r.status AS status, 'year' AS facet, extract(year FROM r.date_start)::int::text AS value FROM excerpts_excerpt r UNION ALL SELECT r.status, 'topic', CAST(l.topic_id AS text) FROM excerpts_excerpt r JOIN excerpts_excerpt_topics l ON l.excerpt_id = r.id) AS v WHERE value IS NOT NULL) AS v GROUP BY status, facet, value;
    RETURN NULL;
END
$$""",
                    'CREATE OR REPLACE TRIGGER excerpts_excerpt_facet_insert AFTER INSERT ON excerpts_excerpt REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION excerpts_excerpt_facet_trigger()',
                    'CREATE OR REPLACE TRIGGER excerpts_excerpt_facet_update AFTER UPDATE ON excerpts_excerpt REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION excerpts_excerpt_facet_trigger()',
                    'CREATE OR REPLACE TRIGGER excerpts_excerpt_facet_delete AFTER DELETE ON excerpts_excerpt REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION excerpts_excerpt_facet_trigger()',
                    'CREATE OR REPLACE TRIGGER excerpts_excerpt_topics_facet_insert AFTER INSERT ON excerpts_excerpt_topics REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION excerpts_excerpt_topics_facet_trigger()',
                    'CREATE OR REPLACE TRIGGER excerpts_excerpt_topics_facet_update AFTER UPDATE ON excerpts_excerpt_topics REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION excerpts_excerpt_topics_facet_trigger()',
                    'CREATE OR REPLACE TRIGGER excerpts_excerpt_topics_facet_delete AFTER DELETE ON excerpts_excerpt_topics REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION excerpts_excerpt_topics_facet_trigger()',
                    'CREATE OR REPLACE TRIGGER excerpts_excerpt_facet_truncate AFTER TRUNCATE ON excerpts_excerpt FOR EACH STATEMENT EXECUTE FUNCTION excerpts_facet_recount_trigger()',
                    'CREATE OR REPLACE TRIGGER excerpts_excerpt_topics_facet_truncate AFTER TRUNCATE ON excerpts_excerpt_topics FOR EACH STATEMENT EXECUTE FUNCTION excerpts_facet_recount_trigger()',
                    'DELETE FROM excerpts_facet_count',
                    "INSERT INTO excerpts_facet_count (status, facet, value, count) SELECT status, facet, value, count(*) FROM (SELECT status, facet, value FROM (SELECT r.status AS status, 'speaker' AS facet, r.speaker_id::text AS value FROM excerpts_excerpt r UNION ALL SELECT r.status AS status, 'event' AS facet, r.event_id::text AS value FROM excerpts_excerpt r UNION ALL SELECT r.status AS status, 'kind' AS facet, r.kind::text AS value FROM excerpts_excerpt r UNION ALL SELECT r.status AS status, 'attribution' AS facet, r.attribution::text AS value FROM excerpts_excerpt r UNION ALL SELECT r.status AS status, 'language' AS facet, r.language::text AS value FROM excerpts_excerpt r UNION ALL SELECT r.status AS status, 'year' AS facet, extract(year FROM r.date_start)::int::text AS value FROM excerpts_excerpt r UNION ALL SELECT r.status, 'topic', CAST(l.topic_id AS text) FROM excerpts_excerpt r JOIN excerpts_excerpt_topics l ON l.excerpt_id = r.id) AS v WHERE value IS NOT NULL) AS v GROUP BY status, facet, value",
                ],
            },
            backwards={
                'sqlite': [
                    'DROP TRIGGER IF EXISTS excerpts_excerpt_facet_insert',
                    'DROP TRIGGER IF EXISTS excerpts_excerpt_facet_update',
                    'DROP TRIGGER IF EXISTS excerpts_excerpt_facet_delete',
                    'DROP TRIGGER IF EXISTS excerpts_excerpt_topics_facet_insert',
                    'DROP TRIGGER IF EXISTS excerpts_excerpt_topics_facet_update',
                    'DROP TRIGGER IF EXISTS excerpts_excerpt_topics_facet_delete',
                    'DROP TABLE IF EXISTS excerpts_facet_count',
                ],
                'postgresql': [
                    'DROP TRIGGER IF EXISTS excerpts_excerpt_facet_insert ON excerpts_excerpt',
                    'DROP TRIGGER IF EXISTS excerpts_excerpt_facet_update ON excerpts_excerpt',
                    'DROP TRIGGER IF EXISTS excerpts_excerpt_facet_delete ON excerpts_excerpt',
                    'DROP TRIGGER IF EXISTS excerpts_excerpt_facet_truncate ON excerpts_excerpt',
                    'DROP TRIGGER IF EXISTS excerpts_excerpt_topics_facet_insert ON excerpts_excerpt_topics',
                    'DROP TRIGGER IF EXISTS excerpts_excerpt_topics_facet_update ON excerpts_excerpt_topics',
                    'DROP TRIGGER IF EXISTS excerpts_excerpt_topics_facet_delete ON excerpts_excerpt_topics',
                    'DROP TRIGGER IF EXISTS excerpts_excerpt_topics_facet_truncate ON excerpts_excerpt_topics',
                    'DROP FUNCTION IF EXISTS excerpts_excerpt_facet_trigger()',
                    'DROP FUNCTION IF EXISTS excerpts_excerpt_topics_facet_trigger()',
                    'DROP FUNCTION IF EXISTS excerpts_facet_recount_trigger()',
                    'DROP TABLE IF EXISTS excerpts_facet_count',
                ],
            },
            description='Install the facet summary and its triggers, and count every excerpt',
        ),
    ]
