"""
Read replicas (excerpts/db/routers.py, excerpts/api/replicas.py) against a real streaming replica: a second
PostgreSQL cluster made with ``pg_basebackup -R`` from the test database's server, on another port.

The primary must accept replication connections from 127.0.0.1 (``host replication all 127.0.0.1/32 trust`` in
pg_hba.conf, as .ci/run sets). Pausing the replica's replay makes the difference visible: a write the primary has
and the replica has not yet applied is seen by the curator (the primary) and not by the public (the replica).
"""

import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection, connections
from django.urls import reverse
from knox.models import AuthToken
from rest_framework.test import APIClient

from excerpts.api.replicas import WROTE_COOKIE
from excerpts.db.data_version import READ as READ_VERSION
from excerpts.db.facet_summary import TABLE as FACET_SUMMARY
from tests import factories

ALIAS = "replica_0"
pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="streaming replication is PostgreSQL's; SQLite has no replicas"
    ),
    pytest.mark.django_db(transaction=True, serialized_rollback=True, databases=["default", ALIAS]),
]
CATCH_UP_SECONDS = 30


def _as_postgres(command, **kwargs):
    """Run a server binary as the postgres OS user (the cluster's files must be its own), or as ourselves."""
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    return subprocess.run(prefix + command, check=True, capture_output=True, text=True, **kwargs)


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def replica(django_db_setup, django_db_blocker):
    """A streaming replica of the test database's cluster, as the alias ``replica_0``; stopped and removed after."""
    primary = connections["default"].settings_dict
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute("SHOW server_version_num")
        major = int(cursor.fetchone()[0]) // 10000
    binaries = Path(os.environ.get("EXCERPTS_PG_BINDIR", f"/usr/lib/postgresql/{major}/bin"))
    if not (binaries / "pg_basebackup").exists():
        # In CI (.ci/run) the replica test must run, never skip.
        if os.environ.get("EXCERPTS_REQUIRE_REPLICA"):
            pytest.fail(f"EXCERPTS_REQUIRE_REPLICA is set but {binaries} has no pg_basebackup")
        pytest.skip(f"no pg_basebackup in {binaries} (EXCERPTS_PG_BINDIR names another)")
    directory = Path(tempfile.mkdtemp(prefix="excerpts-replica-"))
    data, port = directory / "data", _free_port()
    started = False
    try:
        if os.geteuid() == 0:
            shutil.chown(directory, "postgres", "postgres")
        _as_postgres(
            [
                binaries / "pg_basebackup",
                *("-h", primary["HOST"], "-p", str(primary["PORT"]), "-U", primary["USER"]),
                *("-D", str(data), "-R", "-X", "stream", "-c", "fast"),
            ]
        )
        # Debian keeps a cluster's configuration outside its data directory: the copy gets its own.
        _as_postgres(
            ["tee", str(data / "postgresql.conf")],
            input=(
                f"port = {port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{directory}'\n"
                "hot_standby = on\nfsync = off\n"
            ),
        )
        _as_postgres(
            ["tee", str(data / "pg_hba.conf")], input="local all all trust\nhost all all 127.0.0.1/32 trust\n"
        )
        _as_postgres([binaries / "pg_ctl", "-D", str(data), "-l", str(directory / "log"), "-w", "start"])
        started = True
        replica_settings = {
            **primary,
            "PORT": port,
            "CONN_MAX_AGE": 0,
            "TEST": {**primary["TEST"], "MIRROR": "default"},
        }
        settings.DATABASES[ALIAS] = connections.settings[ALIAS] = replica_settings
        yield ALIAS
    finally:
        if ALIAS in connections.settings:
            connections[ALIAS].close()
            del connections[ALIAS]
            del connections.settings[ALIAS]
            settings.DATABASES.pop(ALIAS, None)
        if started:
            _as_postgres([binaries / "pg_ctl", "-D", str(data), "-m", "fast", "-w", "stop"])
        shutil.rmtree(directory, ignore_errors=True)


def _caught_up(alias):
    """Wait until the replica has replayed everything the primary has written so far (at most CATCH_UP_SECONDS)."""
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn()")
        (target,) = cursor.fetchone()
    deadline = time.monotonic() + CATCH_UP_SECONDS
    with connections[alias].cursor() as cursor:
        while True:
            cursor.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [target])
            if cursor.fetchone()[0]:
                return
            assert time.monotonic() < deadline, f"the replica did not replay up to {target} in {CATCH_UP_SECONDS} s"
            time.sleep(0.05)


def _one(alias, sql):
    with connections[alias].cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchall()


class _Queries:
    """The statements each database ran while the block was open."""

    def __init__(self, *aliases):
        self.aliases = aliases
        self.ran = {alias: [] for alias in aliases}

    def __enter__(self):
        self.wrappers = []
        for alias in self.aliases:
            wrapper = connections[alias].execute_wrapper(self._recorder(alias))
            wrapper.__enter__()
            self.wrappers.append(wrapper)
        return self

    def _recorder(self, alias):
        def record(execute, sql, params, many, context):
            self.ran[alias].append(sql)
            return execute(sql, params, many, context)

        return record

    def __exit__(self, *exc):
        for wrapper in reversed(self.wrappers):
            wrapper.__exit__(*exc)


@pytest.fixture
def paused(replica):
    """Replay paused on the replica for the test (the primary's writes wait in its WAL), resumed after."""

    def pause():
        _one(replica, "SELECT pg_wal_replay_pause()")

    yield pause
    _one(replica, "SELECT pg_wal_replay_resume()")


def test_the_replica_is_a_streaming_standby_of_the_primary(replica):
    assert _one(replica, "SELECT pg_is_in_recovery()") == [(True,)]
    assert _one("default", "SELECT pg_is_in_recovery()") == [(False,)]


def test_a_public_read_is_served_by_the_replica_and_a_curators_by_the_primary(replica, paused):
    corpus = factories.corpus()
    token = AuthToken.objects.create(factories.curator())[1]
    _caught_up(replica)
    url = reverse("excerpt-list")
    with _Queries("default", replica) as queries:
        public = APIClient().get(url)
    assert public.status_code == 200
    assert [row["text"] for row in public.json()["results"]] == [corpus["published"].text]
    assert queries.ran[replica] and not queries.ran["default"]

    paused()
    curator = APIClient()
    curator.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    written = curator.post(url, factories.excerpt_body(corpus, status="published"), format="json")
    assert written.status_code == 201, written.content
    text = written.json()["text"]

    # The replica has not applied the write: the public does not see it yet, the curator who wrote it does.
    assert text not in [row["text"] for row in APIClient().get(url).json()["results"]]
    with _Queries("default", replica) as queries:
        own = curator.get(url, {"status": "published"})
    assert text in [row["text"] for row in own.json()["results"]]
    assert queries.ran["default"] and not queries.ran[replica]


def test_a_callers_reads_right_after_its_write_go_to_the_primary(replica, paused):
    corpus = factories.corpus()
    token = AuthToken.objects.create(factories.curator())[1]
    paused()
    writer = APIClient()
    writer.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    written = writer.post(reverse("excerpt-list"), factories.excerpt_body(corpus, status="published"), format="json")
    assert written.status_code == 201
    cookie = written.cookies[WROTE_COOKIE]
    assert int(cookie["max-age"]) == settings.REPLICA_READ_YOUR_WRITES_SECONDS

    # The same caller without its credentials (a page that read the token once, a browser after a form) still reads
    # the primary while the cookie lasts.
    reader = APIClient()
    reader.cookies[WROTE_COOKIE] = cookie.value
    assert written.json()["text"] in [row["text"] for row in reader.get(reverse("excerpt-list")).json()["results"]]


def test_the_data_version_and_facet_summary_on_the_replica_match_the_primary_after_replication(replica, paused):
    corpus = factories.corpus()
    token = AuthToken.objects.create(factories.curator())[1]
    _caught_up(replica)
    facets = reverse("excerpt-facets")
    before = APIClient().get(facets)

    paused()
    curator = APIClient()
    curator.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    body = factories.excerpt_body(corpus, status="published")
    assert curator.post(reverse("excerpt-list"), body, format="json").status_code == 201
    version, summary = READ_VERSION["postgresql"], f"SELECT * FROM {FACET_SUMMARY} ORDER BY status, facet, value"
    assert _one(replica, version) != _one("default", version)

    # While the replica lags, its answer is its own data under its own version: the ETag of what was served before.
    lagging = APIClient().get(facets)
    assert lagging.json() == before.json()
    assert lagging["ETag"] == before["ETag"]

    _one(replica, "SELECT pg_wal_replay_resume()")
    _caught_up(replica)
    assert _one(replica, version) == _one("default", version)
    assert _one(replica, summary) == _one("default", summary)
    caught_up = APIClient().get(facets)
    primary = APIClient()
    primary.cookies[WROTE_COOKIE] = "1"
    from_primary = primary.get(facets)
    assert caught_up.json() == from_primary.json() != before.json()
    assert caught_up.json()["count"] == before.json()["count"] + 1
    assert caught_up["ETag"] == from_primary["ETag"] != before["ETag"]


def _texts(url, headers=None):
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=30) as response:
        return [row["text"] for row in json.load(response)["results"]]


def test_over_http_a_served_public_read_lags_with_the_replica_and_a_recent_writer_reads_the_primary(
    replica, paused, live_server, settings
):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {}}
    corpus = factories.corpus()
    token = AuthToken.objects.create(factories.curator())[1]
    url = live_server.url + reverse("excerpt-list")
    _caught_up(replica)
    paused()
    request = urllib.request.Request(
        url,
        data=json.dumps(factories.excerpt_body(corpus, status="published")).encode(),
        headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        text = json.load(response)["text"]
        cookie = response.headers["Set-Cookie"].split(";")[0]
    assert cookie.startswith(f"{WROTE_COOKIE}=")

    assert _texts(url) == [corpus["published"].text]
    assert text in _texts(url, {"Cookie": cookie})
    assert text in _texts(url, {"Authorization": f"Token {token}"})
    _one(replica, "SELECT pg_wal_replay_resume()")
    _caught_up(replica)
    assert text in _texts(url)
