"""
The full-text search index, kept current by triggers on every write path.

What is indexed: the excerpt's text, original text and context, the speaker's name and aliases, and the
source's title. Triggers on the speaker and source tables refresh the excerpts that show a changed name,
alias list or title.

Both engines cut the fields into the same words: runs of letters and digits, lowercased, nothing stemmed,
no stop word, accents kept (``Zhōu`` is not ``Zhou``); and every Chinese or Japanese character (``CJK``) is a
word of its own, so that a query of two characters finds them inside a sentence written without spaces.

- SQLite: an FTS5 table ``excerpts_excerpt_search`` whose rowid is the excerpt id, tokenized by ``unicode61``
  with no diacritic folding and only letters and digits as word characters (as PostgreSQL's parser has them).
  SQLite has no regular expressions: a recursive query spaces out the CJK characters of a field that has any.
- PostgreSQL: a ``search_vector`` tsvector column on ``excerpts_excerpt``, filled by a trigger, with a GIN
  index: the ``simple`` configuration over each field with its CJK characters spaced out and everything but
  letters and digits made a space, so that the parser's own tokens (hyphenated words, host names, e-mail
  addresses) fall apart into words as on SQLite. It is not a model field: Django never reads or writes it.

How it is queried lives in ``excerpts.research.search``.
"""

from .objects import DatabaseObject

FTS_TABLE = "excerpts_excerpt_search"
# The prefix lengths FTS5 keeps an index of: a longer prefix is looked up by merging the words it begins.
PREFIX_INDEXES = (2, 3)
GIN_INDEX = DatabaseObject(
    "index",
    "excerpt_search_vector",
    "CREATE INDEX excerpt_search_vector ON excerpts_excerpt USING gin (search_vector)",
    table="excerpts_excerpt",
)

# The characters each of which is a word: kana and the CJK ideographs (extension A, unified, compatibility). The same
# class in SQLite's GLOB, PostgreSQL's regular expressions and the query parser (excerpts.research.search).
CJK = "[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]"


def _sqlite_words(value: str) -> str:
    """``value`` with a space either side of each CJK character: walked a character at a time while any is left."""
    head = "substr(rest, 1, 1)"
    return (
        f"(WITH RECURSIVE cut(rest, done) AS (SELECT {value}, '' UNION ALL SELECT substr(rest, 2), done || "
        f"CASE WHEN {head} GLOB '{CJK}' THEN ' ' || {head} || ' ' ELSE {head} END "
        f"FROM cut WHERE rest GLOB '*{CJK}*') SELECT done || rest FROM cut WHERE rest NOT GLOB '*{CJK}*')"
    )


SQLITE_SPEAKER_DOCUMENT = (
    "(SELECT sp.name || ' ' || coalesce((SELECT group_concat(value, ' ') FROM json_each(sp.aliases)), '') "
    "FROM excerpts_speaker sp WHERE sp.id = {speaker_id})"
)
SQLITE_SOURCE_DOCUMENT = "(SELECT so.title FROM excerpts_source so WHERE so.id = {source_id})"


def _sqlite_insert(prefix: str, where: str = "") -> str:
    fields = [
        f"{prefix}text",
        f"{prefix}original_text",
        f"{prefix}context",
        SQLITE_SPEAKER_DOCUMENT.format(speaker_id=prefix + "speaker_id"),
        SQLITE_SOURCE_DOCUMENT.format(source_id=prefix + "source_id"),
    ]
    return (
        f"INSERT INTO {FTS_TABLE}(rowid, text, original_text, context, speaker, source_title) "
        f"SELECT {prefix}id, {', '.join(_sqlite_words(field) for field in fields)}{where}"
    )


SQLITE_SPEAKER_REFRESH = (
    f"UPDATE {FTS_TABLE} SET speaker = {_sqlite_words(SQLITE_SPEAKER_DOCUMENT.format(speaker_id='NEW.id'))} "
    f"WHERE rowid IN (SELECT id FROM excerpts_excerpt WHERE speaker_id = NEW.id)"
)
SQLITE_SOURCE_REFRESH = (
    f"UPDATE {FTS_TABLE} SET source_title = {_sqlite_words('NEW.title')} "
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
                # Private-use characters (category Co, a word character by default) separate words, as on PostgreSQL.
                "tokenize = 'unicode61 remove_diacritics 0 categories ''L* N*''', "
                # Every query word is a prefix: the first two and three characters of each word get an index.
                f"prefix = '{' '.join(map(str, PREFIX_INDEXES))}')"
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
        DatabaseObject(
            "function",
            "excerpts_search_words",
            f"""
    CREATE FUNCTION excerpts_search_words(field text) RETURNS tsvector LANGUAGE sql IMMUTABLE AS $$
        SELECT to_tsvector('simple', regexp_replace(
            regexp_replace(coalesce(field, ''), '({CJK})', ' \\1 ', 'g'), '[^[:alnum:]]+', ' ', 'g'))
    $$
    """,
            signature="excerpts_search_words(text)",
        ),
        # Weights: the words themselves, translated or original (A), who said them and where (B), the curator's note
        # (C): a search ranks first the excerpts whose own words hold every term. Between two fields a lexeme no query
        # can hold (a space) keeps a phrase from running from the end of one into the next, as on SQLite.
        DatabaseObject(
            "function",
            "excerpts_search_document",
            """
    CREATE FUNCTION excerpts_search_document(
        body text, original text, note text, speaker bigint, source bigint
    ) RETURNS tsvector LANGUAGE sql STABLE AS $$
        SELECT setweight(excerpts_search_words(body), 'A')
            || ''' '':1'::tsvector || setweight(excerpts_search_words(original), 'A')
            || ''' '':1'::tsvector || setweight(excerpts_search_words((
                SELECT sp.name || ' ' || coalesce((
                    SELECT string_agg(alias, ' ' ORDER BY position)
                    FROM jsonb_array_elements_text(sp.aliases) WITH ORDINALITY AS listed(alias, position)
                ), '')
                FROM excerpts_speaker sp WHERE sp.id = speaker)), 'B')
            || ''' '':1'::tsvector || setweight(excerpts_search_words((
                SELECT so.title FROM excerpts_source so WHERE so.id = source)), 'B')
            || ''' '':1'::tsvector || setweight(excerpts_search_words(note), 'C')
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
