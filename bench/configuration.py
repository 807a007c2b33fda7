"""
The database a benchmark measured, in one line: its engine and version, its size, and the memory it was given.

A figure means little without them. On PostgreSQL above all: with the default 128 MB of ``shared_buffers`` a
million-excerpt database (2.2 GB) is read mostly from the operating system's cache, and the benchmark's rare-term
searches had a p95 of 106-108 ms on this machine, against 82-93 ms with 3 or 6 GB (README, "Running on PostgreSQL").
"""

import os
import sqlite3

from django.db import connection

MIB = 2**20


def machine_memory() -> int:
    """Bytes of physical memory on this machine."""
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def describe() -> str:
    """The default database's engine, version, size and memory settings, as one line."""
    if connection.vendor == "postgresql":
        return postgresql()
    if connection.vendor == "sqlite":
        return sqlite()
    return connection.vendor


def postgresql() -> str:
    # Sizes and settings as PostgreSQL itself prints them, so that they read as postgresql.conf writes them.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('server_version'), pg_size_pretty(pg_database_size(current_database())), "
            "pg_database_size(current_database()), current_setting('shared_buffers'), "
            "pg_size_bytes(current_setting('shared_buffers')), current_setting('effective_cache_size'), "
            "current_setting('work_mem')"
        )
        version, size, size_bytes, buffers, buffers_bytes, cache, work_mem = cursor.fetchone()
    memory = machine_memory()
    return (
        f"PostgreSQL {version}, database {size}; shared_buffers {buffers} ({buffers_bytes / size_bytes:.1%} of the "
        f"database, {buffers_bytes / memory:.1%} of this machine's {memory / 2**30:.1f} GB of memory), "
        f"effective_cache_size {cache}, work_mem {work_mem}"
    )


def sqlite() -> str:
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA page_count")
        pages = cursor.fetchone()[0]
        cursor.execute("PRAGMA page_size")
        page_size = cursor.fetchone()[0]
        cursor.execute("PRAGMA journal_mode")
        journal = cursor.fetchone()[0]
        cursor.execute("PRAGMA cache_size")
        cache = cursor.fetchone()[0]
    # A negative cache_size is in KiB, a positive one in pages (SQLite's convention).
    cache_bytes = -cache * 1024 if cache < 0 else cache * page_size
    return (
        f"SQLite {sqlite3.sqlite_version}, database {pages * page_size / MIB:,.0f} MB ({journal} journal); "
        f"page cache {cache_bytes / MIB:,.0f} MB a connection"
    )
