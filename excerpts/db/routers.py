"""
The database routers: unmanaged models kept out of migrations and dumps, and reads sent to read replicas.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS

REPLICA_PREFIX = "replica_"


class UnmanagedModelsRouter:
    """
    Keep unmanaged models (``SearchEntry``, a window on SQLite's FTS5 index) out of migrations, ``dumpdata``
    and test-database serialization. Django's own ``can_migrate`` already says so, but ``dumpdata`` and
    ``serialized_rollback`` ask the routers: without this they read the index as if it were data, and on
    PostgreSQL, which has no such table, fail.
    """

    def allow_migrate(self, db: str, app_label: str, model_name: str | None = None, **hints: Any) -> bool | None:
        model = hints.get("model")
        if model is not None and not model._meta.managed:
            return False
        return None


# The database a request's reads go to: the primary ("default") unless a middleware chose a replica for the request
# (excerpts/api/replicas.py). Management commands, migrations and anything outside a request read the primary.
_read_database: ContextVar[str] = ContextVar("excerpts_read_database", default=DEFAULT_DB_ALIAS)


def replica_aliases() -> list[str]:
    """The read-only replicas settings.DATABASE_REPLICA_URLS added ("replica_0", ...)."""
    return [alias for alias in settings.DATABASES if alias.startswith(REPLICA_PREFIX)]


def read_database() -> str:
    """The alias this request reads from: raw SQL that must agree with the ORM's rows (the data version the cache is
    keyed by, the facet summary) uses it too, so data and version come from the same database."""
    return _read_database.get()


@contextmanager
def reading_from(alias: str) -> Iterator[None]:
    """Send the reads made inside the block (ORM and ``read_database()``) to ``alias``."""
    token = _read_database.set(alias)
    try:
        yield
    finally:
        _read_database.reset(token)


class ReplicaRouter:
    """
    Reads go where ``reading_from`` says (a replica for a public read, the primary otherwise); every write goes
    to the primary, and only the primary is migrated (a replica is a copy of it, read-only).
    """

    def db_for_read(self, model: Any, **hints: Any) -> str:
        return _read_database.get()

    def db_for_write(self, model: Any, **hints: Any) -> str:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool | None:
        # Every alias holds the same rows: an excerpt read from a replica may be linked to a speaker from the primary.
        return True

    def allow_migrate(self, db: str, app_label: str, model_name: str | None = None, **hints: Any) -> bool | None:
        return False if db.startswith(REPLICA_PREFIX) else None
