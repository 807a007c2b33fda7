"""
Full-text search over excerpts: the query language, the index on each database, ranking and highlights.

What is searched: the excerpt's text, original text and context, the speaker's name and aliases, and
the source's title, stemmed (``communes`` finds ``commune``).

The query language is small and safe: words are ANDed, ``"a quoted phrase"`` matches as a phrase,
``-word`` or ``-"a phrase"`` excludes. ``parse_query`` turns what a user typed into a ``SearchQuery``
of plain words, and each engine gets an expression built from those words only, never the user's
raw syntax: FTS5 MATCH receives double-quoted strings of word characters, PostgreSQL receives the
words as parameters of ``plainto_tsquery``/``phraseto_tsquery`` joined with ``&&`` and ``!!``.

The index lives in the database and is kept current by triggers, so every write path (the ORM,
bulk_create, raw SQL, ``loaddata`` with its raw saves, another branch's import) keeps it right:

- SQLite: an FTS5 table ``excerpts_excerpt_search`` (porter stemmer) whose rowid is the excerpt id.
- PostgreSQL: a ``search_vector`` tsvector column on ``excerpts_excerpt``, stored and filled by a
  trigger, with a GIN index. It is not a model field: Django never reads or writes it.

Triggers on the speaker and source tables refresh the excerpts that show a changed name, alias
list or title. ``manage.py rebuild_search_index`` drops and re-creates all of it (for example after
a SQLite migration that remakes the excerpt table, which drops the table's triggers).

Ranking is bounded: only the ``RANK_WINDOW`` most recently added matches of a query are ranked by
relevance (BM25 on SQLite, ``ts_rank`` on PostgreSQL); older matches of a very common query follow
them, newest first. A rare term is ranked in full; a term found in half the corpus costs the same
ranking work as one found in ``RANK_WINDOW`` excerpts.
"""

import html
import re
from dataclasses import dataclass, field

from django.db import connection as default_connection
from django.db.models import Case, Expression, FloatField, IntegerField, Value, When
from django.db.models.expressions import RawSQL

MAX_TERMS = 12
# On PostgreSQL a phrase in fewer than one in RARE_PHRASE of the newest PHRASE_SAMPLE excerpts is looked up first.
RARE_PHRASE, PHRASE_SAMPLE = 100, 4000
RANK_WINDOW = 2000
FTS_TABLE = "excerpts_excerpt_search"
HIGHLIGHT_START, HIGHLIGHT_END = "\ue000", "\ue001"  # private-use marks, HTML-escaped around, then <mark>
HIGHLIGHT_WORDS = 32

WORD = re.compile(r"[^\W_]+")  # letters and digits: punctuation and "_" separate words, as in both indexes
TOKEN = re.compile(r'\s*(-?)(?:"([^"]*)"|([^\s"]+))')


class QueryError(ValueError):
    """The query cannot be searched; the message says why, for the person who typed it."""


@dataclass(frozen=True)
class Term:
    """One or more words that must appear together, in order (a phrase when more than one)."""

    words: tuple[str, ...]
    excluded: bool = False


@dataclass(frozen=True)
class SearchQuery:
    """
    A parsed query: terms that must all match, and terms that must not.

    ``memo`` keeps what the database told about this query while a request uses it (its ranking
    window, whether a phrase is rare), so a request asks once however many of its queries use it.
    """

    terms: tuple[Term, ...]
    memo: dict = field(default_factory=dict, compare=False, hash=False, repr=False)

    @property
    def included(self):
        return [term for term in self.terms if not term.excluded]

    @property
    def excluded(self):
        return [term for term in self.terms if term.excluded]


def parse_query(text):
    """Parse what a user typed into a SearchQuery; raise QueryError when nothing searchable is left."""
    text = text.strip()
    if text.count('"') % 2:
        raise QueryError('The query has an unclosed quotation mark: close the phrase with ".')
    terms = []
    position = 0
    while position < len(text):
        match = TOKEN.match(text, position)
        if match is None:  # only trailing whitespace is left
            break
        position = match.end()
        minus, phrase, word = match.groups()
        # Punctuation separates words, as in the index: "Tse-tung" is the phrase "Tse tung".
        words = tuple(w.casefold() for w in WORD.findall(phrase if phrase is not None else word))
        if words:
            terms.append(Term(words=words, excluded=bool(minus)))
    if len(terms) > MAX_TERMS:
        raise QueryError(f"The query has {len(terms)} words or phrases; at most {MAX_TERMS} are allowed.")
    query = SearchQuery(terms=tuple(dict.fromkeys(terms)))
    if not query.included:
        raise QueryError("The query has no word to search for: give at least one word that is not excluded.")
    return query


def fts5_expression(query):
    """The FTS5 MATCH expression: every term a double-quoted string of word characters."""

    def quoted(term):
        # Words hold only letters and digits, so there is no quotation mark to escape.
        return '"' + " ".join(term.words) + '"'

    expression = " AND ".join(quoted(term) for term in query.included)
    for term in query.excluded:
        expression = f"({expression}) NOT {quoted(term)}"
    return expression


def tsquery_sql(query):
    """SQL and parameters for the PostgreSQL tsquery, built from the parsed words only."""
    parts, params = [], []
    for term in query.terms:
        function = "phraseto_tsquery" if len(term.words) > 1 else "plainto_tsquery"
        parts.append(f"{'!!' if term.excluded else ''}{function}('english', %s)")
        params.append(" ".join(term.words))
    return "(" + " && ".join(parts) + ")", params


def postgresql_condition(query):
    """
    The WHERE condition and parameters for the matches of ``query`` on PostgreSQL.

    PostgreSQL estimates a phrase as common as its words found together anywhere in an excerpt, which
    for two common words is fifty times too many: it then walks a sort order's index testing each row
    (0.4 s for a phrase of two common words sorted by speaker at 1M). A phrase that is rare among the
    newest PHRASE_SAMPLE excerpts is therefore looked up first, as an array of ids (ANY(ARRAY(...)) is
    computed once, before the rest of the query), and the excerpts fetched by id.
    """
    tsquery, params = tsquery_sql(query)
    condition = f"excerpts_excerpt.search_vector @@ {tsquery}"
    if not any(len(term.words) > 1 for term in query.included):
        return condition, params
    if "rare_phrase" not in query.memo:
        with default_connection.cursor() as cursor:
            cursor.execute(
                f"SELECT count(*) FROM excerpts_excerpt WHERE {condition} "
                "AND id > (SELECT max(id) FROM excerpts_excerpt) - %s",
                [*params, PHRASE_SAMPLE],
            )
            query.memo["rare_phrase"] = cursor.fetchone()[0] * RARE_PHRASE < PHRASE_SAMPLE
    if query.memo["rare_phrase"]:
        return f"excerpts_excerpt.id = ANY(ARRAY(SELECT id FROM excerpts_excerpt WHERE {condition}))", params
    return condition, params


def vendor(queryset_or_connection=None):
    return (queryset_or_connection or default_connection).vendor


def window_start_sql(query):
    """
    SQL and parameters for the smallest id in the ranking window (the newest RANK_WINDOW matches).

    The window is then ``id >= start``: a range the GIN bitmap or the FTS5 doclist answers directly,
    where ``id IN (window)`` made SQLite walk every match of a common term.
    """
    if default_connection.vendor == "postgresql":
        condition, params = postgresql_condition(query)
        window = f"SELECT id FROM excerpts_excerpt WHERE {condition} ORDER BY id DESC LIMIT {RANK_WINDOW}"
        return f"SELECT min(id) FROM ({window}) AS ranking_window", params
    window = f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s ORDER BY rowid DESC LIMIT {RANK_WINDOW}"
    return f"SELECT min(rowid) FROM ({window})", [fts5_expression(query)]


def window_start(query):
    """
    The smallest id in the ranking window of ``query``, or None when nothing matches.

    Looked up once per parsed query: a page's relevance, its narrowing to the window and its cursor
    share it (as a subquery, PostgreSQL computed it once per use, and a common term's window costs a
    walk over every match).
    """
    if "window_start" not in query.memo:
        sql, params = window_start_sql(query)
        with default_connection.cursor() as cursor:
            cursor.execute(sql, params)
            query.memo["window_start"] = cursor.fetchone()[0]
    return query.memo["window_start"]


class Deferred(Expression):
    """A query parameter computed when the query is compiled: a query that never uses it never computes it."""

    def __init__(self, compute, output_field):
        super().__init__(output_field=output_field)
        self.compute = compute

    def as_sql(self, compiler, connection):
        return "%s", [self.compute()]


def search(queryset, query):
    """
    Filter an excerpt queryset to the matches of ``query`` and annotate each with ``relevance``.

    Relevance is higher for better matches; matches outside the ranking window get 0. The window is
    looked up only if the relevance is used (a count, facets or a random draw never look it up).
    """
    start = Deferred(lambda: window_start(query), output_field=IntegerField())
    if default_connection.vendor == "postgresql":
        tsquery, params = tsquery_sql(query)
        rank = RawSQL(f"ts_rank(excerpts_excerpt.search_vector, {tsquery})::float8", params, output_field=FloatField())
        condition, condition_params = postgresql_condition(query)
        queryset = queryset.extra(where=[condition], params=condition_params)
    elif default_connection.vendor == "sqlite":
        rank = RawSQL(f"-{FTS_TABLE}.rank", (), output_field=FloatField())
        queryset = queryset.extra(
            tables=[FTS_TABLE],
            where=[f"{FTS_TABLE}.rowid = excerpts_excerpt.id", f"{FTS_TABLE} MATCH %s"],
            params=[fts5_expression(query)],
        )
    else:
        raise NotImplementedError(f"Full-text search is not implemented for {default_connection.vendor}.")
    relevance = Case(When(id__gte=start, then=rank), default=Value(0.0), output_field=FloatField())
    return queryset.annotate(relevance=relevance)


RELEVANCE_ORDER = ("-relevance", "-id")
# On SQLite a term in at least one in COMMON_TERM of the newest COMMON_SAMPLE excerpts is "common": see matching().
COMMON_TERM = 4
COMMON_SAMPLE = 4000


def tested_per_excerpt(query):
    """
    Whether a list sorted by date or speaker should test each excerpt for ``query`` (see matching()):
    on SQLite, when the term is in at least one in COMMON_TERM of the newest COMMON_SAMPLE excerpts.
    """
    if default_connection.vendor != "sqlite":
        return False
    with default_connection.cursor() as cursor:
        # A seek and a short doclist walk.
        cursor.execute(
            f"SELECT count(*) FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s "
            f"AND rowid > (SELECT max(rowid) FROM {FTS_TABLE}) - %s",
            [fts5_expression(query), COMMON_SAMPLE],
        )
        return cursor.fetchone()[0] * COMMON_TERM >= COMMON_SAMPLE


def matching(queryset, query, per_excerpt=False):
    """
    Filter an excerpt queryset to the matches of ``query``, without ranking them (the list is sorted by
    date or speaker instead).

    On SQLite a join leads with the FTS5 table: all matches are found, then sorted. For a common term
    that sorted most of the corpus (half a second at a million); ``per_excerpt`` tests each excerpt
    instead (EXISTS), so the walk down the order's index stops after a page. A rarer term keeps the
    join, which finds its few matches at once where the walk would pass many excerpts between two.
    """
    if default_connection.vendor == "postgresql":
        condition, params = postgresql_condition(query)
        return queryset.extra(where=[condition], params=params)
    if default_connection.vendor != "sqlite":
        raise NotImplementedError(f"Full-text search is not implemented for {default_connection.vendor}.")
    expression = fts5_expression(query)
    if per_excerpt:
        return queryset.extra(
            where=[f"EXISTS (SELECT 1 FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s AND rowid = excerpts_excerpt.id)"],
            params=[expression],
        )
    return queryset.extra(
        tables=[FTS_TABLE],
        where=[f"{FTS_TABLE}.rowid = excerpts_excerpt.id", f"{FTS_TABLE} MATCH %s"],
        params=[expression],
    )


def by_id(queryset, descending=False, at_least=None):
    """
    Order a queryset by id, optionally from ``at_least`` on. A search on SQLite is ordered and bounded
    by the FTS5 rowid (the same number), which FTS5 walks in order and seeks to: on the excerpt id,
    SQLite sorted every match first.
    """
    if default_connection.vendor == "sqlite" and FTS_TABLE in queryset.query.extra_tables:
        if at_least is not None:
            queryset = queryset.extra(where=[f"{FTS_TABLE}.rowid >= %s"], params=[at_least])
        return queryset.order_by().extra(order_by=[f"{'-' if descending else ''}{FTS_TABLE}.rowid"])
    if at_least is not None:
        queryset = queryset.filter(id__gte=at_least)
    return queryset.order_by("-id" if descending else "id")


def ranked_only(queryset, query):
    """
    Narrow a searched queryset to the matches inside the ranking window, which lead a relevance order.

    Every ranked match has a relevance above 0 (BM25 and ts_rank are positive for a match) and every
    other match 0, so the first rows of ``-relevance`` order are ranked ones. Sorting only these avoids
    sorting every match of a common term, and the database drives the query from at most RANK_WINDOW ids.
    """
    start = window_start(query)
    if start is None:
        return queryset.none()
    if default_connection.vendor == "postgresql":
        # A constant, not a subquery: the planner sees how narrow the range is (a common term's window is
        # a bitmap AND of the search and the id range, a rare term's a filter on its few matches).
        return queryset.extra(where=["excerpts_excerpt.id >= %s"], params=[start])
    # On SQLite the range is on the FTS table's rowid, so FTS5 itself starts its doclist walk there.
    return queryset.extra(where=[f"{FTS_TABLE}.rowid >= %s"], params=[start])


def highlights(query, ids):
    """Map each of ``ids`` to its best passage with the hits marked by <mark>...</mark>, HTML-escaped."""
    if not ids:
        return {}
    placeholders = ", ".join(["%s"] * len(ids))
    with default_connection.cursor() as cursor:
        if default_connection.vendor == "postgresql":
            tsquery, params = tsquery_sql(query)
            cursor.execute(
                f"SELECT e.id, ts_headline('english', concat_ws(' … ', nullif(e.text, ''), nullif(e.context, ''), "
                f"nullif(e.original_text, '')), {tsquery}, %s) FROM excerpts_excerpt e WHERE e.id IN ({placeholders})",
                (
                    *params,
                    f"StartSel={HIGHLIGHT_START}, StopSel={HIGHLIGHT_END}, MaxWords={HIGHLIGHT_WORDS}, MinWords=12, "
                    'ShortWord=2, MaxFragments=2, FragmentDelimiter=" … "',
                    *ids,
                ),
            )
        else:
            cursor.execute(
                f"SELECT rowid, snippet({FTS_TABLE}, -1, %s, %s, '…', {min(HIGHLIGHT_WORDS, 64)}) FROM {FTS_TABLE} "
                f"WHERE {FTS_TABLE} MATCH %s AND rowid IN ({placeholders})",
                (HIGHLIGHT_START, HIGHLIGHT_END, fts5_expression(query), *ids),
            )
        return {pk: marked(passage) for pk, passage in cursor.fetchall()}


def marked(passage):
    """Escape a passage for HTML and turn the engine's hit marks into <mark> elements."""
    escaped = html.escape(passage or "", quote=False)
    return escaped.replace(HIGHLIGHT_START, "<mark>").replace(HIGHLIGHT_END, "</mark>")


# The index, per engine. Each statement list is run in order; install() drops before creating.

SQLITE_SPEAKER_DOCUMENT = (
    "(SELECT sp.name || ' ' || coalesce((SELECT group_concat(value, ' ') FROM json_each(sp.aliases)), '') "
    "FROM excerpts_speaker sp WHERE sp.id = {speaker_id})"
)
SQLITE_SOURCE_DOCUMENT = "(SELECT so.title FROM excerpts_source so WHERE so.id = {source_id})"


def _sqlite_insert(prefix, where=""):
    return (
        f"INSERT INTO {FTS_TABLE}(rowid, text, original_text, context, speaker, source_title) "
        f"SELECT {prefix}id, {prefix}text, {prefix}original_text, {prefix}context, "
        f"{SQLITE_SPEAKER_DOCUMENT.format(speaker_id=prefix + 'speaker_id')}, "
        f"{SQLITE_SOURCE_DOCUMENT.format(source_id=prefix + 'source_id')}{where}"
    )


SQLITE_DROP_TRIGGERS = [
    "DROP TRIGGER IF EXISTS excerpts_excerpt_search_insert",
    "DROP TRIGGER IF EXISTS excerpts_excerpt_search_update",
    "DROP TRIGGER IF EXISTS excerpts_excerpt_search_delete",
    "DROP TRIGGER IF EXISTS excerpts_speaker_search_insert",
    "DROP TRIGGER IF EXISTS excerpts_speaker_search_update",
    "DROP TRIGGER IF EXISTS excerpts_source_search_insert",
    "DROP TRIGGER IF EXISTS excerpts_source_search_update",
]
SQLITE_DROP_TABLE = [f"DROP TABLE IF EXISTS {FTS_TABLE}"]
SQLITE_TABLE = [
    f"CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5("
    "text, original_text, context, speaker, source_title, tokenize = 'porter unicode61 remove_diacritics 2')",
    # BM25 column weights: the words themselves count most, then who said them and where.
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rank) VALUES ('rank', 'bm25(4.0, 1.0, 1.0, 2.0, 2.0)')",
]
SQLITE_SPEAKER_REFRESH = (
    f"UPDATE {FTS_TABLE} SET speaker = {SQLITE_SPEAKER_DOCUMENT.format(speaker_id='NEW.id')} "
    f"WHERE rowid IN (SELECT id FROM excerpts_excerpt WHERE speaker_id = NEW.id)"
)
SQLITE_SOURCE_REFRESH = (
    f"UPDATE {FTS_TABLE} SET source_title = NEW.title "
    f"WHERE rowid IN (SELECT id FROM excerpts_excerpt WHERE source_id = NEW.id)"
)
SQLITE_TRIGGERS = [
    f"CREATE TRIGGER excerpts_excerpt_search_insert AFTER INSERT ON excerpts_excerpt BEGIN "
    f"{_sqlite_insert('NEW.')}; END",
    f"CREATE TRIGGER excerpts_excerpt_search_update "
    f"AFTER UPDATE OF text, original_text, context, speaker_id, source_id ON excerpts_excerpt BEGIN "
    f"DELETE FROM {FTS_TABLE} WHERE rowid = OLD.id; {_sqlite_insert('NEW.')}; END",
    f"CREATE TRIGGER excerpts_excerpt_search_delete AFTER DELETE ON excerpts_excerpt BEGIN "
    f"DELETE FROM {FTS_TABLE} WHERE rowid = OLD.id; END",
    # loaddata may insert an excerpt before its speaker or source (constraints are deferred).
    f"CREATE TRIGGER excerpts_speaker_search_insert AFTER INSERT ON excerpts_speaker BEGIN "
    f"{SQLITE_SPEAKER_REFRESH}; END",
    f"CREATE TRIGGER excerpts_speaker_search_update AFTER UPDATE OF name, aliases ON excerpts_speaker "
    f"WHEN OLD.name IS NOT NEW.name OR OLD.aliases IS NOT NEW.aliases BEGIN {SQLITE_SPEAKER_REFRESH}; END",
    f"CREATE TRIGGER excerpts_source_search_insert AFTER INSERT ON excerpts_source BEGIN {SQLITE_SOURCE_REFRESH}; END",
    f"CREATE TRIGGER excerpts_source_search_update AFTER UPDATE OF title ON excerpts_source "
    f"WHEN OLD.title IS NOT NEW.title BEGIN {SQLITE_SOURCE_REFRESH}; END",
]
SQLITE_FILL = [
    _sqlite_insert("e.", " FROM excerpts_excerpt e"),
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('optimize')",
]

POSTGRESQL_DROP_TRIGGERS = [
    "DROP TRIGGER IF EXISTS excerpts_excerpt_search ON excerpts_excerpt",
    "DROP TRIGGER IF EXISTS excerpts_speaker_search ON excerpts_speaker",
    "DROP TRIGGER IF EXISTS excerpts_source_search ON excerpts_source",
    "DROP FUNCTION IF EXISTS excerpts_excerpt_search_trigger()",
    "DROP FUNCTION IF EXISTS excerpts_speaker_search_trigger()",
    "DROP FUNCTION IF EXISTS excerpts_source_search_trigger()",
    "DROP FUNCTION IF EXISTS excerpts_search_document(text, text, text, bigint, bigint)",
]
POSTGRESQL_DROP_TABLE = [
    "DROP INDEX IF EXISTS excerpt_search_vector",
    "ALTER TABLE excerpts_excerpt DROP COLUMN IF EXISTS search_vector",
]
POSTGRESQL_TABLE = [
    "ALTER TABLE excerpts_excerpt ADD COLUMN search_vector tsvector",
    "CREATE INDEX excerpt_search_vector ON excerpts_excerpt USING gin (search_vector)",
]
POSTGRESQL_TRIGGERS = [
    # Weights: the words themselves (A), who said them and where (B), the curator's note (C), the original (D).
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
    "CREATE TRIGGER excerpts_excerpt_search BEFORE INSERT OR UPDATE OF text, original_text, context, speaker_id, "
    "source_id ON excerpts_excerpt FOR EACH ROW EXECUTE FUNCTION excerpts_excerpt_search_trigger()",
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
    "CREATE TRIGGER excerpts_speaker_search AFTER INSERT OR UPDATE OF name, aliases ON excerpts_speaker "
    "FOR EACH ROW EXECUTE FUNCTION excerpts_speaker_search_trigger()",
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
    "CREATE TRIGGER excerpts_source_search AFTER INSERT OR UPDATE OF title ON excerpts_source "
    "FOR EACH ROW EXECUTE FUNCTION excerpts_source_search_trigger()",
]
POSTGRESQL_FILL = [
    "UPDATE excerpts_excerpt SET search_vector = excerpts_search_document("
    "text, original_text, context, speaker_id, source_id)",
]

STATEMENTS = {
    "sqlite": {
        "drop_triggers": SQLITE_DROP_TRIGGERS,
        "drop_table": SQLITE_DROP_TABLE,
        "table": SQLITE_TABLE,
        "triggers": SQLITE_TRIGGERS,
        # FTS5 has no "delete everything but keep the settings" short of dropping the table.
        "empty": SQLITE_DROP_TABLE + SQLITE_TABLE,
        "fill": SQLITE_FILL,
    },
    "postgresql": {
        "drop_triggers": POSTGRESQL_DROP_TRIGGERS,
        "drop_table": POSTGRESQL_DROP_TABLE,
        "table": POSTGRESQL_TABLE,
        "triggers": POSTGRESQL_TRIGGERS,
        # The column stays: ALTER TABLE is refused inside a transaction with pending constraint checks.
        "empty": [],
        "fill": POSTGRESQL_FILL,
    },
}


def _run(connection, *steps):
    statements = STATEMENTS.get(connection.vendor)
    if statements is None:
        raise NotImplementedError(f"Full-text search is not implemented for {connection.vendor}.")
    with connection.cursor() as cursor:
        for step in steps:
            for statement in statements[step]:
                cursor.execute(statement)


def install(connection):
    """Create the index and its triggers and index the excerpts already there. Migrations call this."""
    _run(connection, "drop_triggers", "drop_table", "table", "triggers", "fill")


def uninstall(connection):
    """Drop the index and its triggers."""
    _run(connection, "drop_triggers", "drop_table")


def rebuild(connection):
    """Re-create the triggers and index every excerpt again."""
    _run(connection, "drop_triggers", "empty", "triggers", "fill")


def drop_triggers(connection):
    """Stop maintaining the index, for a bulk load; call rebuild() afterwards."""
    _run(connection, "drop_triggers")
