"""
Full-text search over excerpts: the query language, and a plan that answers one request's search.

What is searched: the excerpt's text, original text and context, the speaker's name and aliases, and
the source's title, stemmed (``communes`` finds ``commune``). The index lives in the database and
triggers keep it current on every write path (``excerpts.db.search_index``): an FTS5 table on SQLite
(read through the unmanaged ``SearchEntry`` model), a tsvector column with a GIN index on PostgreSQL
(read through ``django.contrib.postgres.search``).

The query language is small and safe: words are ANDed, ``"a quoted phrase"`` matches as a phrase,
``-word`` or ``-"a phrase"`` excludes. ``parse_query`` turns what a user typed into a ``SearchQuery``
of plain words, and each engine gets an expression built from those words only, never the user's raw
syntax: FTS5 MATCH receives double-quoted strings of word characters, PostgreSQL receives the words as
parameters of ``plainto_tsquery``/``phraseto_tsquery``.

A ``SearchPlan`` is built once per request from the parsed query and the order the rows are read in.
Every question the database must answer before the page's query (is this term common, where does the
ranking window start) is asked while the plan is built, so the querysets it returns carry constants:
nothing runs while Django compiles them. The plan gives the matching rows in the form cheapest for the
order, the same set in the form cheapest to count, the ranked head of a relevance order, and highlights.

Ranking is bounded: only the ``RANK_WINDOW`` most recently added matches of a query are ranked by
relevance (BM25 on SQLite, ``ts_rank`` on PostgreSQL); older matches of a very common query follow
them, newest first. A rare term is ranked in full; a term found in half the corpus costs the same
ranking work as one found in ``RANK_WINDOW`` excerpts.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

from django.db import connection as default_connection
from django.db.models import Case, Expression, FloatField, Value, When

from . import limits

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from django.db.models import QuerySet

HIGHLIGHT_START, HIGHLIGHT_END = "\ue000", "\ue001"  # private-use marks, HTML-escaped around, then <mark>
RELEVANCE_ORDER = ("-relevance", "-id")

WORD = re.compile(r"[^\W_]+")  # letters and digits: punctuation and "_" separate words, as in both indexes
TOKEN = re.compile(r'\s*(-?)(?:"([^"]*)"|([^\s"]+))')


class QueryError(ValueError):
    """The query cannot be searched; the message says why, for the person who typed it."""


@dataclass(frozen=True)
class Term:
    """One or more words that must appear together, in order (a phrase when more than one)."""

    words: tuple[str, ...]
    excluded: bool = False

    @property
    def is_phrase(self) -> bool:
        return len(self.words) > 1


@dataclass(frozen=True)
class SearchQuery:
    """A parsed query: terms that must all match, and terms that must not."""

    terms: tuple[Term, ...]

    @property
    def included(self) -> list[Term]:
        return [term for term in self.terms if not term.excluded]

    @property
    def excluded(self) -> list[Term]:
        return [term for term in self.terms if term.excluded]


def parse_query(text: str) -> SearchQuery:
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
    if len(terms) > limits.MAX_TERMS:
        raise QueryError(f"The query has {len(terms)} words or phrases; at most {limits.MAX_TERMS} are allowed.")
    query = SearchQuery(terms=tuple(dict.fromkeys(terms)))
    if not query.included:
        raise QueryError("The query has no word to search for: give at least one word that is not excluded.")
    return query


def engine() -> type[Engine]:
    """The search engine of the default database."""
    # Imported here: the engines subclass Engine, below.
    from .search_engines import ENGINES

    vendor = default_connection.vendor
    if vendor not in ENGINES:
        raise NotImplementedError(f"Full-text search is not implemented for {vendor}.")
    return ENGINES[vendor]


class Engine:
    """What a search engine answers; ``search_engines`` has one subclass per database."""

    ranks_alone = False  # whether the engine ranks matches in its index, without reading the excerpts

    def __init__(self, query: SearchQuery):
        self.query = query

    def matching(self, queryset: QuerySet) -> QuerySet:
        """The matches of the query, in the form that finds them all fastest (a count, facets, a sort of all)."""
        raise NotImplementedError

    def tested_per_excerpt(self, queryset: QuerySet) -> QuerySet:
        """
        The matches in the form that tests each excerpt in turn, for a walk down an order's index that stops
        after a page; ``matching`` where the engine has no better form for that.
        """
        return self.matching(queryset)

    def window_start(self) -> int | None:
        """The smallest id among the newest RANK_WINDOW matches, or None when nothing matches."""
        raise NotImplementedError

    def rank(self) -> Expression:
        """How well a match matches, higher for better matches (positive for every match)."""
        raise NotImplementedError

    def ranked(self, queryset: QuerySet, window_start: int | None) -> QuerySet:
        """The matches, each with a ``relevance``: its rank inside the window, 0 outside."""
        relevance: Expression = Value(0.0)
        if window_start is not None:
            relevance = Case(
                When(id__gte=window_start, then=self.rank()), default=relevance, output_field=FloatField()
            )
        return self.matching(queryset).annotate(relevance=relevance)

    def within_window(self, queryset: QuerySet, window_start: int) -> QuerySet:
        """Narrow the ranked matches to the window, which leads a relevance order."""
        raise NotImplementedError

    def ranked_window(self, window_start: int) -> list[tuple[float, int]]:
        """
        Every match in the window as (relevance, id), best first, ranked by the index alone, whatever the excerpts'
        status: for an engine that ``ranks_alone``.
        """
        raise NotImplementedError

    def is_common(self) -> bool:
        """Whether the query matches so many excerpts that testing each on the way down an order's index wins."""
        return False

    def narrower(self, queryset: QuerySet) -> bool:
        """Whether the filters of ``queryset`` match fewer excerpts than the query, so they had better lead."""
        return False

    def listed(self, queryset: QuerySet) -> QuerySet:
        """
        The matches in the form led by the filters' own index, each excerpt looked up in the list of the query's
        matches (built once); ``matching`` where the engine has no better form for that.
        """
        return self.matching(queryset)

    @classmethod
    def by_id(cls, queryset: QuerySet, descending: bool = False, at_least: int | None = None) -> QuerySet:
        """Order excerpts (searched or not) by id, from ``at_least`` on."""
        if at_least is not None:
            queryset = queryset.filter(id__gte=at_least)
        return queryset.order_by("-id" if descending else "id")

    def highlights(self, ids: Sequence[int]) -> dict[int, str]:
        """Each of ``ids`` with its best passage, the hits between HIGHLIGHT_START and HIGHLIGHT_END."""
        raise NotImplementedError


@dataclass(frozen=True)
class SearchPlan:
    """
    How one request reads the matches of its query, decided once, before any page query is built.

    ``ordering`` is the order the rows are read in (its sort keys), or None for an unordered read (a
    count, facets, a random draw). A relevance order ranks the newest matches; a date or speaker order
    of a common term tests each excerpt on the way down the order's index, where the engine can.
    """

    engine: Engine
    ordering: tuple[str, ...] | None
    per_excerpt: bool
    window_start: int | None

    @classmethod
    def build(cls, query: SearchQuery, ordering: Sequence[str] | None = None) -> SearchPlan:
        search = engine()(query)
        ordering = tuple(ordering) if ordering is not None else None
        ranked = is_relevance(ordering)
        per_excerpt = ordering is not None and not ranked and search.is_common()
        return cls(search, ordering, per_excerpt, search.window_start() if ranked else None)

    @property
    def ranked(self) -> bool:
        return is_relevance(self.ordering)

    def rows(self, queryset: QuerySet) -> QuerySet:
        """The matches among ``queryset``, ordered by the plan's ordering when it has one."""
        if self.ranked:
            queryset = self.engine.ranked(queryset, self.window_start)
        elif self.ordering is not None and self.engine.narrower(queryset):
            # A page of a narrow set. (An unordered read, facets or a draw, goes on reading the matches by id.)
            queryset = self.engine.listed(queryset)
        elif self.per_excerpt:
            queryset = self.engine.tested_per_excerpt(queryset)
        else:
            queryset = self.engine.matching(queryset)
        return queryset.order_by(*self.ordering) if self.ordering is not None else queryset

    def counted(self, queryset: QuerySet) -> QuerySet:
        """
        The same matches in the form cheapest to count: filters narrower than the search count their own rows,
        each looked up in the list of matches; otherwise the search leads (a term tested per excerpt included).
        """
        if self.engine.narrower(queryset):
            return self.engine.listed(queryset)
        return self.engine.matching(queryset)

    def lead(self, rows: QuerySet, excerpts: QuerySet | None = None) -> QuerySet | RankedWindow | None:
        """
        For a relevance order, the rows narrowed to the ranking window: they come first, so a page among
        them is read by sorting them alone rather than every match of a common term. None otherwise.

        Given ``excerpts``, the set searched, narrowed by nothing but the status, the window is a RankedWindow
        where the engine ranks it in its index alone: a page of it reads rows of keys, not model instances.
        """
        if not self.ranked:
            return None
        if self.window_start is None:
            return rows.none()
        # Imported here: facets reads search results, and this module is part of search.
        from .facets import filtered

        if (
            excerpts is not None
            and self.engine.ranks_alone
            and self.ordering == RELEVANCE_ORDER
            and not filtered(excerpts)
        ):
            return RankedWindow(self.engine, self.window_start, excerpts)
        return self.engine.within_window(rows, self.window_start)

    def highlights(self, excerpts: Iterable) -> dict[int, str]:
        """Each excerpt's best matching passage, HTML-escaped, with the hits in <mark> elements."""
        ids = [excerpt.pk for excerpt in excerpts]
        if not ids:
            return {}
        return {pk: marked(passage) for pk, passage in self.engine.highlights(ids).items()}


class RankedWindow:
    """
    The ranking window of a search, leading a relevance order, as a page source for the paginator (as
    ``pagination.CompiledPages`` is): the engine ranks the window's matches in its index alone, and only the
    excerpts a page needs are looked up, to leave out any the searched set does not hold (drafts, for the public).
    A rare term's first page took 4.8 ms of SQL joined to the excerpts, 2.7 ms this way (200,000 excerpts).
    """

    def __init__(self, engine: Engine, window_start: int, excerpts: QuerySet):
        self.engine, self.window_start, self.excerpts = engine, window_start, excerpts
        self._ranked: list[tuple[float, int]] | None = None

    def ranked(self) -> list[tuple[float, int]]:
        if self._ranked is None:
            self._ranked = self.engine.ranked_window(self.window_start)
        return self._ranked

    def read(
        self, keys: Sequence[str], values: Sequence | None, forward: bool, limit: int, error: Exception | None
    ) -> list[WindowRow]:
        """Up to ``limit`` rows (pk, relevance, id) after (or before) the position ``values``, nearest first."""
        assert tuple(keys) == RELEVANCE_ORDER, keys
        ranked = self.ranked()  # best first: the order of a forward read
        if values is not None:
            position = tuple(values)
            if not all(isinstance(value, int | float) and not isinstance(value, bool) for value in position):
                raise error or ValueError(values)
            ranked = (
                [row for row in ranked if row < position]
                if forward
                else [row for row in ranked[::-1] if row > position]
            )
        rows: list[tuple[float, int]] = []
        start, size = 0, limit
        while start < len(ranked) and len(rows) < limit:
            # Chunks that double: a page among many drafts costs a few lookups, not one per draft.
            chunk = ranked[start : start + size]
            held = set(self.excerpts.filter(pk__in=[pk for _, pk in chunk]).values_list("pk", flat=True))
            rows += [row for row in chunk if row[1] in held]
            start, size = start + size, size * 2
        return [WindowRow(pk, relevance, pk) for relevance, pk in rows[:limit]]


class WindowRow(NamedTuple):
    """A row of a RankedWindow's page: the primary key and the sort keys, as the paginator reads them."""

    pk: int
    relevance: float
    id: int


def is_relevance(ordering: Sequence[str] | None) -> bool:
    """Whether ``ordering`` sorts by relevance first."""
    return ordering is not None and ordering[0] == RELEVANCE_ORDER[0]


class NoSearch:
    """The plan of a request without ``q``: the rows in their order, nothing ranked or highlighted."""

    def __init__(self, ordering: Sequence[str] | None = None):
        self.ordering = tuple(ordering) if ordering is not None else None

    def rows(self, queryset: QuerySet) -> QuerySet:
        return queryset.order_by(*self.ordering) if self.ordering is not None else queryset

    def counted(self, queryset: QuerySet) -> QuerySet:
        return queryset

    def lead(self, rows: QuerySet, excerpts: QuerySet | None = None) -> None:
        return None

    def highlights(self, excerpts: Iterable) -> dict[int, str]:
        return {}


def plan(query: SearchQuery | None, ordering: Sequence[str] | None = None) -> SearchPlan | NoSearch:
    """The plan for reading the matches of ``query`` (every row without one) in ``ordering``, or unordered."""
    return NoSearch(ordering) if query is None else SearchPlan.build(query, ordering)


def matching(queryset: QuerySet, query: SearchQuery) -> QuerySet:
    """The matches of ``query`` among ``queryset``, unordered and unranked (facets, random draws, counts)."""
    return SearchPlan.build(query).rows(queryset)


def by_id(queryset: QuerySet, descending: bool = False, at_least: int | None = None) -> QuerySet:
    """
    Order an excerpt queryset by id, optionally from ``at_least`` on. A search on SQLite is ordered and
    bounded by the index's rowid (the same number), which FTS5 walks in order and seeks to.
    """
    return engine().by_id(queryset, descending, at_least)


def marked(passage: str | None) -> str:
    """Escape a passage for HTML and turn the engine's hit marks into <mark> elements."""
    escaped = html.escape(passage or "", quote=False)
    return escaped.replace(HIGHLIGHT_START, "<mark>").replace(HIGHLIGHT_END, "</mark>")
