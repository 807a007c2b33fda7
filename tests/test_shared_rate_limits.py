"""
Two gunicorn servers (two workers each) on one cache count one client against one budget: the file cache that
processes of one machine share, and Redis at REDIS_URL.

The servers run as in production (DEBUG off) and are asked only for the API root, which reads no database. Redis
is this machine's (127.0.0.1:6379, database 11, under a key prefix of the run's own); without it the Redis case is
skipped, unless EXCERPTS_REQUIRE_REDIS is set (as .ci/run does), when it fails.
"""

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest
import redis
from django.urls import reverse

from tests.servers import free_port, redis_reachable, required

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = "redis://127.0.0.1:6379/11"
LIMIT = 4
# The budget is per hour, so that the test's few seconds fall in one window (it waits out the last 20 s of an hour).
RATE = f"{LIMIT}/hour"
START_TIMEOUT = 30


def get(url):
    """Status, headers and body of a GET; an error status is an answer, not an exception."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def start_server(env, port):
    command = [sys.executable, "-m", "gunicorn", "project.wsgi:application", "--bind", f"127.0.0.1:{port}"]
    return subprocess.Popen(
        [*command, "--workers", "2", "--timeout", "30"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )


def wait_until_serving(server, base):
    """Poll a path outside the rate limits (no DRF view answers it) until the server answers."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"gunicorn exited: {server.stderr.read().decode()[-2000:]}")
        try:
            if get(base + "/api/not-an-endpoint/")[0] == 404:
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"gunicorn did not answer within {START_TIMEOUT} s")


def stop(server):
    if server.poll() is None:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    server.stderr.close()


@pytest.fixture(params=["file", "redis"])
def cache_environment(request, tmp_path):
    """The environment that points both servers at one cache."""
    if request.param == "file":
        yield {"DJANGO_CACHE_DIR": str(tmp_path / "cache")}
        return
    if not redis_reachable():
        required("EXCERPTS_REQUIRE_REDIS", "Redis is not answering at 127.0.0.1:6379")
    prefix = f"excerpts-test-{uuid.uuid4().hex}"
    yield {"REDIS_URL": REDIS_URL, "DJANGO_CACHE_KEY_PREFIX": prefix}
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(match=f"{prefix}:*"):
        client.delete(key)
    client.close()


@pytest.fixture
def two_servers(cache_environment, tmp_path):
    clean = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "GUNICORN_")) and key not in {"DATABASE_URL", "REDIS_URL", "WEB_CONCURRENCY"}
    }
    env = {
        **clean,
        "DJANGO_SETTINGS_MODULE": "project.settings",
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": "a-test-secret-key-long-enough-for-the-shared-rate-limit-servers",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        # The API root reads no database; this file is never created.
        "DATABASE_URL": f"sqlite:///{tmp_path / 'unused.sqlite3'}",
        "DJANGO_RATE_LIMIT_ANON": RATE,
        **cache_environment,
    }
    ports = [free_port(), free_port()]
    servers = [start_server(env, port) for port in ports]
    try:
        bases = [f"http://127.0.0.1:{port}" for port in ports]
        for server, base in zip(servers, bases, strict=True):
            wait_until_serving(server, base)
        yield bases
    finally:
        for server in servers:
            stop(server)


def seconds_left_in_the_hour():
    return 3600 - int(time.time()) % 3600


def test_requests_to_two_servers_count_against_one_budget_and_the_429_says_so(two_servers):
    if seconds_left_in_the_hour() < 20:
        time.sleep(seconds_left_in_the_hour() + 1)
    first, second = two_servers
    path = reverse("api-root")

    answers = [get(base + path) for base in (first, second, first, second)]
    assert [status for status, _, _ in answers] == [200] * LIMIT
    assert [(h["RateLimit-Limit"], h["RateLimit-Remaining"]) for _, h, _ in answers] == [
        ("4", "3"),
        ("4", "2"),
        ("4", "1"),
        ("4", "0"),
    ]

    for base in (first, second):
        status, headers, body = get(base + path)
        expected_wait = seconds_left_in_the_hour()
        assert status == 429
        assert headers["Content-Type"] == "application/problem+json"
        retry_after = int(headers["Retry-After"])
        assert expected_wait - 2 <= retry_after <= expected_wait + 2
        assert (headers["RateLimit-Limit"], headers["RateLimit-Remaining"], headers["RateLimit-Reset"]) == (
            "4",
            "0",
            str(retry_after),
        )
        assert json.loads(body) == {
            "type": "https://excerpts.invalid/problems/throttled",
            "title": "Too many requests",
            "status": 429,
            "detail": f"Request was throttled. Expected available in {retry_after} seconds.",
            "instance": path,
        }
