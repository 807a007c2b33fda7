"""
The production setup the README documents, through real processes: gunicorn started from the repository root
(so it reads gunicorn.conf.py) with DEBUG off, on a SQLite file of the test's own holding the seed corpus and
20,000 synthetic excerpts, and nginx with deploy/nginx.conf in front of it when nginx is installed; and
`manage.py availability` on the seed corpus alone.

Each server starts once per module and is killed at the end whatever happens; every wait is bounded.
"""

import collections
import contextlib
import functools
import http.client
import json
import os
import queue
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests import servers
from tests.servers import free_port

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
PROBE = "/api/v1/excerpts/?page_size=20"
EXPORT = "/api/v1/excerpts/?format=csv"
SYNTHETIC = 20_000
PATIENCE = 60  # seconds a server may take to start, a command to run


def until(condition, what, patience=PATIENCE):
    return servers.until(condition, what, patience)


def prepare(directory, static_root, synthetic, collect=True):
    """
    The environment of the README's production command, on a migrated SQLite file with the seed corpus and
    ``synthetic`` synthetic excerpts, with the static files collected into ``static_root`` unless ``collect``
    is false.
    """
    clean = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "GUNICORN_"))}
    clean.pop("DATABASE_URL", None)
    clean.pop("WEB_CONCURRENCY", None)
    env = {
        **clean,
        "DATABASE_URL": f"sqlite:///{directory / 'serving.sqlite3'}",
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": "serving-test-key-" + "x" * 50,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        # What is measured here is the server's availability, not the rate limits (test_throttling.py,
        # test_shared_rate_limits.py): every probe comes from one address.
        "DJANGO_RATE_LIMIT_ANON": "off",
        "DJANGO_RATE_LIMIT_HEAVY": "off",
        "DJANGO_STATIC_ROOT": str(static_root),
    }
    commands = [["migrate", "--verbosity", "0"], ["load_seed_corpus"]]
    if synthetic:
        commands.append(["seed_synthetic", "--count", str(synthetic)])
    if collect:
        commands.append(["collectstatic", "--noinput", "--verbosity", "0"])
    for command in commands:
        done = subprocess.run(
            [sys.executable, "manage.py", *command],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=PATIENCE * 3,
        )
        assert done.returncode == 0, done.stderr
    return env


@pytest.fixture(scope="module")
def static_root(tmp_path_factory):
    """One directory of collected static files for the module (collecting again into it only checks them)."""
    return tmp_path_factory.mktemp("static")


@pytest.fixture(scope="module")
def production_env(tmp_path_factory, static_root):
    """Large enough that a full export takes seconds."""
    return prepare(tmp_path_factory.mktemp("serving"), static_root, SYNTHETIC)


class Gunicorn:
    """gunicorn as the README starts it (plus ``args``), in a session of its own so its workers die with it."""

    def __init__(self, env, log, *args):
        self.port = free_port()
        self.log = log
        with log.open("wb") as output:
            self.process = subprocess.Popen(
                [GUNICORN, *args],
                cwd=ROOT,
                env={**env, "GUNICORN_BIND": f"127.0.0.1:{self.port}"},
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        until(lambda: self.process.poll() is not None or status(self.port, PROBE) == 200, "gunicorn to answer")
        assert self.process.poll() is None, self.log.read_text()
        until(lambda: len(self.workers()) == 2, "both workers")

    def workers(self):
        """The worker processes' ids, from the kernel's list of the master's children."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        with contextlib.suppress(OSError):
            return {int(pid) for pid in children.read_text().split()}
        return set()

    def stop(self):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=PATIENCE)


@contextlib.contextmanager
def running(env, log, *args):
    server = None
    try:
        server = Gunicorn(env, log, *args)
        yield server
    finally:
        if server is not None:
            server.stop()


@pytest.fixture(scope="module")
def gunicorn(production_env, tmp_path_factory):
    with running(production_env, tmp_path_factory.mktemp("gunicorn") / "gunicorn.log") as server:
        yield server


def answer(port, path, method="GET", headers=None, timeout=5):
    """Status, headers (by lowercase name) and body of one request."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, headers={"Host": "127.0.0.1", **(headers or {})})
        response = conn.getresponse()
        return response.status, {name.lower(): value for name, value in response.getheaders()}, response.read()
    finally:
        conn.close()


def status(port, path, method="GET", headers=None, timeout=5):
    """The status of one request, or None when no answer came within ``timeout`` seconds."""
    try:
        return answer(port, path, method, headers, timeout)[0]
    except (OSError, http.client.HTTPException):
        return None


def probes(port, seconds, interval=0.2, timeout=3):
    """Probe the first page of excerpts for ``seconds``; return each probe's status (None: no answer in time)."""
    answers = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        answers.append(status(port, PROBE, timeout=timeout))
        time.sleep(interval)
    return answers


def trickle(port, stop, pause, outcome, connected):
    """
    Send a request line, then a header line every ``pause`` seconds until ``stop``; record how it ended. The queue
    ``connected`` is given the client's own port once the first line is sent.
    """
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=PATIENCE) as sock:
        sock.sendall(f"GET {PROBE} HTTP/1.1\r\nHost: 127.0.0.1\r\n".encode())
        connected.put(sock.getsockname()[1])
        line = 0
        while not stop.is_set():
            if select.select([sock], [], [], pause)[0]:
                outcome.append(("closed by the server", time.monotonic() - started))
                return
            line += 1
            with contextlib.suppress(OSError):
                sock.sendall(f"X-Slow-{line}: trickle\r\n".encode())
        outcome.append(("held to the end", time.monotonic() - started))


@contextlib.contextmanager
def slow_clients(port, pause):
    """
    Yield ``add`` and ``outcomes``: ``add()`` starts a client trickling header lines at ``port`` every ``pause``
    seconds and gives its own port once it has sent its first line. At the end every client stops and is waited
    for, and ``outcomes`` holds how each ended.
    """
    stop, outcomes, connected, clients = threading.Event(), [], queue.Queue(), []

    def add():
        client = threading.Thread(target=trickle, args=(port, stop, pause, outcomes, connected))
        client.start()
        clients.append(client)
        return connected.get(timeout=PATIENCE)

    try:
        yield add, outcomes
    finally:
        stop.set()
        for client in clients:
            client.join(timeout=PATIENCE)


def with_slow_clients(port, count, pause, seconds):
    """Probes of ``seconds`` while ``count`` clients trickle header lines; the probe statuses and their outcomes."""
    with slow_clients(port, pause) as (add, outcomes):
        for _ in range(count):
            add()
        answers = probes(port, seconds)
    return answers, outcomes


def with_every_thread_held(server, threads, seconds, limit=400):
    """Probes of ``seconds`` once slow clients hold each of the server's workers' ``threads``; the probe statuses.

    The kernel hands each new connection to whichever worker accepts first, and one worker may take most of
    them, so slow clients are added one at a time until every worker holds ``threads`` (at most ``limit``).
    """
    held = collections.Counter()
    with slow_clients(server.port, pause=1) as (add, _):
        while len(held) < len(server.workers()) or min(held.values()) < threads:
            assert sum(held.values()) < limit, f"{limit} slow clients and still a thread free: {dict(held)}"
            port = add()
            held[until(functools.partial(served_by, server, port), "a worker to accept a slow client")] += 1
        return probes(server.port, seconds, timeout=1)


def served_by(server, client_port):
    """The worker process holding the server's end of the connection from ``client_port``."""
    wanted = f":{client_port:04X}"
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote, inode = fields[1], fields[2], fields[9]
        if remote.endswith(wanted) and local.endswith(f":{server.port:04X}"):
            inodes.add(f"socket:[{inode}]")
    for pid in server.workers():
        with contextlib.suppress(OSError):
            if any(os.readlink(fd) in inodes for fd in Path(f"/proc/{pid}/fd").iterdir()):
                return pid
    return None


def read_export(port, pause=0.0):
    """GET the CSV export and read it in 64 KB pieces, sleeping ``pause`` after each: (bytes, whole?, seconds)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=PATIENCE)
    started = time.monotonic()
    received = b""
    try:
        conn.request("GET", EXPORT, headers={"Host": "127.0.0.1"})
        response = conn.getresponse()
        assert response.status == 200
        while piece := response.read(64 * 1024):
            received += piece
            time.sleep(pause)
        whole = True
    except http.client.IncompleteRead as cut:
        received += cut.partial
        whole = False
    finally:
        conn.close()
    return received, whole, time.monotonic() - started


def test_the_production_command_serves_the_api_with_the_repository_config_and_debug_off(gunicorn):
    assert status(gunicorn.port, PROBE) == 200
    # DEBUG off: an unknown URL is a plain 404, not Django's debug page listing the URL patterns.
    conn = http.client.HTTPConnection("127.0.0.1", gunicorn.port, timeout=5)
    conn.request("GET", "/no-such-page/", headers={"Host": "127.0.0.1"})
    response = conn.getresponse()
    assert response.status == 404
    assert b"URLconf" not in response.read()
    conn.close()
    config = subprocess.run(
        [GUNICORN, "--print-config"], cwd=ROOT, env=os.environ, capture_output=True, text=True, timeout=PATIENCE
    ).stdout
    assert re.search(r"^worker_class += gthread$", config, re.MULTILINE)
    assert re.search(r"^wsgi_app += project\.wsgi:application$", config, re.MULTILINE)


def test_plain_reads_of_excerpts_get_drfs_answers_through_gunicorn(production_env, tmp_path):
    # Both servers make every answer afresh: none is kept to be sent again (response_cache.py).
    made = {**production_env, "DJANGO_RESPONSE_CACHE": "false"}
    with (
        running(made, tmp_path / "plain.log") as plain,
        running({**made, "DJANGO_PLAIN_READS": "false"}, tmp_path / "drf.log") as drf,
    ):
        _, _, page = answer(drf.port, PROBE)
        paths = [urlsplit(excerpt["url"]).path for excerpt in json.loads(page)["results"]]
        assert len(paths) == 20
        for path in paths:
            for accept in ({}, {"Accept": "*/*"}, {"Accept": "application/json"}):
                got, expected = answer(plain.port, path, headers=accept), answer(drf.port, path, headers=accept)
                assert got[0] == expected[0] == 200
                assert got[2] == expected[2], path
                # The date is the second each was sent; the policy's directives come in each process's own order.
                different = ("date", "content-security-policy")
                assert {name: value for name, value in got[1].items() if name not in different} == {
                    name: value for name, value in expected[1].items() if name not in different
                }, path
                policies = [
                    sorted(headers["content-security-policy"].split("; ")) for _, headers, _ in (got, expected)
                ]
                assert policies[0] == policies[1]


def test_a_request_line_longer_than_the_limit_is_refused_by_gunicorn_with_414(gunicorn):
    assert status(gunicorn.port, PROBE + "&q=" + "a" * 5000) == 414
    # A long line under the limit reaches Django, which refuses a search of over 200 characters itself.
    assert status(gunicorn.port, PROBE + "&q=" + "a" * 3000) == 400


def test_too_many_or_too_large_header_fields_are_refused_by_gunicorn_with_431(gunicorn):
    assert status(gunicorn.port, PROBE, headers={f"X-Extra-{n}": "1" for n in range(60)}) == 431
    assert status(gunicorn.port, PROBE, headers={"X-Large": "a" * 9000}) == 431
    assert status(gunicorn.port, PROBE, headers={f"X-Extra-{n}": "1" for n in range(30)}) == 200


def test_probes_all_succeed_while_slow_clients_trickle_header_lines_at_gunicorn(gunicorn):
    # Fewer slow clients than a worker has threads: each holds a thread, the others serve the probes.
    answers, outcomes = with_slow_clients(gunicorn.port, count=10, pause=1, seconds=6)
    assert len(answers) >= 10
    assert set(answers) == {200}
    assert [outcome for outcome, _ in outcomes] == ["held to the end"] * 10


def test_a_worker_killed_mid_request_is_replaced_and_the_cut_export_does_not_look_complete(gunicorn):
    before = gunicorn.workers()
    conn = http.client.HTTPConnection("127.0.0.1", gunicorn.port, timeout=PATIENCE)
    try:
        conn.request("GET", EXPORT, headers={"Host": "127.0.0.1"})
        response = conn.getresponse()
        assert response.status == 200
        response.read(1024)  # the export is streaming
        victim = served_by(gunicorn, conn.sock.getsockname()[1])
        assert victim in before
        os.kill(victim, signal.SIGKILL)
        answers = probes(gunicorn.port, seconds=3)
        with pytest.raises(http.client.IncompleteRead):
            response.read()
    finally:
        conn.close()
    assert set(answers) == {200}

    def replaced():
        workers = gunicorn.workers()
        return len(workers) == 2 and victim not in workers and workers

    assert until(replaced, "a new worker") - before
    assert set(probes(gunicorn.port, seconds=2)) == {200}


def test_a_hup_replaces_every_worker_while_probes_keep_succeeding(gunicorn):
    before = gunicorn.workers()
    os.kill(gunicorn.process.pid, signal.SIGHUP)
    # The old workers stop accepting at once and the new ones load the app first: a connection made meanwhile
    # waits in the listening socket's queue (a second or more on a busy machine), and none is refused.
    answers = probes(gunicorn.port, seconds=4, timeout=15)
    assert set(answers) == {200}

    def renewed():
        workers = gunicorn.workers()
        return len(workers) == 2 and not workers & before

    until(renewed, "two new workers")


def test_a_streamed_export_longer_than_the_worker_timeout_completes(production_env, tmp_path):
    with running(production_env, tmp_path / "gunicorn.log", "--timeout", "3") as server:
        body, whole, seconds = read_export(server.port, pause=0.03)  # 200 pieces: 6 s at least
        log = server.log.read_text()
    assert whole
    assert seconds > 3 + 1  # the master checks the heartbeat every second
    assert body.count(b"\n") > SYNTHETIC  # a header and every row (some texts span lines)
    assert "WORKER TIMEOUT" not in log


@pytest.fixture(scope="module")
def nginx(gunicorn, tmp_path_factory, production_env):
    """deploy/nginx.conf in front of the module's gunicorn, on a free port, with a main config of its own."""
    if shutil.which("nginx") is None:
        if os.environ.get("EXCERPTS_REQUIRE_NGINX"):
            pytest.fail(
                "EXCERPTS_REQUIRE_NGINX is set but nginx is not installed (Debian: apt-get install nginx-light)"
            )
        pytest.skip("nginx is not installed (Debian: apt-get install nginx-light)")
    directory = tmp_path_factory.mktemp("nginx")
    port = free_port()
    site = (ROOT / "deploy" / "nginx.conf").read_text()
    for marked, value in (
        ("server 127.0.0.1:8000;", f"server 127.0.0.1:{gunicorn.port};"),
        ("listen 80;", f"listen 127.0.0.1:{port};"),
        ("alias /srv/excerpts/staticfiles/;", f"alias {production_env['DJANGO_STATIC_ROOT']}/;"),
    ):
        assert marked in site
        site = site.replace(marked, value)
    (directory / "site.conf").write_text(site)
    temporary = "\n".join(
        f"    {kind}_temp_path {directory / kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    (directory / "nginx.conf").write_text(
        ("user root;\n" if os.geteuid() == 0 else "")
        + f"""worker_processes 1;
pid {directory / "nginx.pid"};
error_log {directory / "error.log"};
events {{ worker_connections 1024; }}
http {{
    include /etc/nginx/mime.types;
    access_log {directory / "access.log"};
{temporary}
    include {directory / "site.conf"};
}}
"""
    )
    process = subprocess.Popen(
        ["nginx", "-p", str(directory), "-c", str(directory / "nginx.conf"), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        until(lambda: process.poll() is not None or status(port, PROBE) == 200, "nginx to answer")
        assert process.poll() is None, process.stderr.read()
        yield port
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=PATIENCE)


def test_many_slow_clients_starve_gunicorn_alone_but_not_behind_nginx(gunicorn, nginx):
    # Once slow clients hold every thread of every worker, gunicorn alone answers no probe (each waits in a
    # worker's queue for a thread). Behind nginx three times as many as both workers have threads cost nothing,
    # and nginx drops each once its header timeout (10 s) has passed.
    starved = with_every_thread_held(gunicorn, threads=16, seconds=4)
    assert len(starved) >= 3
    assert set(starved) == {None}
    threads = 2 * 16
    answers, outcomes = with_slow_clients(nginx, count=3 * threads, pause=1, seconds=12)
    assert len(answers) >= 20
    assert set(answers) == {200}
    assert {outcome for outcome, _ in outcomes} == {"closed by the server"}
    assert max(seconds for _, seconds in outcomes) < 13


def test_nginx_serves_the_collected_static_files_itself_with_long_caching_for_hashed_names(nginx, production_env):
    hashed = next(Path(production_env["DJANGO_STATIC_ROOT"], "admin", "css").glob("base.*.css"))
    conn = http.client.HTTPConnection("127.0.0.1", nginx, timeout=5)
    conn.request("GET", f"/static/admin/css/{hashed.name}", headers={"Host": "127.0.0.1", "Accept-Encoding": "gzip"})
    response = conn.getresponse()
    body = response.read()
    conn.close()
    assert response.status == 200
    assert response.getheader("Server") == "nginx"
    assert response.getheader("Content-Encoding") == "gzip"
    assert body == Path(f"{hashed}.gz").read_bytes()
    assert response.getheader("Cache-Control") == "max-age=315360000"


def test_the_availability_command_runs_the_attacks_and_prints_a_report_that_parses(tmp_path, static_root):
    done = subprocess.run(
        [sys.executable, "manage.py", "availability", "--duration", "10"],
        cwd=ROOT,
        env=prepare(tmp_path, static_root, synthetic=0, collect=False),  # the command collects them itself
        capture_output=True,
        text=True,
        timeout=PATIENCE * 2,
    )
    assert done.returncode == 0, done.stderr
    report = done.stdout
    probes_line = re.search(
        r"^probes: (\d+) sent, (\d+) failed, (\d+) refused \(429\) in \d+ s; latency p50 ([\d.]+) s, "
        r"p95 ([\d.]+) s, max ([\d.]+) s; (.*)$",
        report,
        re.MULTILINE,
    )
    assert probes_line, report
    sent, failed, refused = map(int, probes_line.groups()[:3])
    assert sent >= 10
    assert failed + refused <= sent
    p50, p95, most = map(float, probes_line.groups()[3:6])
    assert 0 < p50 <= p95 <= most
    lines = dict(
        re.findall(r"^(export csv|export jsonl|head on export|slow headers|admin login): (.*)$", report, re.M)
    )
    assert set(lines) == {"export csv", "export jsonl", "head on export", "slow headers", "admin login"}
    assert re.search(r"200 complete x\d+", lines["export csv"]), report
    assert re.search(r"200 complete x\d+", lines["export jsonl"]), report
    assert re.search(r"\b(200|429) x\d+", lines["head on export"]), report
    assert lines["slow headers"].startswith("2 clients; held to the end x2"), report
    # Each wrong password is checked: the login page and its CSRF token were read, no post was refused as
    # forged (403) or failed (500). (How many were answered in the time depends on the machine: each is a
    # deliberately slow password hash.)
    assert lines["admin login"].startswith("4 clients; "), report
    assert "login page" not in lines["admin login"], report
    assert not re.search(r"\b(403|500) x", report), report
