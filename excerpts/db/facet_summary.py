"""
The facet summary: one row per (status, facet, value) with its count of excerpts, kept by triggers.

Whole-corpus facets and each speaker's ``excerpt_count`` read it instead of grouping every excerpt
(``excerpts.research.facets``). Triggers keep it on every write path, like the search index.

- SQLite (one writer at a time): the triggers add to and subtract from each counter in place.
- PostgreSQL: each writing statement appends its net change as rows (statement-level triggers with
  transition tables), so concurrent writers never wait on a shared counter row or deadlock on two;
  readers sum the rows per value and fold them back into one row per value. A TRUNCATE recounts.
"""

from collections.abc import Callable

from .objects import DatabaseObject

TABLE = "excerpts_facet_count"
EXCERPT_COLUMNS = ["status", "speaker_id", "event_id", "kind", "attribution", "language", "date_start"]

# The value of each facet for one excerpt row {r}, per engine; topics come from the links table.
ROW_VALUES = {
    "sqlite": {
        "speaker": "CAST({r}.speaker_id AS text)",
        "event": "CAST({r}.event_id AS text)",
        "kind": "{r}.kind",
        "attribution": "{r}.attribution",
        "language": "{r}.language",
        "year": "CAST(CAST(substr({r}.date_start, 1, 4) AS integer) AS text)",
    },
    "postgresql": {
        "speaker": "{r}.speaker_id::text",
        "event": "{r}.event_id::text",
        "kind": "{r}.kind::text",
        "attribution": "{r}.attribution::text",
        "language": "{r}.language::text",
        "year": "extract(year FROM {r}.date_start)::int::text",
    },
}


def excerpt_values_sql(vendor: str, rows: str) -> str:
    """
    SELECT (status, facet, value) for every facet value of the excerpt rows ``rows``: a table, a
    PostgreSQL transition table, or a SQLite trigger's NEW or OLD row.
    """
    values = ROW_VALUES[vendor]
    if rows in ("NEW", "OLD"):  # a SQLite trigger's row: no FROM of its own
        singles = " UNION ALL ".join(
            f"SELECT {rows}.status AS status, '{facet}' AS facet, {sql.format(r=rows)} AS value"
            for facet, sql in values.items()
        )
        topics = (
            f"SELECT {rows}.status, 'topic', CAST(l.topic_id AS text) FROM excerpts_excerpt_topics l "
            f"WHERE l.excerpt_id = {rows}.id"
        )
    else:
        singles = " UNION ALL ".join(
            f"SELECT r.status AS status, '{facet}' AS facet, {sql.format(r='r')} AS value FROM {rows} r"
            for facet, sql in values.items()
        )
        topics = (
            f"SELECT r.status, 'topic', CAST(l.topic_id AS text) FROM {rows} r "
            "JOIN excerpts_excerpt_topics l ON l.excerpt_id = r.id"
        )
    return f"SELECT status, facet, value FROM ({singles} UNION ALL {topics}) AS v WHERE value IS NOT NULL"


def link_values_sql(vendor: str, links: str) -> str:
    """SELECT (status, 'topic', value) for topic links ``links`` whose excerpt exists (mid-delete it may not)."""
    if links in ("NEW", "OLD"):
        return (
            f"SELECT e.status AS status, 'topic' AS facet, CAST({links}.topic_id AS text) AS value "
            "FROM excerpts_excerpt e "
            f"WHERE e.id = {links}.excerpt_id"
        )
    return (
        f"SELECT e.status AS status, 'topic' AS facet, CAST(l.topic_id AS text) AS value FROM {links} l "
        "JOIN excerpts_excerpt e ON e.id = l.excerpt_id"
    )


def count_all_sql(vendor: str) -> str:
    """Count every excerpt into the (empty) summary table."""
    return (
        f"INSERT INTO {TABLE} (status, facet, value, count) SELECT status, facet, value, count(*) "
        f"FROM ({excerpt_values_sql(vendor, 'excerpts_excerpt')}) AS v GROUP BY status, facet, value"
    )


def _sqlite_add(values_sql: str, sign: str) -> str:
    """Add (+) or subtract (-) one for each (status, facet, value) the SQL selects, in place."""
    return (
        f"INSERT INTO {TABLE} (status, facet, value, count) SELECT status, facet, value, {sign}1 "
        f"FROM ({values_sql}) WHERE true "
        "ON CONFLICT (status, facet, value) DO UPDATE SET count = count + excluded.count"
    )


def _postgresql_append(*parts: tuple[str, int]) -> str:
    """Append the net change of (values SQL, +1 or -1) parts as rows; changes that cancel out append none."""
    union = " UNION ALL ".join(
        f"SELECT status, facet, value, {sign} AS delta FROM ({sql}) AS v" for sql, sign in parts
    )
    return (
        f"INSERT INTO {TABLE} (status, facet, value, count) SELECT status, facet, value, sum(delta) "
        f"FROM ({union}) AS changes GROUP BY status, facet, value HAVING sum(delta) <> 0"
    )


def _plpgsql(name: str, body: str) -> DatabaseObject:
    """A trigger function (its result is ignored: the triggers run after the statement)."""
    return DatabaseObject(
        "function",
        name,
        f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n{body}\n    RETURN NULL;\nEND\n$$",
    )


# Per watched table: how its rows' facet values are selected.
WATCHED: dict[str, Callable[[str, str], str]] = {
    "excerpts_excerpt": excerpt_values_sql,
    "excerpts_excerpt_topics": link_values_sql,
}
# What each write does to the counts: subtract the old row's values, add the new row's.
CHANGES = {"INSERT": [("NEW", "+")], "UPDATE": [("OLD", "-"), ("NEW", "+")], "DELETE": [("OLD", "-")]}
TRANSITION_TABLES = {"NEW": "new_rows", "OLD": "old_rows"}


def _sqlite_trigger(table: str, operation: str, steps: list[tuple[str, str]]) -> DatabaseObject:
    name = f"{table}_facet_{operation.lower()}"
    # Only a change to a counted column moves a count (an edit of the text does not).
    columns = f" OF {', '.join(EXCERPT_COLUMNS)}" if (table, operation) == ("excerpts_excerpt", "UPDATE") else ""
    body = " ".join(f"{_sqlite_add(WATCHED[table]('sqlite', row), sign)};" for row, sign in steps)
    return DatabaseObject(
        "trigger", name, f"CREATE TRIGGER {name} AFTER {operation}{columns} ON {table} BEGIN {body} END", table=table
    )


def _postgresql_function(table: str) -> DatabaseObject:
    return _plpgsql(
        f"{table}_facet_trigger",
        "\n".join(
            f"    IF TG_OP = '{operation}' THEN\n        "
            + _postgresql_append(
                *((WATCHED[table]("postgresql", TRANSITION_TABLES[row]), int(f"{sign}1")) for row, sign in steps)
            )
            + ";\n    END IF;"
            for operation, steps in CHANGES.items()
        ),
    )


def _postgresql_trigger(table: str, operation: str, steps: list[tuple[str, str]]) -> DatabaseObject:
    name = f"{table}_facet_{operation.lower()}"
    transitions = " ".join(f"{row} TABLE AS {TRANSITION_TABLES[row]}" for row, _ in steps)
    return DatabaseObject(
        "trigger",
        name,
        f"CREATE TRIGGER {name} AFTER {operation} ON {table} REFERENCING {transitions} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {table}_facet_trigger()",
        table=table,
    )


OBJECTS = {
    "sqlite": [
        DatabaseObject(
            "table",
            TABLE,
            f"CREATE TABLE {TABLE} (status text NOT NULL, facet text NOT NULL, value text NOT NULL, "
            "count integer NOT NULL, PRIMARY KEY (status, facet, value)) WITHOUT ROWID",
        ),
        *(_sqlite_trigger(table, operation, steps) for table in WATCHED for operation, steps in CHANGES.items()),
    ],
    "postgresql": [
        DatabaseObject(
            "table",
            TABLE,
            f"CREATE TABLE {TABLE} (status text NOT NULL, facet text NOT NULL, value text NOT NULL, "
            "count bigint NOT NULL)",
        ),
        DatabaseObject(
            "index", f"{TABLE}_value", f"CREATE INDEX {TABLE}_value ON {TABLE} (status, facet, value)", table=TABLE
        ),
        *(_postgresql_function(table) for table in WATCHED),
        # TRUNCATE (Django's flush between tests) has no transition tables: count everything again.
        _plpgsql("excerpts_facet_recount_trigger", f"    DELETE FROM {TABLE};\n    {count_all_sql('postgresql')};"),
        *(_postgresql_trigger(table, operation, steps) for table in WATCHED for operation, steps in CHANGES.items()),
        *(
            DatabaseObject(
                "trigger",
                f"{table}_facet_truncate",
                f"CREATE TRIGGER {table}_facet_truncate AFTER TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION excerpts_facet_recount_trigger()",
                table=table,
            )
            for table in WATCHED
        ),
    ],
}
RECOUNT = {vendor: [f"DELETE FROM {TABLE}", count_all_sql(vendor)] for vendor in ROW_VALUES}
FILL = {vendor: [count_all_sql(vendor)] for vendor in ROW_VALUES}
