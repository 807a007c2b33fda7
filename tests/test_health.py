"""
The probes: /healthz answers without the database; /readyz checks that the database answers, is migrated and keeps
every declared object, and is a 503 problem naming each failed check otherwise.
"""

import http.client
import json
import logging
import os
import subprocess
import sys
import time
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection, connections
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder
from django.db.utils import load_backend
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from excerpts.db import declared, readiness
from tests.servers import free_port

ROOT = Path(__file__).resolve().parent.parent
# Seconds a started server has to answer.
PATIENCE = 30
# The suite runs on one engine at a time: its triggers are the ones to drop.
VENDOR = "postgresql" if "postgresql" in settings.DATABASES["default"]["ENGINE"] else "sqlite"
TRIGGERS = [obj for obj in declared(VENDOR) if obj.kind == "trigger"]
REPORT_OK = {
    "database": {"status": "ok", "detail": f"The {VENDOR} database answers."},
    "migrations": {"status": "ok", "detail": "Every migration is applied."},
    "objects": {"status": "ok", "detail": "Every trigger, function, table and index is as declared."},
}


@pytest.fixture(autouse=True)
def fresh_process(monkeypatch):
    """Each test is a process that has not yet found its database migrated."""
    monkeypatch.setattr(readiness, "migrated_aliases", set())


def probe(client):
    response = client.get(reverse("readyz"))
    assert response["Cache-Control"] == "no-store"
    return response


def assert_not_ready(response, report, failed):
    """A 503 problem whose errors are the ``failed`` checks, and whose report is ``report``."""
    assert response.status_code == 503
    assert response["Content-Type"] == "application/problem+json"
    assert response["Retry-After"] == "10"
    body = response.json()
    assert (body["type"], body["title"], body["status"], body["instance"]) == (
        "https://excerpts.invalid/problems/not-ready",
        "Service unavailable",
        503,
        "/readyz",
    )
    assert body["checks"] == report
    assert body["errors"] == [{"name": name, "reason": report[name]["detail"]} for name in failed]
    assert body["detail"] == "Not ready: " + "; ".join(f"{name}: {report[name]['detail']}" for name in failed)


def test_healthz_answers_without_touching_the_database(client):
    # No db fixture: pytest-django fails any query this test makes.
    response = client.get(reverse("healthz"))
    assert (response.status_code, response.json(), response["Cache-Control"]) == (200, {"status": "ok"}, "no-store")
    assert response["Content-Type"] == "application/json"
    assert client.head(reverse("healthz")).status_code == 200


@pytest.mark.parametrize("url_name", ["healthz", "readyz"])
def test_the_probes_take_only_get_and_head(client, url_name):
    response = client.post(reverse(url_name))
    assert (response.status_code, response["Allow"]) == (405, "GET, HEAD")


def test_readyz_reports_each_check_on_a_ready_database(client, db):
    response = probe(client)
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": REPORT_OK}


def test_once_found_migrated_a_probe_does_not_read_the_migrations_again(client, db):
    with CaptureQueriesContext(connection) as first:
        probe(client)
    with CaptureQueriesContext(connection) as second:
        assert probe(client).status_code == 200
    assert any("django_migrations" in query["sql"] for query in first)
    assert not any("django_migrations" in query["sql"] for query in second)
    # One query that the database answers, then one that inspects every declared object.
    assert len(second) == 2


def drop(obj):
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no trigger is dropped with checks pending
        cursor.execute(obj.drop(connection.vendor))


@pytest.mark.parametrize("trigger", TRIGGERS, ids=[obj.name for obj in TRIGGERS])
def test_readyz_fails_as_soon_as_a_trigger_is_dropped_and_passes_again_once_repaired(client, db, trigger):
    assert probe(client).status_code == 200  # the migrations are found applied and remembered
    drop(trigger)

    detail = f"In the database, the {trigger.label} is missing. Run `manage.py repair_database`."
    assert_not_ready(probe(client), {**REPORT_OK, "objects": {"status": "failed", "detail": detail}}, ["objects"])

    call_command("repair_database", stdout=StringIO())
    assert probe(client).status_code == 200


@pytest.mark.skipif(VENDOR != "postgresql", reason="SQLite has no disabled triggers")
def test_readyz_fails_when_a_trigger_is_disabled(client, db):
    trigger = TRIGGERS[0]
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f"ALTER TABLE {trigger.table} DISABLE TRIGGER {trigger.name}")
    detail = f"In the database, the {trigger.label} is disabled. Run `manage.py repair_database`."
    assert_not_ready(probe(client), {**REPORT_OK, "objects": {"status": "failed", "detail": detail}}, ["objects"])


def test_readyz_fails_while_a_migration_is_unapplied(client, db):
    (leaf,) = [node for node in MigrationLoader(connection).graph.leaf_nodes() if node[0] == "excerpts"]
    MigrationRecorder(connection).record_unapplied(*leaf)

    detail = f"1 migration(s) not applied: {'.'.join(leaf)}. Run `manage.py migrate`."
    report = {
        **REPORT_OK,
        "migrations": {"status": "failed", "detail": detail},
        "objects": {"status": "skipped", "detail": "Not checked: the migrations check did not pass."},
    }
    assert_not_ready(probe(client), report, ["migrations"])
    # Not remembered as migrated: the next probe asks again, and sees the migration applied.
    MigrationRecorder(connection).record_applied(*leaf)
    assert probe(client).status_code == 200


@pytest.fixture
def unreachable_database(db, tmp_path):
    """The default database alias pointed at a database that cannot be reached (the shared server keeps running)."""
    reachable = connections[connection.alias]
    unreachable = dict(reachable.settings_dict)
    if reachable.vendor == "postgresql":
        unreachable.update(HOST="127.0.0.1", PORT="1")  # nothing listens on port 1
    else:
        unreachable["NAME"] = str(tmp_path / "no-such-directory" / "db.sqlite3")
    wrapper = load_backend(unreachable["ENGINE"]).DatabaseWrapper(unreachable, reachable.alias)
    connections[reachable.alias] = wrapper
    yield wrapper
    connections[reachable.alias] = reachable
    wrapper.close()


def test_readyz_is_a_503_that_names_the_database_when_it_cannot_be_reached(client, unreachable_database, caplog):
    with caplog.at_level(logging.WARNING, logger="excerpts.db.readiness"):
        response = probe(client)

    failed = "The database could not be asked (OperationalError); the server's log says why."
    report = {
        "database": {"status": "failed", "detail": failed},
        "migrations": {"status": "skipped", "detail": "Not checked: the database check did not pass."},
        "objects": {"status": "skipped", "detail": "Not checked: the database check did not pass."},
    }
    assert_not_ready(response, report, ["database"])
    # The reason, which may name the database's host, goes to the log, never to the public.
    [record] = [record for record in caplog.records if record.name == "excerpts.db.readiness"]
    assert record.getMessage().startswith("Readiness check database: the database could not be asked: ")
    reason = "Connection refused" if VENDOR == "postgresql" else "unable to open database file"
    assert reason in record.getMessage()
    assert reason not in response.content.decode()
    # The process itself is still up.
    assert client.get(reverse("healthz")).status_code == 200


def test_the_probes_answer_over_plain_http_where_everything_else_is_redirected_to_https(client, db, settings):
    settings.SECURE_SSL_REDIRECT = True
    assert client.get(reverse("healthz")).status_code == 200
    assert client.get(reverse("readyz")).status_code == 200
    redirected = client.get(reverse("excerpt-list"))
    assert (redirected.status_code, redirected["Location"]) == (301, "https://testserver/api/v1/excerpts/")


SERVE_WSGI = """
import sys
from wsgiref.simple_server import make_server

from project.wsgi import application

make_server("127.0.0.1", int(sys.argv[1]), application).serve_forever()
"""


def fetch(port, path):
    """(status, headers, body) of a GET, whatever the status and without following a redirect; None if no answer."""
    conversation = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conversation.request("GET", path)
        response = conversation.getresponse()
        return response.status, response.headers, response.read()
    except OSError:
        return None
    finally:
        conversation.close()


def test_a_production_server_whose_database_is_down_is_alive_but_not_ready(tmp_path):
    """A server process configured as in production (DEBUG off, HTTPS redirect on), started without its database."""
    database = settings.DATABASES["default"]
    if VENDOR == "postgresql":
        url = f"postgres://{database['USER'] or 'postgres'}@127.0.0.1:1/excerpts"  # nothing listens on port 1
    else:
        url = f"sqlite:///{tmp_path / 'no-such-directory' / 'db.sqlite3'}"
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": "a-test-only-secret-key-" + "x" * 40,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
    }
    log = (tmp_path / "server.log").open("w")
    # The WSGI application production serves, in the standard library's WSGI server (runserver would ask the
    # database for its migrations before it serves).
    server = subprocess.Popen(
        [sys.executable, "-c", SERVE_WSGI, str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + PATIENCE
        while (alive := fetch(port, "/healthz")) is None and server.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert alive is not None, (tmp_path / "server.log").read_text()

        assert (alive[0], json.loads(alive[2]), alive[1]["Cache-Control"]) == (200, {"status": "ok"}, "no-store")
        status, headers, body = fetch(port, "/readyz")
        assert (status, headers["Content-Type"], headers["Retry-After"]) == (503, "application/problem+json", "10")
        assert [error["name"] for error in json.loads(body)["errors"]] == ["database"]
        # Everything else is redirected to HTTPS; the probes are not.
        status, headers, _ = fetch(port, "/")
        assert (status, headers["Location"]) == (301, f"https://127.0.0.1:{port}/")
    finally:
        server.kill()
        server.wait()
        log.close()
