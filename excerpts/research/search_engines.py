"""
The two search engines behind ``search.SearchPlan``: SQLite's FTS5 and PostgreSQL's tsvector.

Each builds its querysets from Django expressions (the unmanaged ``SearchEntry`` model and its ``match``
lookup on SQLite, ``django.contrib.postgres.search`` on PostgreSQL), with the values the plan looked up
beforehand as constants. The statements SQLite runs on every ranked search and that read the index alone (where
the ranking window starts, the window ranked) are written in SQL: building them as querysets cost more than running
them. Both compile the parsed query the same way (a phrase in order, the last word of an unquoted term a prefix) and
rank with the same two values (``search.IN_THE_WORDS``, ``search.ELSEWHERE``).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from django.contrib.postgres.expressions import ArraySubquery
from django.contrib.postgres.search import SearchQuery as PostgresSearchQuery
from django.contrib.postgres.search import SearchVectorExact, SearchVectorField
from django.db import connections
from django.db.models import (
    BooleanField,
    Case,
    Exists,
    Expression,
    F,
    FloatField,
    Func,
    Lookup,
    Max,
    Min,
    OuterRef,
    Subquery,
    Value,
    When,
)
from django.db.models.lookups import In

from ..db.routers import read_database
from ..db.search_index import FTS_TABLE, PREFIX_INDEXES
from ..models import Excerpt, SearchEntry
from . import limits
from .search import ELSEWHERE, IN_THE_WORDS, Engine, SearchQuery, Term

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from django.db.models import QuerySet


# The FTS5 columns of the excerpt's own words, translated and original.
WORDS_COLUMNS = "{text original_text}"
# PostgreSQL looks for a search's ranking window among the newest RANK_WINDOW x WINDOW_STRETCH excerpts first: the
# whole window is there for a term in one excerpt in 25 or more.
WINDOW_STRETCH = 25
# For a plain query PostgreSQL first tests the newest PROBE excerpts one by one: the share that match says whether
# the window is found faster by walking down the primary key, testing each row, than by reading the GIN index.
PROBE = 2000
# The walk is taken when the probe's share puts at least this many times RANK_WINDOW matches in the stretch.
WALK_MARGIN = 1.2
TABLE = Excerpt._meta.db_table
PUBLISHED = Excerpt.Status.PUBLISHED
# Every excerpt but a published one, found in the status index as a range either side of it (parameters: PUBLISHED
# twice), and how many there are, up to a bound (a third parameter).
UNPUBLISHED = f"SELECT id FROM {TABLE} WHERE (status < %s OR status > %s)"
UNPUBLISHED_UP_TO = f"SELECT count(*) FROM ({UNPUBLISHED} LIMIT %s) AS unpublished"
# A count with no bound: more than any table holds, less than SQLite's largest integer.
MAX_COUNT = 2**62


class SQLiteSearch(Engine):
    """FTS5: the index is joined by rowid (the excerpt id) and matched with MATCH."""

    ranks_alone = True
    counts_alone = True

    @staticmethod
    def quoted(term: Term) -> str:
        """A term as an FTS5 phrase: its words double-quoted, ``*`` after it when its last word is a prefix."""
        # Words hold only letters and digits, so there is no quotation mark to escape.
        return '"' + " ".join(term.words) + '"' + ("*" if term.prefix else "")

    def expression(self) -> str:
        """The FTS5 MATCH expression: every term a double-quoted string of word characters."""
        expression = " AND ".join(self.quoted(term) for term in self.query.included)
        for term in self.query.excluded:
            expression = f"({expression}) NOT {self.quoted(term)}"
        return expression

    def words_expression(self) -> str:
        """The MATCH expression of the excerpts whose own words (text, original text) hold every included term."""
        return f"{WORDS_COLUMNS} : (" + " AND ".join(self.quoted(term) for term in self.query.included) + ")"

    def entries(self) -> QuerySet:
        return SearchEntry.objects.filter(document__match=self.expression())

    def matching(self, queryset: QuerySet) -> QuerySet:
        # A join led by the index: every match is found at once, then the rest of the query applies.
        return queryset.filter(search_entry__document__match=self.expression())

    def __init__(self, query: SearchQuery):
        super().__init__(query)
        self._sample: int | None = None
        self._narrower: dict[tuple[str, tuple[Any, ...]], bool] = {}

    def sample(self) -> int:
        """How many of the newest COMMON_SAMPLE excerpts match: a seek and a short walk of the index, asked once."""
        if self._sample is None:
            newest = SearchEntry.objects.order_by("-pk").values("pk")[:1]
            self._sample = self.entries().filter(pk__gt=Subquery(newest) - limits.COMMON_SAMPLE).count()
        return self._sample

    def is_common(self) -> bool:
        """Whether at least one in COMMON_TERM of the newest COMMON_SAMPLE excerpts match."""
        return self.sample() * limits.COMMON_TERM >= limits.COMMON_SAMPLE

    def narrower(self, queryset: QuerySet) -> bool:
        """
        Whether fewer of the newest COMMON_SAMPLE excerpts pass the filters than match the query (a walk of those
        rows, once per filtered set): the filters then lead, and a count reads their rows, not the query's matches.
        A speaker's excerpts searched for a word in one excerpt in ten read 3,000 rows instead of 100,000.
        """
        # Imported here: facets reads search results, and this module is part of search.
        from .facets import filtered, filters_on_id, walk_by_id

        if not filtered(queryset) or filters_on_id(queryset):
            # Nothing narrows the excerpts but their status; or a topic's do, a list of ids already, every one of
            # which SQLite would read to test it against the other list.
            return False
        newest = Excerpt.objects.order_by("-id").values("id")[:1]
        recent = queryset.order_by().filter(id__gt=Subquery(newest) - limits.COMMON_SAMPLE).values("id")
        sql, params = walk_by_id(recent).query.sql_with_params()
        key = (sql, tuple(params))
        if key not in self._narrower:
            self._narrower[key] = read_rows(f"SELECT count(*) FROM ({sql}) AS sample", params)[0][0] < self.sample()
        return self._narrower[key]

    def listed(self, queryset: QuerySet) -> QuerySet:
        """
        The excerpts the filters' index finds, each looked up in the list of the query's matches, which SQLite builds
        once. The id is written ``+id`` so that the list does not lead (as an excerpt id, SQLite would look up
        every match in the table, which is what a join does).
        """
        return queryset.filter(In(Func(F("id"), template="+%(expressions)s"), self.entries().values("pk")))

    def tested_per_excerpt(self, queryset: QuerySet) -> QuerySet:
        """
        Each excerpt tested for a match (EXISTS), so the walk down a date or speaker index stops after a page:
        the join sorted every match of a common term first (half a second at a million). A rarer term keeps the
        join, which finds its few matches at once where the walk would pass many excerpts between two. So does a
        topic's list of excerpts: the join tests each match against the list without reading a row, where the test per
        excerpt read every excerpt of the topic (0.7 s for a topic and a word in one excerpt in ten, at 1M).
        """
        # Imported here: facets reads search results, and this module is part of search.
        from .facets import filters_on_id

        if filters_on_id(queryset):
            return self.matching(queryset)
        if self.merges_prefixes():
            # Each test would merge the words the prefix begins afresh (a common word sorted by date at 200,000
            # excerpts: 147 ms, 20 ms as a list): the list of matches, built once, is tested instead.
            return self.listed(queryset)
        return queryset.filter(Exists(self.entries().filter(pk=OuterRef("pk"))))

    def merges_prefixes(self) -> bool:
        """Whether a term ends in a prefix longer than FTS5's prefix indexes, which a lookup merges word by word."""
        return any(term.prefix and len(term.words[-1]) > max(PREFIX_INDEXES) for term in self.query.terms)

    def window_start(self) -> int | None:
        # The newest matches, walked down the index's rowids: 0.2 ms, against 0.9 ms to build the same as a queryset.
        newest = f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s ORDER BY rowid DESC LIMIT %s"
        return read_rows(f"SELECT MIN(rowid) FROM ({newest})", [self.expression(), limits.RANK_WINDOW])[0][0]

    def ranked_window(self, window_start: int) -> list[tuple[float, int]]:
        """
        The matches in the window as (relevance, id), best first, ranked in the index alone: joined to the excerpts,
        every match was looked up in their table before the sort (2 ms of a rare term's 4 ms at 200,000).
        """
        # The same floats rank() gives SQL, so cursors agree.
        in_the_words = f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s AND rowid >= %s"
        rows = read_rows(
            f"SELECT CASE WHEN rowid IN ({in_the_words}) THEN %s ELSE %s END, rowid FROM {FTS_TABLE} "
            f"WHERE {FTS_TABLE} MATCH %s AND rowid >= %s",
            [self.words_expression(), window_start, IN_THE_WORDS, ELSEWHERE, self.expression(), window_start],
        )
        rows.sort(reverse=True)
        return rows

    def count_published(self, at_most: int | None) -> int | None:
        """
        The index's matches less the drafts among them, in one statement: the drafts are counted in the status index
        (every excerpt but a published one, a range either side of its status), the matches in the index up to
        ``at_most`` more than the drafts (enough: at least ``at_most`` of them are published), and only short of that
        each draft is looked up in the list of matches (CASE runs the subquery only when it is reached). None where
        there are more than COUNT_LIMIT drafts: testing each would cost more than testing each match's status.
        """
        matches = f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s"
        # +id: each draft the status index finds is looked up in the list of matches, built once.
        matched = f"SELECT count(*) FROM ({UNPUBLISHED} AND +id IN ({matches}))"
        wanted = MAX_COUNT if at_most is None else at_most
        ((drafts, found, drafts_matched),) = read_rows(
            f"WITH drafts(n) AS ({UNPUBLISHED_UP_TO}), "
            f"found(n) AS (SELECT count(*) FROM ({matches} LIMIT %s + (SELECT n FROM drafts))) "
            "SELECT drafts.n, found.n, "
            f"CASE WHEN drafts.n = 0 OR drafts.n > %s OR found.n >= %s + drafts.n THEN 0 ELSE ({matched}) END "
            "FROM drafts, found",
            [
                *(PUBLISHED, PUBLISHED, limits.COUNT_LIMIT + 1),
                *(self.expression(), wanted),
                *(limits.COUNT_LIMIT, wanted),
                *(PUBLISHED, PUBLISHED, self.expression()),
            ],
        )
        if drafts > limits.COUNT_LIMIT:
            return None
        return min(found - drafts_matched, wanted)

    def rank(self, window_start: int) -> Expression:
        # The window's matches in the words, listed once by the index (IN a subquery is computed once).
        in_the_words = SearchEntry.objects.filter(document__match=self.words_expression(), pk__gte=window_start)
        return Case(
            When(id__in=in_the_words.values("pk"), then=Value(IN_THE_WORDS)),
            default=Value(ELSEWHERE),
            output_field=FloatField(),
        )

    def within_window(self, queryset: QuerySet, window_start: int) -> QuerySet:
        # On the index's rowid, so FTS5 itself starts its walk of the matches there.
        return queryset.filter(search_entry__pk__gte=window_start)

    @classmethod
    def by_id(cls, queryset: QuerySet, descending: bool = False, at_least: int | None = None) -> QuerySet:
        if not is_searched(queryset):
            return super().by_id(queryset, descending, at_least)
        # FTS5 walks its rowids in order and seeks to one; on the excerpt id SQLite sorted every match first.
        if at_least is not None:
            queryset = queryset.filter(search_entry__pk__gte=at_least)
        rowid = F("search_entry__pk")  # an expression: by name, Django would sort by the excerpt's own ordering
        return queryset.order_by(rowid.desc() if descending else rowid.asc())


def read_rows(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    """The rows of a statement written in SQL, read from the request's database (a replica's, for public reads)."""
    with connections[read_database()].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def is_searched(queryset: QuerySet) -> bool:
    """Whether the queryset joins SQLite's search index (a search's matches)."""
    return any(join.table_name == SearchEntry._meta.db_table for join in queryset.query.alias_map.values())


class Document(Expression):
    """The excerpt's ``search_vector`` column, kept by triggers outside the model, in the query it is used in."""

    output_field = SearchVectorField()
    alias = ""  # the base table's alias in the query, set when resolved

    def resolve_expression(
        self,
        query: Any = None,
        allow_joins: bool = True,
        reuse: Any = None,
        summarize: bool = False,
        for_save: bool = False,
    ) -> Document:
        resolved = self.copy()
        resolved.alias = query.get_initial_alias()
        return resolved

    def relabeled_clone(self, change_map: Mapping[str, str]) -> Document:
        clone = self.copy()
        clone.alias = change_map.get(self.alias, self.alias)
        return clone

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        return f"{compiler.quote_name_unless_alias(self.alias)}.search_vector", []


class TestedPerRow(Func):
    """
    A condition as PostgreSQL's planner cannot match to an index (``IS TRUE`` around it): tested on each row read,
    so that a scan down another index (the primary key's, newest first) stops as soon as its LIMIT is met.
    """

    template = "(%(expressions)s) IS TRUE"
    output_field = BooleanField()


class EqualsAny(Lookup):
    """``value = ANY(ARRAY(subquery))``: PostgreSQL computes the array once, as an init plan."""

    lookup_name = "equals_any"

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)  # parenthesized, as ANY wants it
        return f"{lhs} = ANY{rhs}", [*lhs_params, *rhs_params]


class PostgreSQLSearch(Engine):
    """A tsvector column with a GIN index, matched with @@."""

    CONFIG = "simple"
    ranks_alone = True
    counts_alone = True

    def __init__(self, query: SearchQuery):
        super().__init__(query)
        self.rare_phrase = self.has_rare_phrase()
        # What the statement that finds the ranking window (window_start) learns on the way: how many matches it
        # reads at most, the window ranked, how many matches it read, and (published, exact) once that says the count.
        self._enough = limits.RANK_WINDOW
        self._ranked: list[tuple[float, int]] = []
        self._found = 0
        self._published: tuple[int, bool] | None = None

    @staticmethod
    def phrase(term: Term, weights: str = "") -> str:
        """
        A term in to_tsquery's syntax: its words quoted lexemes, each followed (<->) by the next, the last one a
        prefix (``:*``) when the term's is, each found only in a field of ``weights`` when it is given.
        """
        # Words hold only letters and digits: there is no quotation mark to double.
        lexemes = [f"'{word}'" + (":" + weights if weights else "") for word in term.words]
        if term.prefix:
            lexemes[-1] = f"'{term.words[-1]}':*{weights}"
        return " <-> ".join(lexemes)

    @classmethod
    def tsquery_text(cls, query: SearchQuery) -> str:
        """
        The query in to_tsquery's syntax: each term a phrase of its words, ANDed, the excluded ones negated and first.
        A row is tested left to right, and an excluded word is one lookup where a phrase compares positions: a row
        that holds it is rejected before its phrases are tested (the 254,000 rows `"the of" -and` tests for its
        count of 10,001 took 204 ms instead of 238-258).
        """
        parts = [f"!({cls.phrase(term)})" for term in query.excluded]
        parts += [f"({cls.phrase(term)})" for term in query.included]
        return " & ".join(parts)

    def tsquery(self) -> PostgresSearchQuery:
        """The tsquery of the matches."""
        return PostgresSearchQuery(self.tsquery_text(self.query), config=self.CONFIG, search_type="raw")

    def words_tsquery_text(self) -> str:
        """In to_tsquery's syntax, the query of excerpts whose own words (weight A: text, original text) hold every
        included term."""
        return " & ".join(f"({self.phrase(term, weights='A')})" for term in self.query.included)

    def words_tsquery(self) -> PostgresSearchQuery:
        """The tsquery of excerpts whose own words hold every included term."""
        return PostgresSearchQuery(self.words_tsquery_text(), config=self.CONFIG, search_type="raw")

    def condition(self, queryset: QuerySet) -> QuerySet:
        """``queryset`` narrowed by the plain condition: the excerpt's tsvector matches the tsquery (@@)."""
        return queryset.alias(document=Document()).filter(document=self.tsquery())

    def is_plain(self) -> bool:
        """
        Whether the index alone tells the matches (words and prefixes, no phrase and no exclusion). A phrase's or an
        exclusion's candidates are tested in the table, so a stretch of the newest ids that must hold many matches
        tests them newest first down the primary key: 100,000 excerpts for ``"the of" -and``.
        """
        return not self.query.excluded and not any(term.is_phrase for term in self.query.terms)

    def newest_stretch(self, count: int) -> int | None:
        """
        For a plain query, the id above which a term in one excerpt in WINDOW_STRETCH has ``count`` matches: where
        that many match, the newest ``count`` of all are there. None otherwise, or where that is every excerpt.
        """
        if not self.is_plain():
            return None
        bounds = Excerpt.objects.aggregate(lowest=Min("id"), highest=Max("id"))
        if bounds["highest"] is None or bounds["highest"] - count * WINDOW_STRETCH < bounds["lowest"]:
            return None  # no excerpts, or too few for the stretch to be less than all of them
        return bounds["highest"] - count * WINDOW_STRETCH

    def has_rare_phrase(self) -> bool:
        """
        Whether a phrase of the query is in fewer than one in RARE_PHRASE of the newest PHRASE_SAMPLE excerpts.

        PostgreSQL estimates a phrase as common as its words found together anywhere in an excerpt, which for
        two common words is fifty times too many: it then walks a sort order's index testing each row (0.4 s for
        a phrase of two common words sorted by speaker at 1M). Such a phrase is looked up first (see matching).
        """
        if not any(term.is_phrase for term in self.query.included):
            return False
        newest = Excerpt.objects.order_by("-id").values("id")[:1]
        recent = Excerpt.objects.order_by().filter(id__gt=Subquery(newest) - limits.PHRASE_SAMPLE)
        sample = self.condition(recent).count()
        return sample * limits.RARE_PHRASE < limits.PHRASE_SAMPLE

    def matching(self, queryset: QuerySet) -> QuerySet:
        if self.rare_phrase:
            # ANY(ARRAY(...)) is computed once, before the rest of the query; the excerpts are then fetched by id.
            found = self.condition(Excerpt.objects.order_by()).values("id")
            return queryset.filter(EqualsAny(F("id"), ArraySubquery(found)))
        return self.condition(queryset)

    def window_start(self) -> int | None:
        """
        Where the newest RANK_WINDOW matches start, looked for among the newest excerpts first; the statement that
        finds the window also ranks it (for ``ranked_window``). A GIN index gives its matches in no order, so finding
        the newest of them read every match: a word that begins many others, in 5% of a million excerpts, read
        43,000 pages of the table in 243 ms. Among the newest ids alone (a bitmap of the primary key's range ANDed
        with the index's) it reads the matches of that stretch: 2,500 pages, 27 ms. A stretch that holds fewer than
        RANK_WINDOW matches is widened once, as far as its share of matches says the window reaches, and then to
        every excerpt; straight to every excerpt when that share says there are too few matches to need a count of
        their own, and then that statement also counts the published ones (for ``count_published``): a term in 4,500
        of a million excerpts took three statements that each read the index (16-43 ms each), now two. A plain term
        that the statement reading the bounds finds in enough of the newest PROBE excerpts is looked for in the first
        stretch by walking down it instead (see read_newest): for a term in 7% of a million excerpts, 17-26 ms where
        reading the index took 40-55.
        """
        probe, probed = "SELECT NULL::bigint", []
        if self.is_plain():
            # The newest PROBE excerpts' words tested in the select list, where no index can answer them: the primary
            # key walked down PROBE rows (about 1 ms at a million), whatever the term.
            probe = (
                "SELECT count(*) FILTER (WHERE hit) FROM (SELECT search_vector @@ to_tsquery(%s::regconfig, %s) AS "
                f"hit FROM {TABLE} ORDER BY id DESC LIMIT %s) AS newest"
            )
            probed = [self.CONFIG, self.tsquery_text(self.query), PROBE]
        bounds = read_rows(
            f"SELECT (SELECT min(id) FROM {TABLE}), (SELECT max(id) FROM {TABLE}), ({UNPUBLISHED_UP_TO}), ({probe})",
            [PUBLISHED, PUBLISHED, limits.COUNT_LIMIT + 1, *probed],
        )
        lowest, highest, drafts, probed_matches = bounds[0]
        if highest is None:
            return None
        # Reading every match, enough of them that at least COUNT_LIMIT + 1 are published, drafts or not (a count
        # over that bound says so and no more); past COUNT_LIMIT drafts, the window alone.
        self._enough = limits.COUNT_LIMIT + 1 + drafts if drafts <= limits.COUNT_LIMIT else limits.RANK_WINDOW
        if self.rare_phrase:
            # Its matches are listed once per statement (see matching), all of them whatever the stretch.
            return self.read_newest(None, self._enough)
        stretch = limits.RANK_WINDOW * WINDOW_STRETCH
        # A term dense enough among the newest excerpts has its window found by walking down the first stretch.
        walk = probed_matches is not None and probed_matches * stretch >= limits.RANK_WINDOW * WALK_MARGIN * PROBE
        for _ in range(2):
            beyond = highest - stretch  # the stretch is the ids above it
            if beyond < lowest:
                break
            start = self.read_newest(beyond, limits.RANK_WINDOW, walk=walk)
            walk = False
            if self._found >= limits.RANK_WINDOW:
                return start  # the newest matches of all are the stretch's
            if not self._found or self._found * (highest - lowest) / stretch * 1.5 < self._enough:
                break
            stretch = math.ceil(stretch * limits.RANK_WINDOW / self._found * 1.5)
        return self.read_newest(None, self._enough)

    def read_newest(self, beyond: int | None, limit: int, walk: bool = False) -> int | None:
        """
        Read the newest matches with an id above ``beyond`` (any id if None), up to ``limit`` of them: keep the
        newest RANK_WINDOW ranked, as (relevance, id) best first, how many matched, and how many of them are
        published once that says the count; give the least id of the window. With ``walk``, the same matches are
        found by testing each excerpt down the primary key until ``limit`` match: a GIN index read for a prefix that
        begins many words costs 30-40 ms before it gives a row (a term in 7% of a million), where the walk finds the
        newest 2,000 of such a term in about 20 ms.
        """
        excerpts = Excerpt.objects.order_by() if beyond is None else Excerpt.objects.order_by().filter(id__gt=beyond)
        newest: QuerySet
        if walk:
            newest = excerpts.filter(TestedPerRow(SearchVectorExact(Document(), self.tsquery()))).order_by("-id")
        else:
            newest = self.matching(excerpts).order_by("-id")
        rank = "CASE WHEN {}.vector @@ to_tsquery(%s::regconfig, %s) THEN %s::float8 ELSE %s::float8 END"
        ranking = [self.CONFIG, self.words_tsquery_text(), IN_THE_WORDS, ELSEWHERE]
        if limit <= limits.RANK_WINDOW:
            # Each kept row ranked once the sort has kept it (in the sort, every match read would be): a window's
            # worth of words goes through the sort in memory.
            sql, params = (
                newest.annotate(vector=Document()).values("id", "status", "vector")[:limit].query.sql_with_params()
            )
            rows = read_rows(
                f"SELECT {rank.format('newest')}, newest.id, newest.status FROM ({sql}) AS newest", [*ranking, *params]
            )
            self._ranked = sorted(((relevance, pk) for relevance, pk, _ in rows), reverse=True)
            self._found, published = len(rows), sum(status == PUBLISHED for _, _, status in rows)
        else:
            # More than the window: the matches kept without their words (which would spill the sort to disk), the
            # window's rows read again by id (in pages the statement has just read) to be ranked.
            sql, params = newest.values("id", "status")[:limit].query.sql_with_params()
            rows = read_rows(
                f"WITH found AS MATERIALIZED ({sql}), kept AS (SELECT id FROM found ORDER BY id DESC LIMIT %s), "
                f"e AS (SELECT e.id, e.search_vector AS vector FROM {TABLE} e JOIN kept ON e.id = kept.id) "
                f"SELECT {rank.format('e')}, e.id, (SELECT count(*) FROM found), "
                "(SELECT count(*) FROM found WHERE status = %s) FROM e",
                [*params, limits.RANK_WINDOW, *ranking, PUBLISHED],
            )
            self._ranked = sorted(((relevance, pk) for relevance, pk, _, _ in rows), reverse=True)
            self._found, published = (rows[0][2], rows[0][3]) if rows else (0, 0)
        if self._found >= limit == self._enough:
            self._published = (published, False)  # at least this many are published: the bound is reached
        elif beyond is None and self._found < limit:
            self._published = (published, True)  # every match was read
        return min((pk for _, pk in self._ranked), default=None)

    def count_published(self, at_most: int | None) -> int | None:
        """The published matches the window's statement counted, when it read enough of them (or every one)."""
        if self._published is None:
            return None
        published, exact = self._published
        if exact:
            return published if at_most is None else min(published, at_most)
        if at_most is not None and published >= at_most:
            return at_most
        return None

    def ranked_window(self, window_start: int) -> list[tuple[float, int]]:
        """The window ranked by the statement that found where it starts (``window_start``)."""
        assert self._ranked and min(pk for _, pk in self._ranked) == window_start, window_start
        return self._ranked

    def rank(self, window_start: int) -> Expression:
        # Tested only for the window's rows: the CASE of ranked() reaches this one for them alone.
        return Case(
            When(SearchVectorExact(Document(), self.words_tsquery()), then=Value(IN_THE_WORDS)),
            default=Value(ELSEWHERE),
            output_field=FloatField(),
        )

    def within_window(self, queryset: QuerySet, window_start: int) -> QuerySet:
        # A constant, not a subquery: the planner sees how narrow the range is (a common term's window is a
        # bitmap AND of the search and the id range, a rare term's a filter on its few matches).
        return queryset.filter(id__gte=window_start)


ENGINES = {"sqlite": SQLiteSearch, "postgresql": PostgreSQLSearch}
