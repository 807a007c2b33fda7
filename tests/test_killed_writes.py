"""
A server killed in the middle of a write leaves nothing half-written, on PostgreSQL through a real process.

The app runs as `manage.py runserver` against a database of its own. Another connection holds a lock
that blocks the excerpt-topic link insert; a POST or PATCH with topics is sent, and once its backend waits
on that lock (the excerpt row already written) the server is killed with SIGKILL and the lock released.
Nothing the request wrote may remain. SQLite has one writer at a time and no such interleaving, so this
runs only when the suite runs on PostgreSQL; the in-process fault tests in test_atomic_writes.py run on both.
"""

import http.client
import json
import os
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection
from django.urls import reverse

from tests import servers
from tests.servers import free_port

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="a live kill test for PostgreSQL; the suite runs on SQLite"
)

ROOT = Path(__file__).resolve().parent.parent
OLD_TEXT = "The east wind prevails over the west wind."
NEW_TEXT = "Imperialism and all reactionaries are paper tigers."
PATIENCE = 60  # seconds to wait for the server to start and for the request to reach the lock

SETUP = """
from tests import factories

corpus = factories.corpus()
factories.topic("de-stalinization", "De-Stalinization")
print(corpus["draft"].pk, corpus["daily"].pk)
"""


def server_settings():
    """Host, port, user and password of the suite's PostgreSQL server, for a database of the test's own."""
    database = settings.DATABASES["default"]
    return {key: database[key.upper()] or None for key in ("host", "port", "user", "password")}


def until(condition, what):
    return servers.until(condition, what, PATIENCE, interval=0.05)


@pytest.fixture(scope="module")
def live_database():
    """A migrated database with a curator, factories.corpus() and a second topic; dropped at the end."""
    import psycopg
    from psycopg import sql

    server = server_settings()
    name = f"{settings.DATABASES['default']['NAME']}_live_{os.getpid()}"
    with psycopg.connect(dbname="postgres", autocommit=True, **server) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        credentials = quote(server["user"] or "", safe="")
        if server["password"]:
            credentials += ":" + quote(server["password"], safe="")
        url = f"postgres://{credentials}@{server['host'] or ''}:{server['port'] or 5432}/{name}"
        # runserver speaks plain HTTP: the development settings, without production's redirect to HTTPS.
        env = {**os.environ, "DATABASE_URL": url, "DATABASE_CONN_MAX_AGE": "0", "DJANGO_DEBUG": "true"}

        def manage(*args):
            done = subprocess.run(
                [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
            )
            assert done.returncode == 0, done.stderr
            return done.stdout.strip()

        manage("migrate", "-v0")
        token = manage("create_curator", "live-curator")
        excerpt_id, source_id = map(int, manage("shell", "-v0", "-c", SETUP).split())
        yield {
            "env": env,
            "connect": lambda: psycopg.connect(dbname=name, **server),
            "token": token,
            "excerpt": excerpt_id,
            "source": source_id,
        }
    finally:
        with psycopg.connect(dbname="postgres", autocommit=True, **server) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def answers(url):
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status == 200
    except OSError:
        return False


def kill_during_link_insert(live_database, tmp_path, method, path, body):
    """
    Send the request to a fresh server while the topic links are locked, kill the server once the request
    waits on the lock, release the lock and wait until the request's database session has ended.
    """
    port = free_port()
    log = (tmp_path / "runserver.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=live_database["env"],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        until(lambda: server.poll() is not None or answers(base + reverse("topic-list")), "the server to answer")
        assert server.poll() is None, (tmp_path / "runserver.log").read_text()

        with live_database["connect"]() as locker, live_database["connect"]() as watcher:
            watcher.autocommit = True
            # SHARE mode lets the request read the links but not insert or delete any.
            locker.execute("LOCK TABLE excerpts_excerpt_topics IN SHARE MODE")

            request = urllib.request.Request(
                base + path,
                data=json.dumps(body).encode(),
                method=method,
                headers={"Authorization": f"Token {live_database['token']}", "Content-Type": "application/json"},
            )
            outcome = {}

            def send():
                try:
                    with urllib.request.urlopen(request, timeout=PATIENCE) as response:
                        outcome["status"] = response.status
                except urllib.error.HTTPError as error:
                    outcome["status"] = error.code
                except (OSError, http.client.HTTPException) as error:
                    outcome["error"] = error

            sender = threading.Thread(target=send)
            sender.start()

            def blocked_backend():
                if not sender.is_alive():
                    pytest.fail(f"the request finished without waiting on the lock: {outcome}")
                row = watcher.execute(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
                ).fetchone()
                return row and row[0]

            backend = until(blocked_backend, "the request to wait on the locked topic links")
            server.kill()
            server.wait()
            locker.rollback()

            # Once unblocked, the backend finds its client gone and ends; only then is its outcome final.
            until(
                lambda: not watcher.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [backend]).fetchone(),
                "the killed request's database session to end",
            )
            sender.join(PATIENCE)
            assert "status" not in outcome, "the request was answered although its server was killed"
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
        log.close()


def test_a_post_killed_before_its_topic_links_are_written_leaves_no_excerpt(live_database, tmp_path):
    body = {
        "text": NEW_TEXT,
        "kind": "speech",
        "speaker": "mao-zedong",
        "date": "1957-11-18",
        "source": live_database["source"],
        "topics": ["de-stalinization"],
        "language": "zh",
    }

    kill_during_link_insert(live_database, tmp_path, "POST", reverse("excerpt-list"), body)

    with live_database["connect"]() as database:
        count = database.execute("SELECT count(*) FROM excerpts_excerpt WHERE text = %s", [NEW_TEXT]).fetchone()[0]
        history = database.execute(
            "SELECT count(*) FROM excerpts_historicalexcerpt WHERE text = %s", [NEW_TEXT]
        ).fetchone()[0]
    assert (count, history) == (0, 0)


def test_a_patch_killed_before_its_topic_links_are_written_keeps_the_old_text_and_topics(live_database, tmp_path):
    excerpt = live_database["excerpt"]
    path = reverse("excerpt-detail", kwargs={"pk": excerpt})

    kill_during_link_insert(live_database, tmp_path, "PATCH", path, {"text": NEW_TEXT, "topics": ["de-stalinization"]})

    with live_database["connect"]() as database:
        text = database.execute("SELECT text FROM excerpts_excerpt WHERE id = %s", [excerpt]).fetchone()[0]
        topics = database.execute(
            "SELECT topic.slug FROM excerpts_excerpt_topics link "
            "JOIN excerpts_topic topic ON topic.id = link.topic_id WHERE link.excerpt_id = %s",
            [excerpt],
        ).fetchall()
    assert (text, topics) == (OLD_TEXT, [("great-leap-forward",)])
