"""
The data version: a value that changes with every committed write to the excerpts and their reference data.

Cached facet counts and list totals are keyed by it (``excerpts.research.caching``). Triggers keep it, so every
write path moves it: the ORM, the admin's bulk actions, imports, ``loaddata``'s raw saves and raw SQL.

- SQLite (one writer at a time): a one-row counter that each written row increments.
- PostgreSQL: one row per writing transaction (its id, and how many statements it wrote), appended by
  statement-level triggers, so writers never wait on a shared counter row. The version is the row count,
  write count and sum of transaction ids a reader sees. Deleting old rows is safe: it only changes the
  version, so the cache starts afresh.

A fill starts the version at a value no earlier install had (a random counter on SQLite, the installing
transaction's id on PostgreSQL): a shared cache never serves an answer cached before a repair.
"""

from .objects import DatabaseObject

TABLE = "excerpts_data_version"
WATCHED = [
    "excerpts_excerpt",
    "excerpts_excerpt_topics",
    "excerpts_speaker",
    "excerpts_source",
    "excerpts_topic",
    "excerpts_event",
]
OPERATIONS = ("INSERT", "UPDATE", "DELETE")

OBJECTS = {
    "sqlite": [
        DatabaseObject(
            "table", TABLE, f"CREATE TABLE {TABLE} (id integer PRIMARY KEY CHECK (id = 1), version integer NOT NULL)"
        ),
        *(
            DatabaseObject(
                "trigger",
                f"{table}_version_{operation.lower()}",
                f"CREATE TRIGGER {table}_version_{operation.lower()} AFTER {operation} ON {table} "
                f"BEGIN UPDATE {TABLE} SET version = version + 1; END",
                table=table,
            )
            for table in WATCHED
            for operation in OPERATIONS
        ),
    ],
    "postgresql": [
        DatabaseObject(
            "table",
            TABLE,
            f"CREATE TABLE {TABLE} (transaction_id bigint PRIMARY KEY, writes bigint NOT NULL DEFAULT 1)",
        ),
        DatabaseObject(
            "function",
            "excerpts_data_version_trigger",
            f"""
    CREATE FUNCTION excerpts_data_version_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO {TABLE} AS v (transaction_id) VALUES (txid_current())
            ON CONFLICT (transaction_id) DO UPDATE SET writes = v.writes + 1;
        RETURN NULL;
    END
    $$
    """,
        ),
        *(
            DatabaseObject(
                "trigger",
                f"{table}_version",
                f"CREATE TRIGGER {table}_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION excerpts_data_version_trigger()",
                table=table,
            )
            for table in WATCHED
        ),
    ],
}
FILL = {
    "sqlite": [f"INSERT INTO {TABLE} (id, version) VALUES (1, abs(random() / 2))"],
    "postgresql": [f"INSERT INTO {TABLE} (transaction_id) VALUES (txid_current())"],
}
READ = {
    "sqlite": f"SELECT version FROM {TABLE}",
    "postgresql": f"SELECT concat_ws(':', count(*), sum(writes), sum(transaction_id)) FROM {TABLE}",
}
