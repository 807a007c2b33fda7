"""
A time budget for each statement a block of code runs, on either engine: past it the database cancels the
statement and Django raises OperationalError (``failures.TIMEOUT``).

PostgreSQL: ``statement_timeout`` is set on the connection before the block's first statement and reset when the
block ends, so a persistent connection goes back to the server's default for whatever uses it next. SQLite: a
progress handler, called every few thousand virtual-machine steps, interrupts a statement once it has run past
its deadline; each statement gets a deadline when it starts, which also covers the fetching of its rows.

Only the connection's own statements are budgeted (``connection.execute_wrapper``), while the block runs: rows a
response streams after the block has ended (an export) are read without a budget, whatever their number.
"""

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from django.db.backends.base.base import BaseDatabaseWrapper

# SQLite virtual-machine steps between two calls of the progress handler: frequent enough to stop a statement
# within a millisecond or so of its deadline, rare enough to cost nothing measurable.
SQLITE_STEPS = 10_000


class StatementBudget:
    """``connection.execute_wrapper`` giving each statement ``seconds`` to run, until ``lift()`` or the block's end."""

    def __init__(self, connection: BaseDatabaseWrapper, seconds: float) -> None:
        self.connection = connection
        self.seconds = seconds
        self.active = True
        self.deadline = 0.0
        self.postgresql_timeout_set = False

    def __call__(self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: dict[str, Any]) -> Any:
        if self.active:
            if self.connection.vendor == "sqlite":
                self.deadline = time.monotonic() + self.seconds
                self.connection.connection.set_progress_handler(self._past_deadline, SQLITE_STEPS)
            elif self.connection.vendor == "postgresql" and not self.postgresql_timeout_set:
                self._set_statement_timeout(max(1, round(self.seconds * 1000)))
        return execute(sql, params, many, context)

    def _set_statement_timeout(self, milliseconds: int) -> None:
        # On a cursor of the driver's own (not the statement's, which may be a server-side one), so that the
        # setting is not counted among the block's queries (assertNumQueries).
        with self.connection.wrap_database_errors, self.connection.connection.cursor() as cursor:
            cursor.execute(f"SET statement_timeout = {milliseconds}")
        self.postgresql_timeout_set = True

    def _past_deadline(self) -> bool:
        return time.monotonic() > self.deadline

    def lift(self) -> None:
        """Run the block's remaining statements without a budget."""
        self.active = False
        if self.connection.connection is None:
            return
        if self.connection.vendor == "sqlite":
            self.connection.connection.set_progress_handler(None, 0)
        elif self.postgresql_timeout_set:
            self.postgresql_timeout_set = False
            try:
                with self.connection.connection.cursor() as cursor:
                    cursor.execute("RESET statement_timeout")
            except psycopg.Error:
                # A lost connection, or a transaction the cancelled statement aborted (whose rollback also undoes
                # the SET): either way the setting must not outlive the block on this connection.
                if not self.connection.in_atomic_block:
                    self.connection.close()


@contextmanager
def statement_budget(connection: BaseDatabaseWrapper, seconds: float) -> Iterator[StatementBudget]:
    """Give each statement run on ``connection`` inside the block ``seconds`` to run (see the module's docstring)."""
    budget = StatementBudget(connection, seconds)
    with connection.execute_wrapper(budget):
        try:
            yield budget
        finally:
            budget.lift()
