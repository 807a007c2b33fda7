"""
Results that cost a scan of the corpus (facet counts, a list's total), cached until the data changes.

A cached value is stored under the *data version*, a number that changes whenever excerpts, their
topics, speakers, sources, topics or events change. Database triggers keep it, so every write path
changes it: the ORM's save and delete, the admin's bulk actions (``QuerySet.update`` and ``delete``),
imports, ``loaddata``'s raw saves and raw SQL. Reading the version costs one small query; a stale
entry is never read again once the version has moved on, and the cache's timeout clears it.

- SQLite (one writer at a time): a one-row table whose counter each written row increments. The
  counter is transactional, so a reader sees the version of exactly the data it sees.
- PostgreSQL: a table with one row per writing transaction (its id and how many statements it
  wrote), kept by statement-level triggers. The version is the row count, write count and sum of
  transaction ids a reader sees: it changes with every committed write and only with committed
  writes (readers never see another's uncommitted row), a writing transaction sees it change after
  each of its own statements, and writers never wait on each other for it, as they would on a
  shared counter row. The table grows by a row per writing transaction; deleting old rows is safe
  (it only changes the version, so the cache starts afresh).

The cache is Django's default cache (per process, in memory, unless ``CACHES`` says otherwise);
because the version comes from the database, several processes or servers never disagree.
"""

import hashlib

from django.core.cache import cache
from django.db import connection as default_connection

from .permissions import is_curator

TIMEOUT = 3600  # seconds; entries of an old version are useless, this only bounds the memory they hold
TABLE = "excerpts_data_version"
WATCHED = [
    "excerpts_excerpt",
    "excerpts_excerpt_topics",
    "excerpts_speaker",
    "excerpts_source",
    "excerpts_topic",
    "excerpts_event",
]

SQLITE_INSTALL = [
    f"CREATE TABLE IF NOT EXISTS {TABLE} (id integer PRIMARY KEY CHECK (id = 1), version integer NOT NULL)",
    f"INSERT OR IGNORE INTO {TABLE} (id, version) VALUES (1, 0)",
    *(
        f"CREATE TRIGGER IF NOT EXISTS {table}_version_{operation.lower()} AFTER {operation} ON {table} "
        f"BEGIN UPDATE {TABLE} SET version = version + 1; END"
        for table in WATCHED
        for operation in ("INSERT", "UPDATE", "DELETE")
    ),
]
SQLITE_UNINSTALL = [
    *(
        f"DROP TRIGGER IF EXISTS {table}_version_{operation.lower()}"
        for table in WATCHED
        for operation in ("INSERT", "UPDATE", "DELETE")
    ),
    f"DROP TABLE IF EXISTS {TABLE}",
]
POSTGRESQL_INSTALL = [
    f"CREATE TABLE IF NOT EXISTS {TABLE} (transaction_id bigint PRIMARY KEY, writes bigint NOT NULL DEFAULT 1)",
    f"""
    CREATE OR REPLACE FUNCTION excerpts_data_version_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO {TABLE} AS v (transaction_id) VALUES (txid_current())
            ON CONFLICT (transaction_id) DO UPDATE SET writes = v.writes + 1;
        RETURN NULL;
    END
    $$
    """,
    *(
        f"CREATE OR REPLACE TRIGGER {table}_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
        "FOR EACH STATEMENT EXECUTE FUNCTION excerpts_data_version_trigger()"
        for table in WATCHED
    ),
]
POSTGRESQL_UNINSTALL = [
    *(f"DROP TRIGGER IF EXISTS {table}_version ON {table}" for table in WATCHED),
    "DROP FUNCTION IF EXISTS excerpts_data_version_trigger()",
    f"DROP TABLE IF EXISTS {TABLE}",
]
STATEMENTS = {
    "sqlite": (SQLITE_INSTALL, SQLITE_UNINSTALL, f"SELECT version FROM {TABLE}"),
    "postgresql": (
        POSTGRESQL_INSTALL,
        POSTGRESQL_UNINSTALL,
        f"SELECT concat_ws(':', count(*), sum(writes), sum(transaction_id)) FROM {TABLE}",
    ),
}


def run_statements(connection, statements):
    """Run SQL statements in order on ``connection`` (the install and uninstall lists of the trigger modules)."""
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def install(connection):
    """Create the version table and its triggers (idempotent). Migrations and rebuild_search_index call this."""
    run_statements(connection, STATEMENTS[connection.vendor][0])


def uninstall(connection):
    run_statements(connection, STATEMENTS[connection.vendor][1])


def data_version():
    """The current data version, or None on a database without one (nothing is cached then)."""
    statements = STATEMENTS.get(default_connection.vendor)
    if statements is None:
        return None
    with default_connection.cursor() as cursor:
        cursor.execute(statements[2])
        return cursor.fetchone()[0]


def cached(name, parts, compute):
    """
    ``compute()``, or its value cached for the same ``name`` and ``parts`` at the current data version.

    ``parts`` identify the question exactly (the endpoint, the caller's role, every query parameter).
    """
    version = data_version()
    if version is None:
        return compute()
    digest = hashlib.sha256(repr(parts).encode()).hexdigest()
    key = f"excerpts:{name}:{version}:{digest}"
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, TIMEOUT)
    return value


def request_parts(request, ignore=()):
    """What identifies a read request's answer: its path, whether a curator asks, its query parameters."""
    params = sorted((name, sorted(values)) for name, values in request.query_params.lists() if name not in ignore)
    return (request.path, is_curator(request.user), params)
