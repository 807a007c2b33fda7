"""
What the database keeps for us, declared once for both engines, one module per object:

- ``search_index``: the full-text index (FTS5 table / tsvector column and GIN index) and its triggers;
- ``data_version``: the version cached answers are keyed by, and its triggers;
- ``facet_summary``: the per-value counts whole-corpus facets read, and their triggers;
- ``speaker_name``: the copy of each excerpt's speaker name that ``ordering=speaker`` walks;
- ``indexes``: indexes Django cannot declare (an expression on SQLite, one on the topic links).

Nothing here imports the rest of the project. Migrations carry the SQL these declarations produce
inside themselves (``operations.InstallDatabaseObjects``), so a migration means the same thing forever
and a changed declaration needs a new migration (``manage.py makedbmigration``; a test fails until it
exists). The system check (``checks``) compares the database with the declarations, and
``manage.py repair_database`` runs ``install_statements`` again.
"""

from collections.abc import Iterable, Sequence
from types import ModuleType

from django.db.backends.base.base import BaseDatabaseWrapper

from . import data_version, facet_summary, indexes, search_index, speaker_name
from .objects import DERIVED_KINDS, STORAGE_KINDS, DatabaseObject

MODULES = (data_version, search_index, facet_summary, speaker_name, indexes)
VENDORS = ("sqlite", "postgresql")
# Dropped in this order: what depends on an object goes before it.
DROP_ORDER = ("trigger", "index", "function", "column", "virtual table", "table")

__all__ = ["VENDORS", "DatabaseObject", "declared", "install_statements", "run", "uninstall_statements"]


def declared(vendor: str, modules: Sequence[ModuleType] = MODULES) -> list[DatabaseObject]:
    """Every object the database of ``vendor`` should have, in declaration order."""
    return [obj for module in modules for obj in module.OBJECTS.get(vendor, ())]


def uninstall_statements(vendor: str, modules: Sequence[ModuleType] = MODULES) -> list[str]:
    """Drop every declared object that exists."""
    objects = declared(vendor, modules)
    # PostgreSQL refuses ALTER TABLE in a transaction with deferred foreign-key checks pending (loaddata's).
    pending = ["SET CONSTRAINTS ALL IMMEDIATE"] if vendor == "postgresql" else []
    return [*pending, *(obj.drop(vendor) for kind in DROP_ORDER for obj in objects if obj.kind == kind)]


def install_statements(vendor: str, modules: Sequence[ModuleType] = MODULES) -> list[str]:
    """
    Drop every declared object that exists and create them all afresh, filled from the tables: what a new
    migration runs to bring a database of any earlier state to today's objects, and what a repair runs.

    Storage is created first, then filled, then indexed and given its triggers, so the fill fires no trigger.
    """
    objects = declared(vendor, modules)

    def created(kinds: Iterable[str]) -> list[str]:
        return [statement for obj in objects if obj.kind in kinds for statement in obj.create_statements(vendor)]

    fill = [statement for module in modules for statement in module.FILL.get(vendor, ())]
    return [*uninstall_statements(vendor, modules), *created(STORAGE_KINDS), *fill, *created(DERIVED_KINDS)]


def run(connection: BaseDatabaseWrapper, statements: Iterable[str]) -> None:
    """Run SQL statements in order on ``connection``."""
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
