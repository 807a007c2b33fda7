"""
`manage.py loadtest` (the bench app): a short run against the test database with two workers serves reads, 304s
and both curators' writes with no error and no lost write; the command refuses to run anywhere but on PostgreSQL
with a REDIS_URL, saying what it needs; and its check finds a lost write when there is one.

The run needs PostgreSQL (the command's own precondition: it is skipped on SQLite), Redis at 127.0.0.1:6379 (its
database 3, under a key prefix of the run's own) and wrk. Without Redis or wrk it is skipped, unless
EXCERPTS_REQUIRE_REDIS or EXCERPTS_REQUIRE_WRK is set (as .ci/run does), when it fails.

The command is called in this process, so it reads the test database pytest-django made (test_<name>), and starts
gunicorn on that database: its workers get the environment's DATABASE_URL with the name of the database the
command uses.
"""

import os
import re
import shutil
import subprocess
import sys
import uuid
from io import StringIO
from pathlib import Path

import pytest
import redis
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from knox.models import AuthToken

from bench.management.commands.loadtest import CURATORS, lost_writes, lua_literal
from excerpts.models import Excerpt
from tests import factories
from tests.servers import redis_reachable, required

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = "redis://127.0.0.1:6379/3"


@pytest.fixture
def load_test_environment(settings, monkeypatch, tmp_path):
    """Redis for the servers' cache under a prefix of this test's own (removed after), static files in tmp_path."""
    if connection.vendor != "postgresql":
        pytest.skip("the load test runs the production setup, on PostgreSQL only")
    if not redis_reachable():
        required("EXCERPTS_REQUIRE_REDIS", "Redis is not answering at 127.0.0.1:6379")
    if shutil.which("wrk") is None:
        required("EXCERPTS_REQUIRE_WRK", "wrk is not installed (Debian: apt-get install wrk)")
    prefix = f"excerpts-loadtest-{uuid.uuid4().hex}"
    settings.REDIS_URL = REDIS_URL
    monkeypatch.setenv("DJANGO_CACHE_KEY_PREFIX", prefix)
    monkeypatch.setenv("DJANGO_STATIC_ROOT", str(tmp_path / "static"))
    monkeypatch.delenv("DATABASE_REPLICA_URLS", raising=False)
    yield
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(match=f"{prefix}:*"):
        client.delete(key)
    client.close()


def figure(pattern, text):
    found = re.search(pattern, text, re.MULTILINE)
    assert found, f"{pattern!r} not in:\n{text}"
    return int(found.group(1))


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_short_load_test_serves_reads_304s_and_writes_with_no_error_and_no_lost_write(load_test_environment):
    call_command("seed_synthetic", "--count", "500", stdout=StringIO())
    before = Excerpt.objects.count()
    out = StringIO()

    try:
        call_command(
            "loadtest", "--duration", "8", "--workers", "2", "--connections", "4", "--write-pause", "2", stdout=out
        )
    except CommandError as error:
        pytest.fail(f"{error}\n{out.getvalue()}")

    text = out.getvalue()
    assert re.search(r"^loadtest \w+: 8 s, gunicorn with 2 workers x \d+ threads .*, wrk with 4 connections", text)
    assert f", {before} excerpts;" in text
    assert figure(r"^reads: (\d+) requests in [\d.]+ s, [\d.]+ req/s; latency p50 [\d.]+ ms", text) > 0
    assert figure(r"^errors: (\d+) \(", text) == 0
    assert figure(r"^answers: .*\b304 x(\d+)", text) > 0
    assert figure(r"; conditional reads: (\d+) answered 304", text) > 0
    assert figure(r"^lost writes: (\d+) ", text) == 0
    acknowledged = figure(r"^writes: (\d+) acknowledged", text)
    created = figure(r"^writes: \d+ acknowledged \((\d+) created", text)
    assert acknowledged > 0
    assert figure(r" (\d+) failed, ", text) == 0
    assert re.search(r"^load average before: [\d.]+ [\d.]+ [\d.]+$", text, re.MULTILINE)
    assert re.search(r"^load average after: [\d.]+ [\d.]+ [\d.]+$", text, re.MULTILINE)
    # What the curators created is in the database once each, and their tokens are gone.
    assert Excerpt.objects.filter(text__startswith="Load test ").count() == created
    assert Excerpt.objects.count() == before + created
    assert not AuthToken.objects.filter(user__username__in=CURATORS).exists()


def run_load_test(**environment):
    """
    `manage.py loadtest` in a subprocess with the given DATABASE_URL and REDIS_URL (absent unless given); without
    the system checks, which would try the database.
    """
    inherited = {name: value for name, value in os.environ.items() if name not in {"DATABASE_URL", "REDIS_URL"}}
    return subprocess.run(
        [sys.executable, "manage.py", "loadtest", "--duration", "1", "--skip-checks"],
        cwd=ROOT,
        env={**inherited, **environment},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_load_test_refuses_sqlite_and_asks_for_postgresql(tmp_path):
    done = run_load_test(DATABASE_URL=f"sqlite:///{tmp_path / 'refused.sqlite3'}", REDIS_URL=REDIS_URL)

    assert done.returncode == 1
    assert done.stderr.strip() == (
        "CommandError: The load test runs the production setup on PostgreSQL, not sqlite: set DATABASE_URL to a "
        "postgres:// URL (of a copy: the curators write to it)."
    )


def test_the_load_test_refuses_to_run_without_redis_url():
    done = run_load_test(DATABASE_URL="postgres://postgres@127.0.0.1:5432/excerpts_never_opened")

    assert done.returncode == 1
    assert done.stderr.strip() == (
        "CommandError: The load test runs the production setup, whose workers share one cache in Redis: set "
        "REDIS_URL (redis://host:6379/<db>)."
    )


class Wrote:
    """What a curator remembers of its writes (bench.management.commands.loadtest.Curator), without the thread."""

    def __init__(self, expected, possible=None):
        self.expected, self.possible = expected, possible or {}


@pytest.mark.django_db
def test_an_acknowledged_write_is_lost_when_its_row_is_missing_or_shows_anything_else():
    leap = factories.topic("great-leap", "Great Leap Forward")
    kept = factories.excerpt("Kept as written.", topics=[leap])
    changed = factories.excerpt("Changed by someone else.", topics=[leap])
    ambiguous = factories.excerpt("Written by a write that got no answer.")
    unanswered_content = ("Written by a write that got no answer.", ())
    missing = changed.pk + ambiguous.pk + kept.pk

    lost = lost_writes(
        [
            Wrote({kept.pk: ("Kept as written.", ("great-leap",)), changed.pk: ("As acknowledged.", ("great-leap",))}),
            Wrote(
                {ambiguous.pk: ("Acknowledged before.", ()), missing: ("Never stored.", ())},
                possible={ambiguous.pk: {unanswered_content}},
            ),
        ]
    )

    assert lost == [
        (changed.pk, ("As acknowledged.", ("great-leap",)), ("Changed by someone else.", ("great-leap",))),
        (missing, ("Never stored.", ()), None),
    ]


def test_the_reads_reach_wrk_as_a_lua_table_that_keeps_quotes_and_backslashes():
    assert lua_literal({"etag": 'W/"ab\\c"', "paths": ["/a/?q=x", "/b/"], "weight": 15}) == (
        '{["etag"] = "W/\\"ab\\\\c\\"", ["paths"] = {"/a/?q=x", "/b/"}, ["weight"] = 15}'
    )
    with pytest.raises(ValueError):
        lua_literal("caf\u00e9")
