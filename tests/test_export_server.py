"""
Exports and dumps through a real gunicorn (gthread workers), on a database of the test's own of the suite's engine.

A worker killed in the middle of a streamed export must leave the client with an error, never a body that parses as
complete; the API rebuilds the dumps by itself when the data changes; and a dump downloads whole, by sendfile.
"""

import csv
import gzip
import hashlib
import http.client
import io
import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
from django.conf import settings
from django.db import connection
from django.urls import reverse

from tests import servers
from tests.servers import free_port

ROOT = Path(__file__).resolve().parent.parent
EXCERPTS = 20_000  # a CSV export of them (~13 MB) is far more than the sockets' buffers hold
PATIENCE = 240  # seconds for the database to be seeded, the server to start, a dump to be built

GUNICORN = [sys.executable, "-m", "gunicorn", "project.wsgi:application", "-k", "gthread", "--threads", "4", "-w", "2"]
WAIT_FOR_BUILD = "from excerpts.api import dumps\nwith dumps.build_lock(blocking=True): pass"
ADD_EXCERPT = """
from excerpts.models import Excerpt, Source, Speaker
Excerpt.objects.create(
    text="Written while the server runs.", kind="speech", date="1958", language="en", status="published",
    speaker=Speaker.objects.first(), source=Source.objects.first(),
)
"""


def until(condition, what, patience=PATIENCE):
    return servers.until(condition, what, patience, interval=0.2)


@pytest.fixture(scope="module")
def database_url(tmp_path_factory):
    """A database of the suite's engine seeded with EXCERPTS synthetic excerpts; dropped (or deleted) at the end."""
    if connection.vendor != "postgresql":
        yield f"sqlite:///{tmp_path_factory.mktemp('server') / 'server.sqlite3'}"
        return
    import psycopg
    from psycopg import sql

    database = settings.DATABASES["default"]
    server = {key: database[key.upper()] or None for key in ("host", "port", "user", "password")}
    name = f"{database['NAME']}_server_{os.getpid()}"
    drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
    with psycopg.connect(dbname="postgres", autocommit=True, **server) as admin:
        admin.execute(drop)
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        credentials = quote(server["user"] or "", safe="") + (
            ":" + quote(server["password"], safe="") if server["password"] else ""
        )
        yield f"postgres://{credentials}@{server['host'] or ''}:{server['port'] or 5432}/{name}"
    finally:
        with psycopg.connect(dbname="postgres", autocommit=True, **server) as admin:
            admin.execute(drop)


@pytest.fixture(scope="module")
def live(database_url, tmp_path_factory):
    """gunicorn with two gthread workers on the seeded database, rebuilding dumps by itself into a directory."""
    dumps = tmp_path_factory.mktemp("dumps")
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DATABASE_CONN_MAX_AGE": "0",
        "EXCERPTS_DUMPS_DIR": str(dumps),
        "EXCERPTS_DUMPS_AUTO_REBUILD": "true",
        # Plain HTTP on loopback with production's settings; the rate limits are tested in test_throttling.py.
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DJANGO_RATE_LIMIT_ANON": "off",
        "DJANGO_RATE_LIMIT_HEAVY": "off",
    }

    def manage(*args):
        done = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=PATIENCE
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    manage("migrate", "-v0")
    manage("seed_synthetic", "--count", str(EXCERPTS))
    port = free_port()
    env["EXCERPTS_DUMPS_BASE_URL"] = f"http://127.0.0.1:{port}"
    log_path = tmp_path_factory.mktemp("log") / "gunicorn.log"
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [*GUNICORN, "-b", f"127.0.0.1:{port}"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            until(lambda: server.poll() is not None or status(port, reverse("excerpt-list")) == 200, "gunicorn")
            assert server.poll() is None, log_path.read_text()
            yield {"port": port, "server": server, "manage": manage, "dumps": dumps}
        finally:
            server.terminate()
            try:
                server.wait(30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
            # A rebuild the server started holds the build lock until it ends: wait for it, so nothing is left.
            subprocess.run(
                [sys.executable, "manage.py", "shell", "-c", WAIT_FOR_BUILD],
                cwd=ROOT,
                env=env,
                timeout=PATIENCE,
                check=False,
            )


def status(port, path):
    try:
        return fetch(port, path)[0]
    except OSError:
        return None


def fetch(port, path, method="GET"):
    client = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        client.request(method, path)
        response = client.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        client.close()


def workers(server):
    """The pids of the gunicorn master's worker processes."""
    children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
    return [int(pid) for pid in children]


def test_a_worker_killed_mid_export_leaves_the_client_an_error_not_a_complete_looking_body(live):
    client = http.client.HTTPConnection("127.0.0.1", live["port"], timeout=60)
    try:
        client.request("GET", reverse("excerpt-list") + "?format=csv")
        response = client.getresponse()
        assert response.status == 200
        assert response.getheader("Transfer-Encoding") == "chunked"
        expected = int(response.getheader("Excerpt-Count"))
        assert expected == EXCERPTS
        received = response.read(64 * 1024)  # the export is under way; the client pauses, the worker blocks on send
        for pid in workers(live["server"]):
            os.kill(pid, signal.SIGKILL)
        with pytest.raises((http.client.IncompleteRead, ConnectionError)):
            while block := response.read(64 * 1024):
                received += block
    finally:
        client.close()
    # What did arrive is a prefix of the CSV: it parses, but has fewer rows than Excerpt-Count says.
    rows = list(csv.reader(io.StringIO(received.decode("utf-8", "ignore"))))
    assert 1 < len(rows) - 1 < expected
    # gunicorn replaces the killed workers.
    until(lambda: status(live["port"], reverse("excerpt-list")) == 200, "new workers")


def listing(live):
    return json.loads(fetch(live["port"], reverse("dump-list"))[2])


def test_the_api_builds_the_dumps_by_itself_and_rebuilds_them_after_a_write(live):
    first = listing(live)  # no dump yet: this starts the first build
    assert first["current"] is False
    built = until(lambda: (answer := listing(live))["current"] and answer, "the first build")
    assert {entry["format"] for entry in built["files"]} == {"csv", "jsonl"}
    assert {entry["rows"] for entry in built["files"]} == {EXCERPTS}

    live["manage"]("shell", "-c", ADD_EXCERPT)
    stale = listing(live)
    assert stale["current"] is False
    assert [entry["name"] for entry in stale["files"]] == [entry["name"] for entry in built["files"]]
    rebuilt = until(lambda: (answer := listing(live))["current"] and answer, "the rebuild")

    newest = rebuilt["files"][:2]
    assert {entry["rows"] for entry in newest} == {EXCERPTS + 1}
    assert [entry["name"] for entry in rebuilt["files"][2:]] == [entry["name"] for entry in built["files"]]
    assert sorted(path.name for path in live["dumps"].glob("*.gz")) == sorted(
        entry["name"] for entry in rebuilt["files"]
    )

    # The newest JSON Lines dump downloads whole (by sendfile), as listed, with the excerpt written.
    code, headers, _body = fetch(live["port"], reverse("dump-latest", kwargs={"format": "jsonl"}))
    assert code == 302
    code, headers, body = fetch(live["port"], urlsplit(headers["Location"]).path)
    entry = next(entry for entry in newest if entry["format"] == "jsonl")
    assert (code, int(headers["Content-Length"]), len(body)) == (200, entry["bytes"], entry["bytes"])
    assert hashlib.sha256(body).hexdigest() == entry["sha256"]
    lines = gzip.decompress(body).decode().splitlines()
    assert len(lines) == EXCERPTS + 1
    assert "Written while the server runs." in {json.loads(line)["text"] for line in lines}

    # A resumed download: the rest of the file from byte 1000, as long as it is still the same file.
    client = http.client.HTTPConnection("127.0.0.1", live["port"], timeout=60)
    try:
        client.request(
            "GET", urlsplit(entry["url"]).path, headers={"Range": "bytes=1000-", "If-Range": headers["ETag"]}
        )
        resumed = client.getresponse()
        assert (resumed.status, resumed.read()) == (206, body[1000:])
    finally:
        client.close()


def test_benchmark_downloads_prints_whole_downloads_and_probe_latencies(live):
    output = live["manage"]("benchmark_downloads", "--port", str(free_port()), "--duration", "2")
    downloads = re.findall(r"dump download, (\w+), .*: (\d+) downloads \((\d+) whole\)", output)
    assert sorted(format for format, _count, _whole in downloads) == ["csv", "jsonl"]
    assert all(int(count) == int(whole) > 0 for _format, count, whole in downloads)
    assert re.search(r"page 1, during 2 concurrent dump downloads: \d+ probes, p50 \d+ ms, p95 \d+ ms", output)
    exports = re.findall(r"streamed CSV export: status 200, Excerpt-Count (\d+) \(of (\d+)\)", output)
    assert len(exports) == 2
    assert all(count == total for count, total in exports)
