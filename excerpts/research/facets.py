"""
Facet counts over a filtered excerpt queryset (seeded random samples are in sampling.py).

Facets count the filtered excerpts per speaker, topic, kind, attribution, language, event, year and
decade. Year and decade are those of ``date_start``, the earliest day an excerpt may date from: an
excerpt dated "1959/1961" counts in 1959 only, so every excerpt counts exactly once.

Two ways to count, so that no facet request scans a million rows:

- The whole corpus (no filter but the status) is read from a summary table, ``excerpts_facet_count``,
  one row per (status, facet, value) with its count, that database triggers keep on every write path
  (``excerpts.db.facet_summary``). On PostgreSQL writers append change rows, and readers sum the rows
  per value and fold them back into one row per value once enough accumulate.
- A filtered set is counted in one pass over its matches, all facets in one query. At most
  ``limits.SCAN_LIMIT`` matches are counted: when more match, ``count_exact`` is false, ``count`` is
  the limit and every facet counts the ``SCAN_LIMIT`` most recently added matches.
"""

from collections.abc import Iterable, Iterator
from typing import Any

from django.db import connection as default_connection
from django.db import connections
from django.db.models import Exists, F, Func, OuterRef, QuerySet
from django.db.models.lookups import In
from django.db.models.sql import Query
from django.db.models.sql.datastructures import BaseTable
from django.db.models.sql.where import AND, WhereNode

from ..db.facet_summary import EXCERPT_COLUMNS, ROW_VALUES, TABLE
from ..db.routers import read_database
from ..models import Event, Excerpt, Speaker, Topic
from . import limits
from .search import NoSearch, SearchPlan, by_id
from .search_engines import is_searched

Facets = dict[str, Any]  # {"count": int, "count_exact": bool, facet: [{"value", "label", "count"}, ...]}


def summary_counts(statuses: Iterable[str]) -> Facets:
    """Exact facet counts of every excerpt whose status is among ``statuses``, from the summary table."""
    statuses = list(statuses)
    if not statuses:
        return labelled({}, total=0, exact=True)
    placeholders = ", ".join(["%s"] * len(statuses))
    with connections[read_database()].cursor() as cursor:
        cursor.execute(
            f"SELECT facet, value, sum(count), count(*) FROM {TABLE} WHERE status IN ({placeholders}) "
            "GROUP BY facet, value",
            statuses,
        )
        rows = cursor.fetchall()
        if default_connection.vendor == "postgresql" and sum(row[3] for row in rows) > len(rows) + limits.FOLD_AFTER:
            # Fold the appended change rows into one row per value. Safe beside writers (they append rows
            # this DELETE cannot see) and beside another fold (it skips the rows this one deleted).
            cursor.execute(
                f"WITH folded AS (DELETE FROM {TABLE} RETURNING status, facet, value, count) "
                f"INSERT INTO {TABLE} (status, facet, value, count) SELECT status, facet, value, sum(count) "
                "FROM folded GROUP BY status, facet, value HAVING sum(count) <> 0"
            )
    counted: dict[str, dict[str, int]] = {}
    for facet, value, count, _ in rows:
        if count > 0:
            counted.setdefault(facet, {})[value] = int(count)
    # Every excerpt has exactly one kind.
    return labelled(counted, total=sum(counted.get("kind", {}).values()), exact=True)


def facet_counts(
    queryset: QuerySet[Excerpt], limit: int | None = None, plan: SearchPlan | NoSearch | None = None
) -> Facets:
    """
    The number of excerpts in ``queryset`` and its counts per facet, largest first (years in order).

    At most ``limit`` (default ``limits.SCAN_LIMIT``) matches are counted, the most recently added;
    ``count_exact`` says whether that was all of them. ``plan`` is the search plan that found ``queryset``, if any.
    """
    limit = limits.SCAN_LIMIT if limit is None else limit
    stretch = plan.newest_stretch(limit + 1) if plan is not None else None
    if stretch is not None:
        # The newest matches of a search PostgreSQL reads every match to find (a GIN index gives them in no order;
        # a word that begins many others, in 6% of a million excerpts: 270-350 ms) looked for among the newest ids
        # first, as a search's ranking window is: where more than ``limit`` match there, the newest ``limit`` of
        # all are among them and the facets are those of all (100-130 ms); otherwise every match is read.
        counted, total = grouped_counts(queryset.filter(id__gt=stretch), limit)
        if total > limit:
            return labelled(counted, total=limit, exact=False)
    counted, total = grouped_counts(queryset, limit)
    return labelled(counted, total=min(total, limit), exact=total <= limit)


def grouped_counts(queryset: QuerySet[Excerpt], limit: int) -> tuple[dict[str, dict[str, int]], int]:
    """
    The counts per facet and value of ``queryset``'s newest ``limit`` matches, in one statement, and how many
    match, counted to ``limit + 1``.
    """
    vendor = default_connection.vendor
    values = ROW_VALUES["sqlite" if vendor == "sqlite" else "postgresql"]
    matches = by_id(queryset, descending=True).values("id", *EXCERPT_COLUMNS)[: limit + 1]
    # A search on SQLite is already read newest first from its FTS5 table.
    if vendor == "sqlite" and not is_searched(queryset):
        if dense(queryset):
            matches = walk_by_id(matches)
        elif not filters_on_id(queryset):
            matches = through_index(queryset, limit + 1)
    sql, params = matches.query.get_compiler(queryset.db).as_sql()
    grouped = " UNION ALL ".join(
        f"SELECT '{facet}', {values[facet].format(r='c')}, count(*) FROM counted c GROUP BY 2"
        for facet in ("speaker", "event", "kind", "attribution", "language", "year")
    )
    # One statement: the filters and the search run once, into a materialized set every facet groups.
    statement = (
        f"WITH matches AS MATERIALIZED ({sql}), "
        f"counted AS MATERIALIZED (SELECT * FROM matches ORDER BY id DESC LIMIT {int(limit)}) "
        f"SELECT 'count', NULL, count(*) FROM matches UNION ALL {grouped} UNION ALL "
        "SELECT 'topic', CAST(l.topic_id AS text), count(*) FROM counted c "
        "JOIN excerpts_excerpt_topics l ON l.excerpt_id = c.id GROUP BY 2"
    )
    with connections[read_database()].cursor() as cursor:
        cursor.execute(statement, params)
        rows = cursor.fetchall()
    counted: dict[str, dict[str, int]] = {}
    total = 0
    for facet, value, count in rows:
        if facet == "count":
            total = count
        elif value is not None:
            counted.setdefault(facet, {})[str(value)] = count
    return counted, total


def labelled(counted: dict[str, dict[str, int]], total: int, exact: bool) -> Facets:
    """The facets response from {facet: {value: count}}: slugs and names, largest first, years in order."""
    names = {
        "speaker": Speaker.objects.filter(pk__in=counted.get("speaker", {})).values_list("pk", "slug", "name"),
        "topic": Topic.objects.filter(pk__in=counted.get("topic", {})).values_list("pk", "slug", "name"),
        "event": Event.objects.filter(pk__in=counted.get("event", {})).values_list("pk", "slug", "name"),
    }
    choices = {"kind": dict(Excerpt.Kind.choices), "attribution": dict(Excerpt.Attribution.choices)}
    facets: Facets = {"count": total, "count_exact": exact}
    for facet in ("speaker", "topic", "kind", "attribution", "language", "event"):
        counts = counted.get(facet, {})
        if facet in names:
            rows = [(slug, name, counts[str(pk)]) for pk, slug, name in names[facet]]
        else:
            rows = [(value, choices.get(facet, {}).get(value, value), count) for value, count in counts.items()]
        facets[facet] = [
            {"value": value, "label": label, "count": count}
            for value, label, count in sorted(rows, key=lambda row: (-row[2], row[0]))
        ]
    years = sorted((int(year), count) for year, count in counted.get("year", {}).items())
    facets["year"] = [{"value": str(year), "label": str(year), "count": count} for year, count in years]
    decades: dict[int, int] = {}
    for year, count in years:
        decades[year // 10 * 10] = decades.get(year // 10 * 10, 0) + count
    facets["decade"] = [{"value": str(d), "label": f"{d}s", "count": n} for d, n in sorted(decades.items())]
    return facets


class NotIndexedTable(BaseTable):
    """The base table of a query, read without its indexes: ``FROM "excerpts_excerpt" NOT INDEXED`` (SQLite)."""

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, Any]:
        sql, params = super().as_sql(compiler, connection)
        return f"{sql} NOT INDEXED", params


def walk_by_id(queryset: QuerySet) -> QuerySet:
    """
    A copy of an excerpt queryset that SQLite answers by walking the excerpt table in id order (NOT INDEXED).

    SQLite cannot tell that a wide filter (a decade of dates) matches many rows: it walks that filter's
    index and sorts every match by id. In a dense set, walking the table in id order meets a match every
    1 / density rows. Django has no index hints, so the query's base table is swapped for one that
    compiles with SQLite's NOT INDEXED. A search still starts from its FTS5 table, and a topic from its
    links index.
    """
    queryset = queryset.all()
    query = queryset.query
    if not query.alias_map:
        query.get_initial_alias()
    alias = next(iter(query.alias_map))  # the base table comes first (see Query.base_table)
    query.alias_map[alias] = NotIndexedTable(query.alias_map[alias].table_name, alias)
    return queryset


def through_index(queryset: QuerySet[Excerpt], limit: int) -> QuerySet:
    """
    The newest ``limit`` excerpts of a sparse ``queryset`` with their facet columns, found through an index (SQLite).

    Asked for the newest matches of filters that no one index answers (a kind, a language and a date range), SQLite
    walks the whole table down from the newest id, however rarely it meets a match (2 s for 1% of a million). Sorted
    by an expression of the id instead (``+id``), the matches are found through the filters' index, which covers the
    ids, and sorted; only the newest ``limit`` of them are then read from the table.
    """
    newest = queryset.order_by(Func(F("id"), template="+%(expressions)s").desc()).values("id")[:limit]
    return Excerpt.objects.order_by().filter(id__in=newest).values("id", *EXCERPT_COLUMNS)


def filters_on_id(queryset: QuerySet[Excerpt]) -> bool:
    """
    Whether ``queryset`` is filtered on the excerpt id itself (a topic's links): SQLite then reads that list of ids,
    newest first, and stops at a limit, better than any index.
    """
    return any(_column(lookup) == Excerpt._meta.pk for lookup in lookups(queryset))


def tested_per_excerpt(queryset: QuerySet[Excerpt]) -> QuerySet[Excerpt] | None:
    """
    The same set with each list of ids it is filtered on (a topic's links: ``id IN (SELECT excerpt_id ...)``) tested
    for each excerpt instead (``EXISTS (... WHERE excerpt_id = id)``): one probe of the links index per row. SQLite
    builds the whole list for every statement that reads the set, however few rows it then reads (94 ms for three
    topics of 108,000 excerpts at a million, 1.5 ms tested per excerpt). None when a list is not one of the
    conditions that must all hold (inside an OR or a NOT), or is not a subquery.
    """
    where = queryset.query.where
    if where.connector != AND or where.negated:
        return None
    pk = Excerpt._meta.pk
    lists = [child for child in where.children if isinstance(child, In) and _column(child) == pk]
    if not lists or sum(_column(lookup) == pk for lookup in lookups(queryset)) != len(lists):
        return None
    if not all(isinstance(lookup.rhs, Query) and len(lookup.rhs.values_select) == 1 for lookup in lists):
        return None
    rest = queryset.all()
    rest.query.where.children = [child for child in where.children if not any(child is lookup for lookup in lists)]
    for lookup in lists:
        links: QuerySet = QuerySet(model=lookup.rhs.model, query=lookup.rhs.clone())
        rest = rest.filter(Exists(links.filter(**{lookup.rhs.values_select[0]: OuterRef("pk")})))
    return rest


def lookups(queryset: QuerySet[Excerpt]) -> Iterator[Any]:
    """Every condition of the queryset's WHERE clause, however nested."""

    def walk(node: WhereNode) -> Iterator[Any]:
        for child in node.children:
            yield from walk(child) if isinstance(child, WhereNode) else (child,)

    return walk(queryset.query.where)


def filtered(queryset: QuerySet[Excerpt]) -> bool:
    """Whether ``queryset`` is narrowed by anything but the status (which every public read has)."""
    status = Excerpt._meta.get_field("status")
    return any(_column(lookup) != status for lookup in lookups(queryset))


def _column(lookup: Any) -> Any:
    """The field a condition tests, if it tests one (``id IN (...)``), else None (an EXISTS, a raw expression)."""
    return getattr(getattr(lookup, "lhs", None), "target", None)


def dense(queryset: QuerySet[Excerpt]) -> bool:
    """Whether at least 1 in DENSE of the newest DENSITY_SAMPLE excerpts match."""
    return in_sample(queryset) * limits.DENSE >= limits.DENSITY_SAMPLE


def in_sample(queryset: QuerySet[Excerpt]) -> int:
    """
    How many of the newest DENSITY_SAMPLE excerpts are in ``queryset``: a walk of that many rows on SQLite, a scan
    of that range of the primary key on PostgreSQL.
    """
    top = Excerpt.objects.order_by("-id").values_list("id", flat=True).first() or 0
    sample = queryset.order_by().filter(id__gt=top - limits.DENSITY_SAMPLE).values("id")
    if default_connection.vendor == "sqlite":
        sample = walk_by_id(sample)
    sql, params = sample.query.sql_with_params()
    with connections[read_database()].cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM ({sql}) AS sample", params)
        return cursor.fetchone()[0]
