"""
Full-text search over excerpts: the query language, and a plan that answers one request's search.

What is searched: the excerpt's text, original text and context, the speaker's name and aliases, and
the source's title. The index lives in the database and triggers keep it current on every write path
(``excerpts.db.search_index``): an FTS5 table on SQLite (read through the unmanaged ``SearchEntry`` model),
a tsvector column with a GIN index on PostgreSQL (read through ``django.contrib.postgres.search``).

One rule on both engines. The text is cut into words: runs of letters and digits (any script), lowercased,
accents kept; each Chinese or Japanese character is a word of its own. Nothing is stemmed and no word is a
stop word. The query language is small and safe: words are ANDed; a word of two or more characters also
matches longer words it begins (``commune`` finds ``communes``, ``communi`` finds ``communism``); a
``"quoted phrase"`` matches its words whole and in order; ``-word`` or ``-"a phrase"`` excludes. Punctuation
inside a word makes a phrase of its parts (``Tse-tung``); so does a run of CJK characters (``东风`` is the
phrase of 东 and 风, found inside ``东风压倒西风``). ``parse_query`` turns what a user typed into a
``SearchQuery`` of plain words, and each engine gets an expression built from those words only, never the
user's raw syntax: FTS5 MATCH receives double-quoted strings of word characters, PostgreSQL's ``to_tsquery``
quoted lexemes.

A ``SearchPlan`` is built once per request from the parsed query and the order the rows are read in.
Every question the database must answer before the page's query (is this term common, where does the
ranking window start) is asked while the plan is built, so the querysets it returns carry constants:
nothing runs while Django compiles them. The plan gives the matching rows in the form cheapest for the
order, the same set in the form cheapest to count, the ranked head of a relevance order, and highlights.

Relevance is one both engines compute alike, so that a search lists the same excerpts in the same order on
either: 2 for an excerpt whose own words (its text or original text) hold every term, 1 for one matched
through its context, speaker or source; newest first among equals. (BM25 and ``ts_rank`` score differently,
and neither engine can compute the other's.) Ranking is bounded: only the ``RANK_WINDOW`` most recently added
matches of a query are ranked; older matches of a very common query follow them, newest first. A rare term
is ranked in full; a term found in half the corpus costs the same ranking work as one found in
``RANK_WINDOW`` excerpts.

Highlights are computed here, in Python, from the excerpt's stored fields and the parsed query, the same on
both engines (``passage``).
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

from django.db import connection as default_connection
from django.db.models import Case, Expression, FloatField, Value, When

from ..db.routers import read_database
from ..db.search_index import CJK
from . import limits

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from django.db.models import QuerySet

RELEVANCE_ORDER = ("-relevance", "-id")
# The relevance of a match whose own words hold every term, and of any other match (research/search_engines.py).
IN_THE_WORDS, ELSEWHERE = 2.0, 1.0
# Words shorter than this match only themselves: a prefix of one letter would read the index of most words.
PREFIX_LENGTH = 2
# Before the first hit of a highlighted passage, this many words of what precedes it.
LEAD_WORDS = 4

# A CJK character alone, or a run of other letters and digits: punctuation, "_" and private-use characters
# separate words, as in both indexes.
WORD = re.compile(rf"{CJK}|(?:(?!{CJK})[^\W_])+")
TOKEN = re.compile(r'\s*(-?)(?:"([^"]*)"|([^\s"]+))')


class QueryError(ValueError):
    """The query cannot be searched; the message says why, for the person who typed it."""


@dataclass(frozen=True)
class Term:
    """
    One or more words that must appear together, in order (a phrase when more than one); unless ``whole``, the last
    one also as the beginning of a longer word, when it has PREFIX_LENGTH characters or more.
    """

    words: tuple[str, ...]
    excluded: bool = False
    whole: bool = False

    @property
    def is_phrase(self) -> bool:
        return len(self.words) > 1

    @property
    def prefix(self) -> bool:
        """Whether the last word also matches longer words that begin with it."""
        return not self.whole and len(self.words[-1]) >= PREFIX_LENGTH

    def positions(self, words: Sequence[str]) -> list[int]:
        """Where in ``words`` (lowercased) the term is found: the position of its first word, each time."""
        first = self.words[0]
        if len(self.words) > 1:
            return [at for at, word in enumerate(words) if word == first and self.matches_at(words, at)]
        if self.prefix:
            return [at for at, word in enumerate(words) if word.startswith(first)]
        return [at for at, word in enumerate(words) if word == first]

    def matches_at(self, words: Sequence[str], position: int) -> bool:
        """Whether the term is found in ``words`` (lowercased) from ``position`` on."""
        found = words[position : position + len(self.words)]
        if len(found) < len(self.words) or list(found[:-1]) != list(self.words[:-1]):
            return False
        return found[-1].startswith(self.words[-1]) if self.prefix else found[-1] == self.words[-1]


def words_of(text: str) -> list[re.Match[str]]:
    """The words of ``text`` as both indexes cut it (each match's group is the word as written)."""
    return list(WORD.finditer(text))


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
    text = unicodedata.normalize("NFC", text.strip())
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
        # Punctuation separates words, as in the index: "Tse-tung" is the phrase "Tse tung". Lowercased as both
        # engines lowercase (not casefolded: "ß" stays "ß").
        words = tuple(w.group().lower() for w in words_of(phrase if phrase is not None else word))
        if words:
            terms.append(Term(words=words, excluded=bool(minus), whole=phrase is not None))
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

    ranks_alone = False  # whether the engine ranks the whole window by itself (``ranked_window``), before any page
    counts_alone = False  # whether it may count the published matches without the table (``count_published``)

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

    def rank(self, window_start: int) -> Expression:
        """
        How well a match in the window (from ``window_start`` on) matches: IN_THE_WORDS when the excerpt's own
        words hold every term, ELSEWHERE otherwise.
        """
        raise NotImplementedError

    def ranked(self, queryset: QuerySet, window_start: int | None) -> QuerySet:
        """The matches, each with a ``relevance``: its rank inside the window, 0 outside."""
        relevance: Expression = Value(0.0)
        if window_start is not None:
            relevance = Case(
                When(id__gte=window_start, then=self.rank(window_start)),
                default=relevance,
                output_field=FloatField(),
            )
        return self.matching(queryset).annotate(relevance=relevance)

    def within_window(self, queryset: QuerySet, window_start: int) -> QuerySet:
        """Narrow the ranked matches to the window, which leads a relevance order."""
        raise NotImplementedError

    def ranked_window(self, window_start: int) -> list[tuple[float, int]]:
        """
        Every match in the window as (relevance, id), best first, whatever the excerpts' status, ranked without the
        page's query: for an engine that ``ranks_alone`` (SQLite in its index alone, PostgreSQL by the statement that
        found the window).
        """
        raise NotImplementedError

    def newest_stretch(self, count: int) -> int | None:
        """
        An id above which the newest ``count`` matches are likely all to be, where reading the matches there first
        pays (they are read in no order, so the newest are found by reading every one); None where it does not.
        """
        return None

    def count_published(self, at_most: int | None) -> int | None:
        """
        How many published excerpts match, or ``at_most`` when at least that many do, where the engine can tell
        without testing each match's status in the table (see ``counts_alone``); None where it cannot.
        """
        return None

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

    def counted(self, queryset: QuerySet) -> QuerySet | IndexCount:
        """
        The same matches in the form cheapest to count: filters narrower than the search count their own rows,
        each looked up in the list of matches; the public's search of every excerpt is counted by the engine where it
        can (IndexCount); otherwise the search leads (a term tested per excerpt included).
        """
        if self.engine.narrower(queryset):
            return self.engine.listed(queryset)
        if self.engine.counts_alone and every_published(queryset):
            return IndexCount(self.engine, queryset)
        return self.engine.matching(queryset)

    def newest_stretch(self, count: int) -> int | None:
        """An id above which the newest ``count`` matches are likely to be, where reading those first pays (Engine)."""
        return self.engine.newest_stretch(count)

    def lead(self, rows: QuerySet, excerpts: QuerySet | None = None) -> QuerySet | RankedWindow | None:
        """
        For a relevance order, the rows narrowed to the ranking window: they come first, so a page among
        them is read by sorting them alone rather than every match of a common term. None otherwise.

        Given ``excerpts``, the set searched, narrowed by nothing but the status, the window is a RankedWindow
        where the engine ranks it by itself: a page of it reads rows of keys, not model instances.
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
        """Each excerpt's best matching passage, HTML-escaped, with the hits in <mark> elements (see ``passage``)."""
        ids = [excerpt.pk for excerpt in excerpts]
        if not ids:
            return {}
        # Imported here: the models module is not needed to parse a query.
        from ..models import Excerpt

        fields = Excerpt.objects.using(read_database()).filter(pk__in=ids)
        rows = fields.values_list("pk", "text", "original_text", "context")
        return {pk: passage((text, original, context), self.engine.query) for pk, text, original, context in rows}


class RankedWindow:
    """
    The ranking window of a search, leading a relevance order, as a page source for the paginator (as
    ``pagination.CompiledPages`` is): the engine ranks the window's matches by itself (``Engine.ranked_window``),
    and only the excerpts a page needs are looked up, to leave out any the searched set does not hold (drafts, for
    the public). On SQLite a rare term's first page took 4.8 ms of SQL joined to the excerpts, 2.7 ms this way
    (200,000 excerpts); on PostgreSQL the statement that finds the window ranks it, so the page reads no match
    again (a word that begins many others, at a million: 40 ms less).
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
            held = set(self.excerpts.filter(pk__in=[pk for _, pk in chunk]).order_by().values_list("pk", flat=True))
            rows += [row for row in chunk if row[1] in held]
            start, size = start + size, size * 2
        return [WindowRow(pk, relevance, pk) for relevance, pk in rows[:limit]]


class IndexCount:
    """
    The published matches of a search narrowed by nothing else, counted by the engine where it can, as the paginator
    and the exports count a ``counted`` set (``count``): SQLite in its index, less the drafts among the matches (joined
    to the excerpts to test each match's status, a term in 0.7% of 200,000 excerpts took 7 ms to count; this way
    0.3 ms); PostgreSQL by the statement that found the ranking window, when that read every match or enough.
    """

    def __init__(self, engine: Engine, excerpts: QuerySet):
        self.engine, self.excerpts = engine, excerpts

    def count(self, at_most: int | None = None) -> int:
        """How many there are, or ``at_most`` when there are at least that many."""
        found = self.engine.count_published(at_most)
        if found is None:  # the engine cannot tell: the matches are counted among the excerpts
            rows = self.engine.matching(self.excerpts).order_by().values("pk")
            found = (rows if at_most is None else rows[:at_most]).count()
        return found


def every_published(queryset: QuerySet) -> bool:
    """Whether ``queryset`` is narrowed to the published excerpts and by nothing else (the public's whole corpus)."""
    # Imported here: the models module is not needed to parse a query.
    from ..models import Excerpt

    return queryset.query.where == Excerpt.objects.published().query.where


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

    def newest_stretch(self, count: int) -> None:
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


def passage(fields: Sequence[str | None], query: SearchQuery) -> str:
    """
    The best passage of ``fields`` (the text, original text and context) for ``query``, HTML-escaped, the words the
    query's terms match each in a <mark> element (the words of a phrase in one): at most HIGHLIGHT_WORDS words of the
    field with the most hits (the first of those with as many), from a few words before the hit that leads the most
    hits into the passage. "…" stands for what is left out. A match found only in the speaker or the source title
    gives the beginning of the text, unmarked.
    """
    best: tuple[str, list[re.Match[str]], list[tuple[int, int]]] = ("", [], [])
    for field in fields:
        if not field:
            continue
        found = words_of(field)
        words = [word.group().lower() for word in found]
        hits = _hits(words, query.included)
        if not best[0] or len(hits) > len(best[2]):
            best = (field, found, hits)
    field, found, hits = best
    size = limits.HIGHLIGHT_WORDS
    start = 0
    if len(found) > size and hits:
        starts = [max(0, min(first - LEAD_WORDS, len(found) - size)) for first, _ in hits]
        start = max(starts, key=lambda at: sum(at <= first and last <= at + size for first, last in hits))
    end = min(start + size, len(found))  # the words [start, end) are shown
    begin_at = found[start].start() if start else 0
    end_at = found[end - 1].end() if end < len(found) else len(field)
    parts = ["…"] if start else []
    position = begin_at
    for first, last in hits:
        if first < start or last > end:
            continue
        parts += [html.escape(field[position : found[first].start()], quote=False), "<mark>"]
        parts += [html.escape(field[found[first].start() : found[last - 1].end()], quote=False), "</mark>"]
        position = found[last - 1].end()
    parts.append(html.escape(field[position:end_at], quote=False))
    if end < len(found):
        parts.append("…")
    return "".join(parts)


def _hits(words: Sequence[str], terms: Sequence[Term]) -> list[tuple[int, int]]:
    """The spans [first, last) of ``words`` the terms match, in order, overlapping spans joined."""
    spans = sorted((position, position + len(term.words)) for term in terms for position in term.positions(words))
    joined: list[tuple[int, int]] = []
    for first, last in spans:
        if joined and first < joined[-1][1]:
            joined[-1] = (joined[-1][0], max(last, joined[-1][1]))
        else:
            joined.append((first, last))
    return joined
