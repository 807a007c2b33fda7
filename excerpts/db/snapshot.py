"""
A read snapshot: every query between ``begin()`` and ``end()`` sees the database as it was at the first one.

A long export reads the corpus in many queries (a chunk of rows each, then their topics); without a snapshot a
write committed half-way could leave a row out or show it twice, and the row count taken first would not match
the rows written. Both engines give a snapshot to a read transaction:

- PostgreSQL: ``REPEATABLE READ READ ONLY``, which takes no lock and never waits.
- SQLite (WAL mode): a ``DEFERRED`` transaction, which reads the database as of its first read and, unlike the
  ``IMMEDIATE`` transactions the settings give ``transaction.atomic()``, leaves the write lock to the writers.

``transaction.atomic()`` cannot serve here: a streamed response's reads go on after the view has returned, and on
SQLite it would take the write lock for the whole export. So the transaction is begun and ended by hand, in
autocommit mode, where Django issues no BEGIN of its own. Inside a transaction already (a test's), the reads
simply share it.
"""

from django.core.signals import request_finished
from django.db import connections
from django.dispatch import receiver

from .routers import read_database

BEGIN = {
    "postgresql": "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
    "sqlite": "BEGIN DEFERRED",
}


class ReadSnapshot:
    """One read transaction on a connection, begun and ended explicitly; ``end()`` may be called more than once."""

    def __init__(self, using: str | None = None) -> None:
        # The request's database (a replica for a public read), where its other reads go.
        self.connection = connections[using or read_database()]
        self.open = False

    def begin(self) -> "ReadSnapshot":
        self.connection.ensure_connection()
        if self.connection.get_autocommit() and not self.connection.in_atomic_block:
            with self.connection.cursor() as cursor:
                cursor.execute(BEGIN[self.connection.vendor])
            self.open = True
            self.connection.read_snapshot = self  # type: ignore[attr-defined]
        return self

    def end(self) -> None:
        """Roll the read transaction back (it wrote nothing); a connection lost meanwhile has ended it already."""
        if not self.open:
            return
        self.open = False
        self.connection.read_snapshot = None  # type: ignore[attr-defined]
        if self.connection.connection is None:
            return
        try:
            with self.connection.cursor() as cursor:
                cursor.execute("ROLLBACK")
        except Exception:
            # A connection broken meanwhile: closing it ends the transaction as well.
            self.connection.close()

    def __enter__(self) -> "ReadSnapshot":
        return self.begin()

    def __exit__(self, *exc_info: object) -> None:
        self.end()


@receiver(request_finished)
def end_forgotten_snapshots(**kwargs: object) -> None:
    """
    End a snapshot still open when its request is over: a response that was dropped without being closed (a
    middleware failing after the view) would otherwise leave its read-only transaction to the thread's next request.
    """
    for connection in connections.all(initialized_only=True):
        snapshot = getattr(connection, "read_snapshot", None)
        if snapshot is not None:
            snapshot.end()
