"""
An import and the API's writers share one SQLite file: the writers wait their turn, none fails.

A real server (``manage.py runserver``) and a real import (``manage.py import_excerpts``) run as processes
on a temporary SQLite file, whatever database the rest of the suite uses, as in test_concurrency.py. The import
checks its rows without the write lock and then writes them in one short transaction, so an API write made
meanwhile is answered 201, at worst after waiting for that transaction. A write that cannot get the lock
within the busy timeout is a 503 problem with Retry-After.
"""

import json
import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from django.urls import reverse

ROOT = Path(__file__).resolve().parent.parent
IMPORT_ROWS = 20000
WRITERS = 2

SETUP = """
import sys
from pathlib import Path
from bench.management.commands.benchmark_import import reference_data, write_rows
from excerpts.models import Source

reference = reference_data()
if int(sys.argv[-1]):
    write_rows(Path(sys.argv[-2]), int(sys.argv[-1]), seed=1, reference=reference)
print(Source.objects.get(slug="bench-source-0").pk)
"""


def manage(env, *arguments, **options):
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *arguments],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
        **options,
    )


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def prepare_site(tmp_path, rows=0):
    """
    A migrated SQLite file with the benchmark's reference data, a curator, and a CSV of ``rows`` new excerpts:
    {env, token, source (an id), database, rows (the CSV's path)}.
    """
    database = tmp_path / "site.sqlite3"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}", "PYTHONPATH": str(ROOT), "DJANGO_DEBUG": "true"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    manage(env, "migrate", "-v0")
    csv_path, script = tmp_path / "import.csv", tmp_path / "setup.py"
    script.write_text(SETUP)
    code = f"import sys; sys.argv += {[str(csv_path), str(rows)]!r}; exec(open({str(script)!r}).read())"
    source = manage(env, "shell", "-v0", "-c", code).stdout.split()[-1]
    token = manage(env, "create_curator", "alice").stdout.strip()
    return {"env": env, "token": token, "source": int(source), "database": database, "rows": csv_path}


class Server:
    """``manage.py runserver`` on a free port, stopped on exit."""

    def __init__(self, env):
        self.port = free_port()
        self.process = subprocess.Popen(
            [sys.executable, str(ROOT / "manage.py"), "runserver", "--noreload", f"127.0.0.1:{self.port}"],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.url = f"http://127.0.0.1:{self.port}{reverse('excerpt-list')}"

    def __enter__(self):
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"runserver stopped: {self.process.stderr.read()}")
            try:
                with urllib.request.urlopen(self.url + "?page_size=1", timeout=5) as response:
                    if response.status == 200:
                        return self
            except OSError:
                time.sleep(0.2)
        raise AssertionError("runserver did not answer within 60 s")

    def __exit__(self, *exc):
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process.stderr.close()


def post(server, token, text, source):
    """POST an excerpt; return (status, body, seconds started, seconds ended)."""
    body = {"text": text, "kind": "speech", "speaker": "bench-speaker-1", "date": "1958", "source": source}
    request = urllib.request.Request(
        server.url,
        data=json.dumps({**body, "language": "zh"}).encode(),
        headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
        method="POST",
    )
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read()), dict(response.headers), started, time.monotonic()
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null"), dict(error.headers), started, time.monotonic()


def test_api_writes_during_an_import_of_20000_rows_wait_their_turn_and_all_succeed(tmp_path):
    site = prepare_site(tmp_path, IMPORT_ROWS)
    env, token = site["env"], site["token"]
    results, stop = [], threading.Event()

    def writer(number):
        count = 0
        while not stop.is_set():
            status, body, _, started, ended = post(server, token, f"writer {number} write {count}", site["source"])
            results.append((status, body.get("id") if isinstance(body, dict) else None, started, ended, body))
            count += 1

    with Server(env) as server:
        importer = subprocess.Popen(
            [sys.executable, str(ROOT / "manage.py"), "import_excerpts", str(site["rows"]), "--user", "alice", "-v2"],
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
        for thread in threads:
            thread.start()
        phases, errors = {}, []
        for line in importer.stderr:  # "Checked ... rows in ..." then, after the write, "Wrote them in ..."
            phases[line.split()[0] if line.strip() else ""] = time.monotonic()
            errors.append(line)
        output = importer.stdout.read()
        importer.wait(timeout=120)
        time.sleep(0.5)  # a few writes after the import too
        stop.set()
        for thread in threads:
            thread.join(timeout=90)

    assert importer.returncode == 0, "".join(errors)
    assert f"{IMPORT_ROWS} new, 0 updated" in output
    statuses = [status for status, *_ in results]
    assert statuses and set(statuses) == {201}, [result for result in results if result[0] != 201][:3]
    # Some writes were made while the import wrote its rows: they waited for its transaction, then succeeded.
    during = [r for r in results if r[2] < phases["Wrote"] and r[3] > phases["Checked"]]
    assert during
    with sqlite3.connect(site["database"]) as connection:
        texts = dict(connection.execute("SELECT id, text FROM excerpts_excerpt WHERE text LIKE 'writer %'"))
        imported = connection.execute(
            "SELECT count(*) FROM excerpts_historicalexcerpt WHERE history_change_reason = ?",
            ["import_excerpts import.csv"],
        ).fetchone()[0]
        total = connection.execute("SELECT count(*) FROM excerpts_excerpt").fetchone()[0]
    assert texts == {pk: body["text"] for _, pk, _, _, body in results}
    assert (imported, total) == (IMPORT_ROWS, IMPORT_ROWS + len(results))


SHORT_TIMEOUT_SETTINGS = """
from project.settings import *  # noqa: F403

DATABASES["default"]["OPTIONS"] = {**DATABASES["default"]["OPTIONS"], "timeout": 1}  # noqa: F405
"""


def test_a_write_that_cannot_get_the_lock_in_time_is_a_503_problem_with_retry_after(tmp_path):
    site = prepare_site(tmp_path)
    (tmp_path / "short_timeout_settings.py").write_text(SHORT_TIMEOUT_SETTINGS)
    env = {**site["env"], "PYTHONPATH": f"{ROOT}{os.pathsep}{tmp_path}"}
    env["DJANGO_SETTINGS_MODULE"] = "short_timeout_settings"
    with Server(env) as server:
        holder = sqlite3.connect(site["database"], isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # another writer holds the lock past the server's 1 s busy timeout
        try:
            status, body, headers, *_ = post(server, site["token"], "Refused.", site["source"])
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        after, *_ = post(server, site["token"], "Accepted.", site["source"])

    assert (status, headers["Content-Type"], headers["Retry-After"]) == (503, "application/problem+json", "5")
    assert (body["status"], body["type"]) == (503, "https://excerpts.invalid/problems/database-busy")
    assert after == 201
    with sqlite3.connect(site["database"]) as connection:
        texts = [row[0] for row in connection.execute("SELECT text FROM excerpts_excerpt")]
    assert texts == ["Accepted."]
