"""
Whether the database is ready to serve: it answers, every migration is applied, and every trigger, function,
table and index it keeps for us is there as declared (the system check's inspection, ``checks.problems``).
``/readyz`` reports it for load balancers and orchestrators, which ask every few seconds, so each check is cheap:
one query for the first, the third one query on SQLite and one per object on PostgreSQL.

Reading the migration graph from disk costs more, and its answer cannot turn false while a process runs the same
code: once every migration is found applied, the process remembers it. A new release with a migration starts new
processes, which ask again. The objects are inspected every time, since anyone may drop a trigger at any moment.
"""

import logging
from dataclasses import dataclass

from django.db import DatabaseError
from django.db.backends.base.base import BaseDatabaseWrapper

from . import VENDORS
from .checks import REPAIR, problems, unapplied_migrations

logger = logging.getLogger(__name__)

OK, FAILED, SKIPPED = "ok", "failed", "skipped"

# The database aliases this process has found fully migrated.
migrated_aliases: set[str] = set()


@dataclass(frozen=True)
class Check:
    """One readiness check: its name, its outcome (ok, failed or skipped) and what it found, for a person."""

    name: str
    status: str
    detail: str


def _reachable(connection: BaseDatabaseWrapper) -> Check:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return Check("database", OK, f"The {connection.vendor} database answers.")


def _migrations(connection: BaseDatabaseWrapper) -> Check:
    if connection.alias not in migrated_aliases:
        unapplied = unapplied_migrations(connection)
        if unapplied:
            shown = ", ".join(unapplied[:5]) + (f" and {len(unapplied) - 5} more" if len(unapplied) > 5 else "")
            detail = f"{len(unapplied)} migration(s) not applied: {shown}. Run `manage.py migrate`."
            return Check("migrations", FAILED, detail)
        migrated_aliases.add(connection.alias)
    return Check("migrations", OK, "Every migration is applied.")


def _objects(connection: BaseDatabaseWrapper) -> Check:
    if connection.vendor not in VENDORS:
        return Check("objects", SKIPPED, f"The {connection.vendor} engine keeps no declared objects.")
    found = problems(connection)
    if found:
        listed = "; ".join(f"the {obj.label} is {problem}" for obj, problem in found)
        return Check("objects", FAILED, f"In the database, {listed}. Run `{REPAIR}`.")
    return Check("objects", OK, "Every trigger, function, table and index is as declared.")


def readiness(connection: BaseDatabaseWrapper) -> list[Check]:
    """Each check in turn; a check that fails (or cannot run) leaves the ones after it skipped."""
    steps = [("database", _reachable), ("migrations", _migrations), ("objects", _objects)]
    results: list[Check] = []
    for name, step in steps:
        failed = next((result.name for result in results if result.status != OK), None)
        if failed is not None:
            results.append(Check(name, SKIPPED, f"Not checked: the {failed} check did not pass."))
            continue
        try:
            results.append(step(connection))
        except DatabaseError as error:
            # The error may name the database's host and port: the log has it, the public answer does not.
            logger.warning("Readiness check %s: the database could not be asked: %s", name, error)
            detail = f"The database could not be asked ({type(error).__name__}); the server's log says why."
            results.append(Check(name, FAILED, detail))
    return results
