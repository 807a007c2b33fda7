"""
`manage.py benchmark --throughput` (bench/throughput.py) and its floor (bench/floor): the floor answers the
same excerpts as the API, page for page, so that comparing their costs means something; the process-tree CPU
counts workers that exit; a measurement that failed prints no figure; and a smoke run through real servers and
wrk prints a figure for every scenario.
"""

import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.management import call_command
from django.core.management.base import OutputWrapper
from django.core.management.color import no_style
from django.db import connection
from django.test import RequestFactory
from django.urls import resolve, reverse

from bench import throughput
from bench.floor import views as floor
from excerpts.models import Excerpt
from tests import factories

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def paged_corpus(db):
    """
    45 published excerpts and a draft, three speakers, several on the same day (ties the id breaks), some with
    an event, a secondary source and topics: enough for a first page, a second one and a filtered one.
    """
    speakers = [factories.speaker(f"speaker-{letter}", f"Speaker {letter.upper()}") for letter in "abc"]
    topics = [factories.topic(f"topic-{n}", f"Topic {n}") for n in (2, 1, 3)]
    congress = factories.event("congress", "The Congress", date="1956-02")
    secondary = factories.source("memoirs", "Memoirs", author="A. Writer", url="https://example.org/memoirs")
    for number in range(45):
        factories.excerpt(
            f"Words {number}",
            speaker=speakers[number % 3],
            date=f"{1950 + number // 4}-0{1 + number % 3}",
            event=congress if number % 5 == 0 else None,
            quoted_in=secondary if number % 7 == 0 else None,
            topics=topics[: number % 4],
        )
    factories.excerpt("A draft", speaker=speakers[0], date="1949", status=Excerpt.Status.DRAFT)
    return speakers


def from_api(client, path):
    response = client.get(path)
    assert response.status_code == 200, response.content
    return response.json()


def floor_get(path):
    """The floor's response to a GET of ``path``, routed by its own URLconf (bench/floor/urls.py)."""
    match = resolve(urlsplit(path).path, urlconf="bench.floor.urls")
    return match.func(RequestFactory().get(path), *match.args, **match.kwargs)


def from_floor(path):
    response = floor_get(path)
    assert response.status_code == 200, response.content
    return json.loads(response.content)


def same_excerpts(api_page, floor_page):
    """The two pages list the same excerpts, every field alike but the citation (the floor's is a plain join)."""
    assert [item["id"] for item in floor_page["results"]] == [item["id"] for item in api_page["results"]]
    for api_item, floor_item in zip(api_page["results"], floor_page["results"], strict=True):
        assert {**floor_item, "citation": None} == {**api_item, "citation": None}


def test_the_floor_answers_the_first_page_the_next_and_a_filtered_one_as_the_api_does(client, paged_corpus):
    url = reverse("excerpt-list")
    first = from_api(client, url)
    floor_first = from_floor(url)
    assert len(first["results"]) == floor.PAGE_SIZE
    same_excerpts(first, floor_first)
    assert any(item["topics"] for item in first["results"]) and any(item["event"] for item in first["results"])
    # The floor's cursor is the API's: the next links point to the same place.
    assert parse_qs(urlsplit(floor_first["next"]).query) == parse_qs(urlsplit(first["next"]).query)

    cursor = parse_qs(urlsplit(first["next"]).query)["cursor"][0]
    second = from_api(client, f"{url}?cursor={cursor}")
    same_excerpts(second, from_floor(f"{url}?cursor={cursor}"))
    assert second["results"][0]["id"] not in {item["id"] for item in first["results"]}

    query = "speaker=speaker-b&date_after=1951-01-01&date_before=1958-06-30"
    filtered = from_api(client, f"{url}?{query}")
    assert {item["speaker"]["slug"] for item in filtered["results"]} == {"speaker-b"}
    assert 0 < len(filtered["results"]) < floor.PAGE_SIZE
    same_excerpts(filtered, from_floor(f"{url}?{query}"))


def test_the_floor_answers_one_excerpt_as_the_api_does_and_not_a_draft(client, paged_corpus):
    excerpt = Excerpt.objects.published().exclude(quoted_in=None).first()
    path = reverse("excerpt-detail", args=[excerpt.pk])
    assert {**from_floor(path), "citation": None} == {**from_api(client, path), "citation": None}
    draft = Excerpt.objects.get(status=Excerpt.Status.DRAFT)
    assert floor_get(reverse("excerpt-detail", args=[draft.pk])).status_code == 404


def test_the_floor_refuses_a_bad_cursor_or_date_with_a_problem_not_a_500(paged_corpus):
    for query in ("cursor=nonsense", "date_after=1958-13-01"):
        response = floor_get(f"{reverse('excerpt-list')}?{query}")
        assert response.status_code == 400
        assert response["Content-Type"] == "application/problem+json"


def test_the_process_tree_cpu_counts_a_child_that_exited_and_one_still_running():
    # A parent whose first child burns CPU and exits (reaped), then whose second child burns CPU and stays.
    burn = "import time\nend = time.process_time() + 0.3\nwhile time.process_time() < end: pass\n"
    script = (
        "import subprocess, sys, time\n"
        f"subprocess.run([sys.executable, '-c', {burn!r}])\n"
        f"child = subprocess.Popen([sys.executable, '-c', {burn!r} + 'time.sleep(30)'])\n"
        "print('ready', flush=True)\n"
        "time.sleep(30)\n"
    )
    parent = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        assert parent.stdout.readline() == "ready\n"
        deadline = time.monotonic() + 10
        while throughput.tree_cpu_seconds(parent.pid) < 0.6 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert throughput.tree_cpu_seconds(parent.pid) >= 0.6
    finally:
        os.killpg(parent.pid, signal.SIGKILL)
        parent.wait()


def test_a_measurement_that_failed_prints_an_error_and_no_figure():
    scenario = throughput.Scenario("one excerpt", {"api": ["/a"], "floor": ["/b"]}, floor_target=True)
    results = {
        ("one excerpt", "api"): "12 answers were not 2xx",
        ("one excerpt", "floor"): [throughput.Run(requests=100, rate=50.0, cpu=0.2)],
    }
    out = io.StringIO()
    throughput.report([scenario], results, OutputWrapper(out), no_style())
    text = out.getvalue()
    assert "ERROR: one excerpt, API: 12 answers were not 2xx (no figure reported)" in text
    row = next(line for line in text.splitlines() if line.startswith("| one excerpt |"))
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    # CPU: API, floor, Datasette, two ratios; req/s: API, floor, Datasette, two ratios; targets.
    assert cells[1:6] == ["ERROR", "2.00", "-", "-", "-"]
    assert cells[6:11] == ["ERROR", "50", "-", "-", "-"]
    assert cells[11] == "-"


def test_every_server_logs_each_request_to_stdout_as_it_would_in_production(tmp_path, monkeypatch):
    monkeypatch.setattr(throughput, "datasette_gunicorn", lambda stdout: tmp_path / "datasette-venv" / "gunicorn")
    monkeypatch.setattr(throughput, "copy_database", lambda source, directory: directory / "excerpts.sqlite3")
    monkeypatch.setattr(throughput, "database_url", lambda: f"sqlite:///{tmp_path / 'excerpts.sqlite3'}")
    options = {"worker_class": "sync", "workers": 2, "worker_threads": 1}
    found = throughput.servers(options, tmp_path, [8001, 8002, 8003, 8004], True, io.StringIO())
    assert sorted(found) == ["api", "api-cached", "datasette", "floor"]
    # The API starts where gunicorn finds the repository's gunicorn.conf.py by itself; the floor is pointed at it.
    assert found["api"].cwd == found["api-cached"].cwd == ROOT and "-c" not in found["api"].command
    floor_command = found["floor"].command
    assert floor_command[floor_command.index("-c") + 1] == str(ROOT / "gunicorn.conf.py")
    configuration = {}
    exec((ROOT / "gunicorn.conf.py").read_text(), configuration)
    assert configuration["accesslog"] == "-"
    # Datasette's gunicorn runs without that file (it would name the API's application): its log is asked for.
    datasette_command = found["datasette"].command
    assert datasette_command[datasette_command.index("--access-logfile") + 1] == "-"


@pytest.fixture
def served_database(tmp_path, django_db_serialized_rollback, transactional_db):
    """
    A DATABASE_URL other processes can read, holding 300 synthetic excerpts: on PostgreSQL the test database,
    committed; on SQLite, whose test database lives in memory, a migrated file of the test's own.
    """
    if connection.vendor == "postgresql":
        call_command("seed_synthetic", "--count", "300", stdout=io.StringIO())
        return throughput.database_url()
    url = f"sqlite:///{tmp_path / 'throughput.sqlite3'}"
    env = {**os.environ, "DATABASE_URL": url}
    for command in (["migrate", "-v0"], ["seed_synthetic", "--count", "300"]):
        subprocess.run([sys.executable, "manage.py", *command], cwd=ROOT, env=env, check=True, capture_output=True)
    return url


def test_a_short_throughput_run_prints_cpu_and_requests_per_second_for_every_scenario(served_database):
    if shutil.which("wrk") is None:
        if os.environ.get("EXCERPTS_REQUIRE_WRK"):
            pytest.fail("EXCERPTS_REQUIRE_WRK is set but wrk is not installed (Debian: apt-get install wrk)")
        pytest.skip("wrk is not installed (Debian: apt-get install wrk)")
    command = [sys.executable, "manage.py", "benchmark", "--throughput", "--no-datasette"]
    command += ["--duration", "1", "--repeat", "1", "--connections", "2", "--threads", "1"]
    env = {**os.environ, "DATABASE_URL": served_database}
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    text = result.stdout
    assert re.search(rf"^{connection.vendor}, 300 excerpts; gunicorn sync x 2 workers", text, re.MULTILINE), text
    # The database measured and its memory (bench/configuration.py; tests/test_benchmark.py checks the figures).
    assert re.search(r"^(SQLite|PostgreSQL) \S+.*, database [\d,]+ [kMG]B", text, re.MULTILINE), text
    assert re.search(r"^load average before: [\d.]+ [\d.]+ [\d.]+$", text, re.MULTILINE)
    assert re.search(r"^load average after: [\d.]+ [\d.]+ [\d.]+$", text, re.MULTILINE)
    assert "ERROR" not in text
    rows = [line for line in text.splitlines() if line.startswith("| ") and not line.startswith("| request ")]
    labels = [row.strip("|").split("|")[0].strip() for row in rows]
    assert len(rows) == 10, text
    assert labels[:4] == ["list, first page (20)", "list, page 7 by cursor", "one excerpt", "speaker + date filter"]
    for row in rows:
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        api_cpu, floor_cpu, datasette_cpu = cells[1:4]
        api_rate, floor_rate = cells[6:8]
        assert float(api_cpu) > 0 and float(api_rate) > 0, row
        assert datasette_cpu == "-", row
        if cells[0] in labels[:4] or cells[0].startswith("repeated"):
            assert float(floor_cpu) > 0 and float(floor_rate) > 0, row
            assert re.fullmatch(r"\d+\.\d\dx", cells[4]), row
