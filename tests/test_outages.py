"""
A database that goes away is a 503 with Retry-After, through a real server, and the site serves again once it is
back: a PostgreSQL cluster of the test's own that is stopped and started again, and a SQLite file whose directory
disappears. Whatever database the rest of the suite uses; each server and cluster is stopped at the end.
"""

import json
import os
import shutil
import subprocess
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.urls import reverse

from tests.test_import_concurrency import ROOT, Server, free_port, manage

POSTGRES_BIN = max(Path("/usr/lib/postgresql").glob("*/bin"), default=None, key=lambda path: int(path.parent.name))
UNAVAILABLE = "https://excerpts.invalid/problems/database-unavailable"


def get(url, headers=None):
    """GET ``url``: (status, headers, body bytes)."""
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


class ThrowawayPostgres:
    """A PostgreSQL cluster in a temporary directory, on a free port, run as the postgres user when root."""

    def __init__(self):
        self.directory = Path(tempfile.mkdtemp(prefix="excerpts-outage-"))
        self.data = self.directory / "data"
        self.port = free_port()
        self.as_owner = []
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            shutil.chown(self.directory, "postgres")
            self.as_owner = ["runuser", "-u", "postgres", "--"]
        self.pg_ctl("initdb", "-o", "--auth=trust --username=postgres --no-sync --encoding=UTF8")
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    def pg_ctl(self, *arguments):
        subprocess.run(
            [*self.as_owner, str(POSTGRES_BIN / "pg_ctl"), "-D", str(self.data), *arguments],
            check=True,
            capture_output=True,
            timeout=60,
        )

    def start(self):
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off"
        self.pg_ctl("start", "-w", "-t", "30", "-o", options, "-l", str(self.directory / "log"))

    def stop(self):
        self.pg_ctl("stop", "-w", "-t", "30", "-m", "fast")

    def remove(self):
        subprocess.run(
            [*self.as_owner, str(POSTGRES_BIN / "pg_ctl"), "-D", str(self.data), "stop", "-m", "immediate"],
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(self.directory, ignore_errors=True)


@pytest.fixture
def postgres_cluster():
    if POSTGRES_BIN is None:
        pytest.skip("PostgreSQL's server programs are not installed (/usr/lib/postgresql/*/bin)")
    cluster = ThrowawayPostgres()
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.remove()


def site_env(database_url):
    env = {**os.environ, "DATABASE_URL": database_url, "PYTHONPATH": str(ROOT), "DJANGO_DEBUG": "false"}
    env.update(DJANGO_SECRET_KEY="outage-test-" + "k" * 40, DJANGO_SECURE_SSL_REDIRECT="false")
    env.update(DJANGO_ALLOWED_HOSTS="127.0.0.1", DATABASE_CONN_MAX_AGE="60")
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return env


def assert_unavailable(server):
    """The API and the admin both answer 503 with Retry-After: a problem detail, and a plain page."""
    status, headers, body = get(server.url)
    assert (status, headers["Content-Type"], headers["Retry-After"]) == (503, "application/problem+json", "30")
    problem = json.loads(body)
    assert (problem["status"], problem["type"]) == (503, UNAVAILABLE)
    assert "cannot be reached" in problem["detail"]

    # A session cookie, so that the admin reads the database to know who is asking.
    admin = server.url.replace(reverse("excerpt-list"), reverse("admin:index"))
    status, headers, body = get(admin, {"Cookie": "sessionid=" + "a1" * 16})
    assert (status, headers["Retry-After"]) == (503, "30")
    assert headers["Content-Type"].startswith("text/plain")
    assert b"cannot be reached" in body


def test_a_stopped_postgresql_is_a_503_with_retry_after_and_the_site_serves_again_once_it_is_back(postgres_cluster):
    env = site_env(postgres_cluster.url)
    manage(env, "migrate", "-v0")
    with Server(env) as server:
        assert get(server.url)[0] == 200
        postgres_cluster.stop()
        assert_unavailable(server)
        postgres_cluster.start()
        status, _, body = get(server.url)

    assert (status, json.loads(body)["count"]) == (200, 0)


def test_a_sqlite_file_whose_directory_disappears_is_a_503_until_it_is_back(tmp_path):
    directory = tmp_path / "mounted"
    directory.mkdir()
    env = site_env(f"sqlite:///{directory / 'site.sqlite3'}")
    manage(env, "migrate", "-v0")
    with Server(env) as server:
        assert get(server.url)[0] == 200
        directory.rename(tmp_path / "unmounted")
        try:
            assert_unavailable(server)
        finally:
            (tmp_path / "unmounted").rename(directory)
        status, _, body = get(server.url)

    assert (status, json.loads(body)["count"]) == (200, 0)
