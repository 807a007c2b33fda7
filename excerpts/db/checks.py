"""
The system check that compares the database with the declarations: every object missing or different
is an error naming the command that repairs it. It runs with ``manage.py check`` and at start-up.

SQLite keeps each object's CREATE statement, which is compared as written. PostgreSQL keeps each
object's comment, set to a digest of its definition when it is created; a missing or other digest
(an object from an earlier version, or replaced by hand) differs, and a disabled trigger is reported too.
"""

from collections.abc import Iterator, Sequence
from typing import Any

from django.apps import AppConfig
from django.core import checks
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations.executor import MigrationExecutor

from . import VENDORS, declared
from .objects import MARK, DatabaseObject

REPAIR = "manage.py repair_database"


def _sqlite_problems(
    connection: BaseDatabaseWrapper, objects: list[DatabaseObject]
) -> Iterator[tuple[DatabaseObject, str]]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT type, name, sql FROM sqlite_master")
        found = {(kind, name): sql for kind, name, sql in cursor.fetchall()}
    for obj in objects:
        sql = found.get(("table" if obj.kind == "virtual table" else obj.kind, obj.name))
        if sql is None:
            yield obj, "missing"
        elif _words(sql) != _words(obj.create[0]):
            yield obj, "different from its declaration"


# One row per object found: its comment, whether it is enabled and (a function's) body; none when it is missing.
# Each name is resolved once, in a subquery (in a filter, pg_trigger's scan would resolve it for every row).
POSTGRESQL_LOOKUPS = {
    "table": (
        "SELECT obj_description(c.oid, 'pg_class'), true, NULL FROM pg_class c WHERE c.oid = (SELECT to_regclass(%s))"
    ),
    "function": (
        "SELECT obj_description(p.oid, 'pg_proc'), true, p.prosrc FROM pg_proc p "
        "WHERE p.oid = (SELECT to_regprocedure(%s))"
    ),
    "column": (
        "SELECT col_description(a.attrelid, a.attnum), true, NULL FROM pg_attribute a "
        "WHERE a.attrelid = (SELECT to_regclass(%s)) AND a.attname = %s AND NOT a.attisdropped"
    ),
    "trigger": (
        "SELECT obj_description(t.oid, 'pg_trigger'), t.tgenabled <> 'D', NULL FROM pg_trigger t "
        "WHERE t.tgrelid = (SELECT to_regclass(%s)) AND t.tgname = %s AND NOT t.tgisinternal"
    ),
}
POSTGRESQL_LOOKUPS["index"] = POSTGRESQL_LOOKUPS["table"]


def _words(sql: str) -> str:
    return " ".join(sql.split())


def _body(function: DatabaseObject) -> str:
    """The body of a declared function, between its $$ quotes, as PostgreSQL keeps it (prosrc)."""
    definition = function.create[0]
    return _words(definition[definition.index("$$") + 2 : definition.rindex("$$")])


def _postgresql_problems(
    connection: BaseDatabaseWrapper, objects: list[DatabaseObject]
) -> Iterator[tuple[DatabaseObject, str]]:
    # Every object's lookup in one statement, each row numbered by its object: one round trip however many objects
    # (/readyz runs this on every probe).
    lookups: list[str] = []
    params: list[str] = []
    for position, obj in enumerate(objects):
        lookups.append(f"SELECT {position}, found.* FROM ({POSTGRESQL_LOOKUPS[obj.kind]}) AS found")
        if obj.kind in ("column", "trigger"):
            params += [obj.table, obj.name]
        else:
            params.append(obj.signature or (f"{obj.name}()" if obj.kind == "function" else obj.name))
    rows: dict[int, tuple[str | None, bool, str | None]] = {}
    if lookups:
        with connection.cursor() as cursor:
            cursor.execute(" UNION ALL ".join(lookups), params)
            rows = {position: (comment, enabled, body) for position, comment, enabled, body in cursor.fetchall()}
    for position, obj in enumerate(objects):
        row = rows.get(position)
        if row is None:
            yield obj, "missing"
        elif row[0] != f"{MARK}{obj.digest}" or (obj.kind == "function" and _words(row[2] or "") != _body(obj)):
            # CREATE OR REPLACE FUNCTION keeps the comment: a function's body is compared too.
            yield obj, "different from its declaration"
        elif not row[1]:
            yield obj, "disabled"


def problems(connection: BaseDatabaseWrapper) -> list[tuple[DatabaseObject, str]]:
    """(object, what is wrong) for every declared object that the database lacks or holds otherwise."""
    objects = declared(connection.vendor)
    inspect = _sqlite_problems if connection.vendor == "sqlite" else _postgresql_problems
    return list(inspect(connection, objects))


def unapplied_migrations(connection: BaseDatabaseWrapper) -> list[str]:
    """The migrations not applied yet, as ``app_label.name``, in the order ``migrate`` would apply them."""
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return [f"{migration.app_label}.{migration.name}" for migration, _ in plan]


@checks.register()
def check_database_objects(
    app_configs: Sequence[AppConfig] | None = None, databases: Sequence[str] | None = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    """Report each trigger, function, table, column or index the database should have and lacks or differs."""
    if app_configs is not None and not any(config.name == "excerpts" for config in app_configs):
        return []
    connection = connections[DEFAULT_DB_ALIAS]
    if connection.vendor not in VENDORS:
        return []
    try:
        if unapplied_migrations(connection):
            return []  # migrate is what brings the objects
        found = problems(connection)
    except DatabaseError as error:
        return [checks.Warning(f"The database could not be inspected: {error}", id="excerpts.W001")]
    return [
        checks.Error(
            f"The database's {obj.label} is {problem}.",
            hint=f"Run `{REPAIR}` to recreate every trigger, function, table and index from the declarations.",
            id="excerpts.E001",
        )
        for obj, problem in found
    ]


# Letters of the scripts the corpus searches, which the search words function keeps as [[:alnum:]] (search_index.py):
# under the C or POSIX locale PostgreSQL counts only ASCII letters as letters, and Chinese and Russian words would
# vanish from the index without an error.
LETTERS_PROBE = "SELECT %s ~ '^[[:alnum:]]+$'"
LETTERS = "Жё东風"


@checks.register()
def check_postgresql_letters(
    app_configs: Sequence[AppConfig] | None = None, databases: Sequence[str] | None = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    """On PostgreSQL, that the database's locale counts Cyrillic and Chinese letters as letters (for search)."""
    if app_configs is not None and not any(config.name == "excerpts" for config in app_configs):
        return []
    connection = connections[DEFAULT_DB_ALIAS]
    if connection.vendor != "postgresql":
        return []
    try:
        with connection.cursor() as cursor:
            cursor.execute(LETTERS_PROBE, [LETTERS])
            (letters,) = cursor.fetchone()
            cursor.execute("SHOW lc_ctype")
            (ctype,) = cursor.fetchone()
    except DatabaseError as error:
        return [checks.Warning(f"The database could not be inspected: {error}", id="excerpts.W001")]
    if letters:
        return []
    return [
        checks.Error(
            f"The database's character classification (LC_CTYPE {ctype}) does not count {LETTERS} as letters: "
            "search would find no Chinese, Russian or other non-ASCII word.",
            hint="Create the database with a UTF-8 locale (createdb --locale=C.UTF-8 --template=template0, or "
            "en_US.UTF-8), then migrate and load the data into it.",
            id="excerpts.E002",
        )
    ]
