"""
What kind of failure a database error is, on either engine: one the same request may get past later (the
database down, a lock held too long, a statement past its time budget, a read-only database) or a bug.

Django wraps each driver error in its own class (``django.db.OperationalError`` and the rest) and keeps the
driver's error as ``__cause__``: sqlite3's carries an extended result code, psycopg's an SQLSTATE (none when the
connection itself failed). The answer is one of the constants below, or None for an error that retrying
cannot cure (a missing table, a syntax error): that one stays a 500.
"""

import sqlite3

import psycopg
from django.db import DatabaseError, InterfaceError

# The database cannot be reached or cannot work: refused or lost connection, server shutting down, disk full.
UNAVAILABLE = "database-unavailable"
# Another connection held a lock past the wait (SQLite's busy timeout, PostgreSQL's lock_timeout, a deadlock).
BUSY = "database-busy"
# The statement ran past its time budget and was cancelled (statement_timeout, or SQLite's progress handler).
TIMEOUT = "query-timeout"
# The database refuses writes: a read-only SQLite file or directory, a PostgreSQL hot standby.
READ_ONLY = "database-read-only"

# SQLite's primary result codes (an extended code keeps its primary one in the low byte).
SQLITE_CODES = {
    sqlite3.SQLITE_BUSY: BUSY,
    sqlite3.SQLITE_LOCKED: BUSY,
    sqlite3.SQLITE_INTERRUPT: TIMEOUT,
    sqlite3.SQLITE_READONLY: READ_ONLY,
    sqlite3.SQLITE_CANTOPEN: UNAVAILABLE,
    sqlite3.SQLITE_IOERR: UNAVAILABLE,
    sqlite3.SQLITE_FULL: UNAVAILABLE,
}
# SQLite's messages for the same codes, for an error raised without its code.
SQLITE_MESSAGES = {
    "database is locked": BUSY,
    "database table is locked": BUSY,
    "interrupted": TIMEOUT,
    "attempt to write a readonly database": READ_ONLY,
    "unable to open database file": UNAVAILABLE,
    "disk I/O error": UNAVAILABLE,
}
# PostgreSQL's SQLSTATEs: the exact ones, then whole classes by their first two characters.
SQLSTATES = {
    "57014": TIMEOUT,  # query_canceled: statement_timeout
    "55P03": BUSY,  # lock_not_available: lock_timeout
    "40P01": BUSY,  # deadlock_detected
    "40001": BUSY,  # serialization_failure
    "25006": READ_ONLY,  # read_only_sql_transaction: a hot standby
    "57P01": UNAVAILABLE,  # admin_shutdown
    "57P02": UNAVAILABLE,  # crash_shutdown
    "57P03": UNAVAILABLE,  # cannot_connect_now: starting up or shutting down
    "58030": UNAVAILABLE,  # io_error
}
SQLSTATE_CLASSES = {
    "08": UNAVAILABLE,  # connection_exception
    "53": UNAVAILABLE,  # insufficient_resources: disk full, out of memory, too many connections
}


def database_failure(error: BaseException) -> str | None:
    """The kind of failure a database error is (UNAVAILABLE, BUSY, TIMEOUT, READ_ONLY), or None for any other error."""
    if not isinstance(error, DatabaseError | InterfaceError):
        return None
    cause = error.__cause__
    if isinstance(cause, sqlite3.Error):
        code = getattr(cause, "sqlite_errorcode", None)
        if code is not None:
            return SQLITE_CODES.get(code & 0xFF)
        return SQLITE_MESSAGES.get(str(cause))
    if isinstance(cause, psycopg.Error):
        if cause.sqlstate:
            return SQLSTATES.get(cause.sqlstate) or SQLSTATE_CLASSES.get(cause.sqlstate[:2])
        # No SQLSTATE: there was no server to give one (a refused, lost or closed connection).
        return UNAVAILABLE if isinstance(cause, psycopg.OperationalError | psycopg.InterfaceError) else None
    # Raised by Django without a driver error (tests do), SQLite's message is all there is.
    return SQLITE_MESSAGES.get(str(error))
