"""
A read-only SQLite database serves reads, and answers writes with a 503 ``database-read-only`` problem, through a
real server on a file of the test's own.

Root ignores file permissions, so as root the file (or its directory) is made immutable with ``chattr +i``, which
root cannot write through either; otherwise its write permissions are removed.
"""

import json
import os
import sqlite3
import subprocess
import urllib.error
import urllib.request
from contextlib import closing, contextmanager

import pytest

from tests.test_import_concurrency import Server, manage
from tests.test_outages import get, site_env

READ_ONLY = "https://excerpts.invalid/problems/database-read-only"


@contextmanager
def unwritable(*paths):
    """Make files and directories unwritable for the duration, even to root."""
    if os.geteuid() == 0:
        made = subprocess.run(["chattr", "+i", *map(str, paths)], capture_output=True, text=True)
        if made.returncode != 0:
            pytest.skip(f"this file system has no immutable attribute for root: {made.stderr.strip()}")
        try:
            yield
        finally:
            subprocess.run(["chattr", "-i", *map(str, paths)], check=True)
    else:
        modes = {path: path.stat().st_mode for path in paths}
        for path, mode in modes.items():
            path.chmod(mode & ~0o222)
        try:
            yield
        finally:
            for path, mode in modes.items():
                path.chmod(mode)


def post(server, token):
    """POST a speaker: (status, headers, body)."""
    request = urllib.request.Request(
        server.url.replace("excerpts", "speakers"),
        data=json.dumps({"slug": "zhou-enlai", "name": "Zhou Enlai", "kind": "person"}).encode(),
        headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), json.loads(error.read())


@pytest.fixture
def seeded_site(tmp_path):
    """A migrated SQLite file with the seed corpus and a curator: (path, environment, token)."""
    database = tmp_path / "live" / "site.sqlite3"
    database.parent.mkdir()
    env = site_env(f"sqlite:///{database}")
    manage(env, "migrate", "-v0")
    manage(env, "load_seed_corpus", "-v0")
    token = manage(env, "create_curator", "alice").stdout.strip()
    return database, env, token


def published_count(database):
    """Published excerpts in the file; the last connection to close, it removes the -wal and -shm files."""
    with closing(sqlite3.connect(database)) as connection:
        return connection.execute("SELECT count(*) FROM excerpts_excerpt WHERE status = 'published'").fetchone()[0]


def test_a_read_only_snapshot_serves_reads_and_refuses_writes_with_a_503(seeded_site, tmp_path):
    database, env, token = seeded_site
    # A snapshot as SQLite makes one of a live database: in rollback-journal mode, which WAL must write to leave.
    snapshot = tmp_path / "snapshot.sqlite3"
    with closing(sqlite3.connect(database)) as connection:
        connection.execute("VACUUM INTO ?", [str(snapshot)])
    expected = published_count(snapshot)
    env = {**env, "DATABASE_URL": f"sqlite:///{snapshot}"}

    with unwritable(snapshot), Server(env) as server:
        status, _, body = get(server.url)
        write_status, headers, problem = post(server, token)
        again = get(server.url)[0]

    assert (status, json.loads(body)["count"]) == (200, expected)
    assert expected > 0
    assert (write_status, headers["Content-Type"], headers["Retry-After"]) == (503, "application/problem+json", "300")
    assert (problem["status"], problem["type"]) == (503, READ_ONLY)
    assert "read-only" in problem["detail"]
    assert again == 200


def test_a_wal_database_in_a_read_only_directory_is_served_when_configured_read_only(seeded_site):
    database, env, token = seeded_site
    expected = published_count(database)
    # No -wal or -shm file beside it, and none can be made: SQLite cannot open a WAL database so.
    assert sorted(path.name for path in database.parent.iterdir()) == ["site.sqlite3"]

    with unwritable(database, database.parent):
        with closing(sqlite3.connect(database)) as connection, pytest.raises(sqlite3.OperationalError) as refused:
            connection.execute("SELECT count(*) FROM excerpts_excerpt")
        with Server({**env, "DATABASE_READ_ONLY": "true"}) as server:
            status, _, body = get(server.url)
            write_status, _, problem = post(server, token)

    assert str(refused.value) == "unable to open database file"
    assert (status, json.loads(body)["count"]) == (200, expected)
    assert (write_status, problem["type"]) == (503, READ_ONLY)
    assert sorted(path.name for path in database.parent.iterdir()) == ["site.sqlite3"]
