"""
Full-text search over excerpts: the query language, the index on each database, ranking and highlights.

What is searched: the excerpt's text, original text and context, the speaker's name and aliases, and
the source's title, stemmed (``communes`` finds ``commune``).

The query language is small and safe: words are ANDed, ``"a quoted phrase"`` matches as a phrase,
``-word`` or ``-"a phrase"`` excludes. ``parse_query`` turns what a user typed into a ``SearchQuery``
of plain words, and each engine gets an expression built from those words only, never the user's
raw syntax: FTS5 MATCH receives double-quoted strings of word characters, PostgreSQL receives the
words as parameters of ``plainto_tsquery``/``phraseto_tsquery`` joined with ``&&`` and ``!!``.

The index lives in the database and triggers keep it current on every write path
(``excerpts.db.search_index``): an FTS5 table on SQLite, a tsvector column with a GIN index on PostgreSQL.

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

from ..db.search_index import FTS_TABLE

MAX_TERMS = 12
# On PostgreSQL a phrase in fewer than one in RARE_PHRASE of the newest PHRASE_SAMPLE excerpts is looked up first.
RARE_PHRASE, PHRASE_SAMPLE = 100, 4000
RANK_WINDOW = 2000
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
