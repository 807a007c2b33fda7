"""
The full-text search index, kept current by triggers on every write path.

What is indexed: the excerpt's text, original text and context, the speaker's name and aliases, and the
source's title, stemmed. Triggers on the speaker and source tables refresh the excerpts that show a
changed name, alias list or title.

- SQLite: an FTS5 table ``excerpts_excerpt_search`` (porter stemmer) whose rowid is the excerpt id.
- PostgreSQL: a ``search_vector`` tsvector column on ``excerpts_excerpt``, filled by a trigger, with a
  GIN index. It is not a model field: Django never reads or writes it.

How it is queried lives in ``excerpts.research.search``.
"""

from .objects import DatabaseObject

FTS_TABLE = "excerpts_excerpt_search"
GIN_INDEX = DatabaseObject(
    "index",
    "excerpt_search_vector",
    "CREATE INDEX excerpt_search_vector ON excerpts_excerpt USING gin (search_vector)",
    table="excerpts_excerpt",
)

SQLITE_SPEAKER_DOCUMENT = (
    "(SELECT sp.name || ' ' || coalesce((SELECT group_concat(value, ' ') FROM json_each(sp.aliases)), '') "
    "FROM excerpts_speaker sp WHERE sp.id = {speaker_id})"
)
SQLITE_SOURCE_DOCUMENT = "(SELECT so.title FROM excerpts_source so WHERE so.id = {source_id})"


def _sqlite_insert(prefix: str, where: str = "") -> str:
    return (
        f"INSERT INTO {FTS_TABLE}(rowid, text, original_text, context, speaker, source_title) "
        f"SELECT {prefix}id, {prefix}text, {prefix}original_text, {prefix}context, "
        f"{SQLITE_SPEAKER_DOCUMENT.format(speaker_id=prefix + 'speaker_id')}, "
        f"{SQLITE_SOURCE_DOCUMENT.format(source_id=prefix + 'source_id')}{where}"
    )


SQLITE_SPEAKER_REFRESH = (
    f"UPDATE {FTS_TABLE} SET speaker = {SQLITE_SPEAKER_DOCUMENT.format(speaker_id='NEW.id')} "
    f"WHERE rowid IN (SELECT id FROM excerpts_excerpt WHERE speaker_id = NEW.id)"
)
SQLITE_SOURCE_REFRESH = (
    f"UPDATE {FTS_TABLE} SET source_title = NEW.title "
    f"WHERE rowid IN (SELECT id FROM excerpts_excerpt WHERE source_id = NEW.id)"
)
SQLITE_TRIGGERS = {
    "excerpts_excerpt_search_insert": (
        "excerpts_excerpt",
        f"AFTER INSERT ON excerpts_excerpt BEGIN {_sqlite_insert('NEW.')}; END",
    ),
    "excerpts_excerpt_search_update": (
        "excerpts_excerpt",
        "AFTER UPDATE OF text, original_text, context, speaker_id, source_id ON excerpts_excerpt BEGIN "
        f"DELETE FROM {FTS_TABLE} WHERE rowid = OLD.id; {_sqlite_insert('NEW.')}; END",
    ),
    "excerpts_excerpt_search_delete": (
        "excerpts_excerpt",
        f"AFTER DELETE ON excerpts_excerpt BEGIN DELETE FROM {FTS_TABLE} WHERE rowid = OLD.id; END",
    ),
    # loaddata may insert an excerpt before its speaker or source (constraints are deferred).
    "excerpts_speaker_search_insert": (
        "excerpts_speaker",
        f"AFTER INSERT ON excerpts_speaker BEGIN {SQLITE_SPEAKER_REFRESH}; END",
    ),
    "excerpts_speaker_search_update": (
        "excerpts_speaker",
        "AFTER UPDATE OF name, aliases ON excerpts_speaker "
        f"WHEN OLD.name IS NOT NEW.name OR OLD.aliases IS NOT NEW.aliases BEGIN {SQLITE_SPEAKER_REFRESH}; END",
    ),
    "excerpts_source_search_insert": (
        "excerpts_source",
        f"AFTER INSERT ON excerpts_source BEGIN {SQLITE_SOURCE_REFRESH}; END",
    ),
    "excerpts_source_search_update": (
        "excerpts_source",
        f"AFTER UPDATE OF title ON excerpts_source WHEN OLD.title IS NOT NEW.title BEGIN {SQLITE_SOURCE_REFRESH}; END",
    ),
}

POSTGRESQL_DOCUMENT = "excerpts_search_document(text, original_text, context, speaker_id, source_id)"


def _postgresql_refresh(name: str, changed: str, where: str) -> DatabaseObject:
    """A trigger function that re-indexes the excerpts ``where`` selects when its row is inserted or ``changed``."""
    return DatabaseObject(
        "function",
        name,
        f"""
    CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' OR {changed} THEN
            UPDATE excerpts_excerpt SET search_vector = {POSTGRESQL_DOCUMENT} WHERE {where};
        END IF;
        RETURN NULL;
    END
    $$
    """,
    )


OBJECTS = {
    "sqlite": [
        DatabaseObject(
            "virtual table",
            FTS_TABLE,
            (
                f"CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5(text, original_text, context, speaker, source_title, "
                "tokenize = 'porter unicode61 remove_diacritics 2')",
                # BM25 column weights: the words themselves count most, then who said them and where.
                f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rank) VALUES ('rank', 'bm25(4.0, 1.0, 1.0, 2.0, 2.0)')",
            ),
        ),
        *(
            DatabaseObject("trigger", name, f"CREATE TRIGGER {name} {body}", table=table)
            for name, (table, body) in SQLITE_TRIGGERS.items()
        ),
    ],
    "postgresql": [
        DatabaseObject(
            "column",
            "search_vector",
            "ALTER TABLE excerpts_excerpt ADD COLUMN search_vector tsvector",
            table="excerpts_excerpt",
        ),
        # Weights: the words themselves (A), who said them and where (B), the curator's note (C), the original (D).
        DatabaseObject(
            "function",
            "excerpts_search_document",
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
            signature="excerpts_search_document(text, text, text, bigint, bigint)",
        ),
        DatabaseObject(
            "function",
            "excerpts_excerpt_search_trigger",
            """
    CREATE FUNCTION excerpts_excerpt_search_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        NEW.search_vector := excerpts_search_document(
            NEW.text, NEW.original_text, NEW.context, NEW.speaker_id, NEW.source_id);
        RETURN NEW;
    END
    $$
    """,
        ),
        _postgresql_refresh(
            "excerpts_speaker_search_trigger",
            "OLD.name IS DISTINCT FROM NEW.name OR OLD.aliases IS DISTINCT FROM NEW.aliases",
            "speaker_id = NEW.id",
        ),
        _postgresql_refresh(
            "excerpts_source_search_trigger", "OLD.title IS DISTINCT FROM NEW.title", "source_id = NEW.id"
        ),
        GIN_INDEX,
        DatabaseObject(
            "trigger",
            "excerpts_excerpt_search",
            "CREATE TRIGGER excerpts_excerpt_search BEFORE INSERT OR UPDATE OF text, original_text, context, "
            "speaker_id, source_id ON excerpts_excerpt FOR EACH ROW "
            "EXECUTE FUNCTION excerpts_excerpt_search_trigger()",
            table="excerpts_excerpt",
        ),
        DatabaseObject(
            "trigger",
            "excerpts_speaker_search",
            "CREATE TRIGGER excerpts_speaker_search AFTER INSERT OR UPDATE OF name, aliases ON excerpts_speaker "
            "FOR EACH ROW EXECUTE FUNCTION excerpts_speaker_search_trigger()",
            table="excerpts_speaker",
        ),
        DatabaseObject(
            "trigger",
            "excerpts_source_search",
            "CREATE TRIGGER excerpts_source_search AFTER INSERT OR UPDATE OF title ON excerpts_source "
            "FOR EACH ROW EXECUTE FUNCTION excerpts_source_search_trigger()",
            table="excerpts_source",
        ),
    ],
}
FILL = {
    "sqlite": [
        _sqlite_insert("e.", " FROM excerpts_excerpt e"),
        f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('optimize')",
    ],
    "postgresql": [f"UPDATE excerpts_excerpt SET search_vector = {POSTGRESQL_DOCUMENT}"],
}
