"""
Throughput of the API against a floor and Datasette, for `manage.py benchmark --throughput` (issue 12).

Three servers answer the same kinds of request from the current database, each under gunicorn with the same
worker model (2 sync workers by default), production's settings over loopback (bench/servers.py):

- the API, with the repository's gunicorn.conf.py (worker class and count overridden). Uncached scenarios run
  against a server started with DJANGO_RESPONSE_CACHE=false, repeated ones against one started without it;
- the floor (bench/floor): raw SQL for the same fields and joins, orjson, the same keyset pages, served with the
  same gunicorn.conf.py (access log, limits, worker recycling; worker class and count overridden alike);
- Datasette (SQLite only), installed by this module into .bench/datasette-venv from
  bench/requirements-datasette.txt, serving a copy of the database file as an immutable database (Datasette's
  way to publish data nobody writes to), its time limits lifted and its facet suggestions off (the API computes
  none), logging every request as the other two do; each scenario is mapped to its nearest equivalent (see
  ``scenarios``).

wrk loads each server in turn with one scenario's URLs (a Lua script cycles through them), scenario by
scenario, the servers' order alternating from one repetition to the next so that a change in the machine's load
falls on all alike. Each run gives requests per second (wrk's) and server CPU per request: the user and system
time of the server's whole process tree (/proc/<pid>/stat; a worker that exits and is replaced is counted in its
parent's reaped-children time) over the requests wrk completed. CPU per request is the steadiest figure on a
shared machine. On SQLite it includes the database's work, done in the workers; PostgreSQL's own processes are
not the server's, so there it is the application's CPU alone. Medians of the repetitions are printed with their
ratios and the issue's targets.
"""

import contextlib
import datetime
import itertools
import json
import math
import os
import random
import re
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from dataclasses import dataclass, field
from http.client import HTTPConnection, HTTPException
from pathlib import Path

from django.conf import settings
from django.core.management.base import CommandError
from django.db import connection
from django.db.models import Exists, Min, OuterRef
from django.urls import reverse

from bench import configuration
from bench.floor.views import ORDER, PAGE_SIZE, encode_cursor
from bench.management.commands.seed_synthetic import vocabulary
from bench.servers import WITHOUT_RATE_LIMITS, loopback_production
from excerpts.db.search_index import FTS_TABLE
from excerpts.models import Excerpt, Speaker

REQUIREMENTS = Path(__file__).resolve().parent / "requirements-datasette.txt"
# Datasette names a database after its file.
DATASETTE_DATABASE = "excerpts"
# How many distinct URLs a cycling scenario has at most, and how many of them are checked before it is measured.
DISTINCT = 200
CHECKED = 10
# Requests a run should complete at least, so that the part of the last ones still in flight weighs little.
MIN_REQUESTS = 50
# The targets: API/floor CPU for these scenarios, API/Datasette CPU for every one Datasette answers,
# and the repeated requests' throughput against the floor's.
FLOOR_TARGET = 3.0
DATASETTE_TARGET = 0.67
REPEATED_TARGET = 0.8

SERVERS = ("api", "floor", "datasette")
LABELS = {"api": "API", "floor": "floor", "datasette": "Datasette"}


def add_arguments(parser):
    """The options of `manage.py benchmark --throughput`."""
    group = parser.add_argument_group("throughput (--throughput)")
    group.add_argument(
        "--throughput",
        action="store_true",
        help="Instead of the latency figures, measure requests/s and server CPU per request of the API, a bare "
        "Django floor and Datasette under wrk, and print the ratios (issue 12).",
    )
    group.add_argument("--duration", type=int, default=10, help="Seconds of each wrk run, whole (default 10).")
    group.add_argument("--connections", type=int, default=4, help="wrk's open connections (default 4).")
    group.add_argument("--threads", type=int, default=2, help="wrk's threads (default 2).")
    group.add_argument("--repeat", type=int, default=3, help="Interleaved repetitions; medians are shown (default 3).")
    group.add_argument("--workers", type=int, default=2, help="gunicorn workers of each server (default 2).")
    group.add_argument(
        "--worker-class",
        default="sync",
        help="gunicorn worker class of the API and the floor (default sync); Datasette, an ASGI app, always runs "
        "in uvicorn workers.",
    )
    group.add_argument(
        "--worker-threads",
        type=int,
        default=1,
        help="Threads of each worker (default 1; gunicorn makes a sync worker with more threads a gthread one).",
    )
    group.add_argument(
        "--port", type=int, default=None, help="First of the four ports the servers take (default: free ones)."
    )
    group.add_argument(
        "--no-datasette", action="store_true", help="Leave Datasette out (it is always out on PostgreSQL)."
    )
    group.add_argument(
        "--only", action="append", default=[], metavar="TEXT", help="Run only scenarios whose label contains TEXT."
    )


@dataclass
class Scenario:
    """One kind of request: for each server that can answer it, the paths wrk cycles through."""

    label: str
    paths: dict[str, list[str]]
    floor_target: bool = False
    repeated: bool = False


@dataclass
class Run:
    """What one wrk run against one server measured."""

    requests: int
    rate: float
    cpu: float  # seconds of the server's process tree
    errors: str = ""


@dataclass
class Server:
    """A gunicorn master started by the benchmark, and the port it answers on."""

    name: str
    port: int
    command: list[str]
    env: dict[str, str]
    cwd: Path
    log: Path
    process: subprocess.Popen | None = field(default=None, repr=False)

    def start(self):
        with self.log.open("wb") as output:
            self.process = subprocess.Popen(
                self.command,
                cwd=self.cwd,
                env=self.env,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait_until_serving(self, path, patience=60):
        deadline = time.monotonic() + patience
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise CommandError(f"{self.name} exited with status {self.process.returncode}:\n{self.tail()}")
            with contextlib.suppress(OSError, HTTPException):
                get(self.port, path)  # any answer: whether it is the right one, the scenarios' checks say
                return
            time.sleep(0.2)
        raise CommandError(f"{self.name} did not answer within {patience} s:\n{self.tail()}")

    def tail(self):
        return self.log.read_text(errors="replace")[-3000:]

    def stop(self):
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, 9)
            self.process.wait()

    def cpu_seconds(self):
        return tree_cpu_seconds(self.process.pid)


def tree_cpu_seconds(root):
    """
    User and system CPU seconds of process ``root`` and all its descendants, alive or exited.

    Each live process counts its own time plus the time of the children it has reaped (cutime, cstime); a child
    not yet reaped (a zombie) still shows its own. So a worker that exits between two readings moves from its
    own line to its master's, and is counted once either way.
    """
    parents, ticks = {}, {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as stat:
                text = stat.read()
        except OSError:
            continue  # exited while we looked
        fields = text[text.rfind(")") + 2 :].split()
        pid = int(entry.name)
        parents[pid] = int(fields[1])
        ticks[pid] = sum(int(value) for value in fields[11:15])  # utime, stime, cutime, cstime
    tree, frontier = set(), {root}
    while frontier:
        tree |= frontier
        frontier = {pid for pid, parent in parents.items() if parent in frontier and pid not in tree}
    return sum(ticks.get(pid, 0) for pid in tree) / os.sysconf("SC_CLK_TCK")


def get(port, path, timeout=60):
    """(status, headers, body) of one GET on a fresh connection."""
    conn = HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"Host": "127.0.0.1"})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def database_url():
    """The current database as a DATABASE_URL for the servers, which must reach it from other processes."""
    database = settings.DATABASES["default"]
    name = str(database["NAME"])
    if connection.vendor == "sqlite":
        if name.startswith("file:") or name == ":memory:":
            raise CommandError(f"The servers need a database file, not {name!r}.")
        return f"sqlite:///{Path(name).resolve()}"
    if connection.vendor == "postgresql":
        user = urllib.parse.quote(database.get("USER") or "", safe="")
        password = urllib.parse.quote(database.get("PASSWORD") or "", safe="")
        credentials = f"{user}:{password}@" if password else f"{user}@" if user else ""
        port = f":{database['PORT']}" if database.get("PORT") else ""
        return f"postgres://{credentials}{database.get('HOST') or 'localhost'}{port}/{urllib.parse.quote(name)}"
    raise CommandError(f"No throughput benchmark for {connection.vendor}.")


def scenarios(datasette):
    """The issue's scenarios on the current database, with each server's paths; Datasette's if ``datasette``."""
    excerpts = reverse("excerpt-list")
    table = f"/{DATASETTE_DATABASE}/excerpts_excerpt"
    labels = "_labels=on&_shape=objects"
    published = Excerpt.objects.published()
    total = published.count()
    ordered = published.order_by(*ORDER).values_list("date_start", "id")

    chance = random.Random(1)
    every = list(published.values_list("id", flat=True))
    ids = chance.sample(every, min(DISTINCT, len(every)))
    speaking = Excerpt.objects.published().filter(speaker=OuterRef("pk"))
    speaking_ids = list(Speaker.objects.filter(Exists(speaking)).order_by("slug").values_list("slug", "id"))
    speakers = speaking_ids[:DISTINCT]
    # Cursors around page 500, or the middle page of a smaller corpus; each starts at a different row.
    page = max(2, min(500, total // PAGE_SIZE // 2))
    start = (page - 1) * PAGE_SIZE - 1
    boundaries = list(ordered[start : start + DISTINCT])
    earliest = published.aggregate(earliest=Min("date_start"))["earliest"] or datetime.date(1960, 1, 1)
    years = range(earliest.year, earliest.year + 20)
    # One speaker's excerpts over 18 months, January of one year to June of the next, as `manage.py benchmark` asks.
    windows = [
        (*speakers[index % len(speakers)], f"{year}-01-01", f"{year + 1}-06-30")
        for index, year in zip(range(DISTINCT), itertools.cycle(years), strict=False)
    ]
    words, _ = vocabulary(random.Random(1), 30000)
    rare = words[600 : 600 + 40 * 25 : 25]  # each in 0.3-1% of the synthetic excerpts
    common = words[44:53]  # "people" (words[48]) and its neighbours in frequency: about one excerpt in ten

    def api_list(params):
        return f"{excerpts}?{urllib.parse.urlencode(params)}" if params else excerpts

    def detail(pk):
        return reverse("excerpt-detail", args=[pk])

    # Datasette's nearest equivalents: the table's JSON sorted by date_start with foreign keys labelled (speaker,
    # event, source and quoted_in by their name or title; it has no way to add an excerpt's topics, a many-to-many
    # relation, to a table's rows), 20 rows a page, `_next` for the next; a row's JSON for one excerpt; column
    # filters for speaker and dates; `_search` on our FTS5 table (in id order: a table's search has no relevance
    # order), each word written `word*` in FTS5's own syntax so that it finds the same excerpts as the API's `q`,
    # where a word also matches the longer words it begins; `_facet=` for the facets it can count by column (not
    # topics, years or decades); a streamed CSV.
    found = [
        Scenario(
            f"list, first page ({PAGE_SIZE})",
            {
                "api": [excerpts],
                "floor": [excerpts],
                "datasette": [f"{table}.json?_sort=date_start&_size={PAGE_SIZE}&{labels}"],
            },
            floor_target=True,
        ),
        Scenario(
            f"list, page {page} by cursor",
            {
                "api": [api_list({"cursor": encode_cursor(*row)}) for row in boundaries],
                "floor": [api_list({"cursor": encode_cursor(*row)}) for row in boundaries],
                "datasette": [
                    f"{table}.json?_sort=date_start&_size={PAGE_SIZE}&{labels}&"
                    + urllib.parse.urlencode({"_next": f"{date_start.isoformat()},{pk}"})
                    for date_start, pk in boundaries
                ],
            },
            floor_target=True,
        ),
        Scenario(
            "one excerpt",
            {
                "api": [detail(pk) for pk in ids],
                "floor": [detail(pk) for pk in ids],
                "datasette": [f"{table}/{pk}.json?_shape=objects" for pk in ids],
            },
            floor_target=True,
        ),
        Scenario(
            "speaker + date filter",
            {
                "api": [api_list({"speaker": s, "date_after": a, "date_before": b}) for s, _, a, b in windows],
                "floor": [api_list({"speaker": s, "date_after": a, "date_before": b}) for s, _, a, b in windows],
                "datasette": [
                    f"{table}.json?_sort=date_start&_size={PAGE_SIZE}&{labels}&"
                    + urllib.parse.urlencode({"speaker_id": pk, "date_end__gte": a, "date_start__lte": b})
                    for _, pk, a, b in windows
                ],
            },
            floor_target=True,
        ),
        Scenario(
            "search, rare term",
            {
                "api": [api_list({"q": word}) for word in rare],
                "datasette": [datasette_search(table, word) for word in rare],
            },
        ),
        Scenario(
            "search, common term",
            {
                "api": [api_list({"q": word}) for word in common],
                "datasette": [datasette_search(table, word) for word in common],
            },
        ),
        Scenario(
            "facets, whole corpus",
            {
                "api": [reverse("excerpt-facets")],
                "datasette": [
                    f"{table}.json?_size=0&_facet_size=max&"
                    + "&".join(
                        f"_facet={column}" for column in ("speaker_id", "event_id", "kind", "attribution", "language")
                    )
                ],
            },
        ),
        Scenario(
            f"CSV export, one speaker (about {total // max(len(speaking_ids), 1)} rows)",
            {
                "api": [api_list({"format": "csv", "speaker": slug}) for slug, _ in speakers],
                "datasette": [f"{table}.csv?speaker_id={pk}&_labels=on&_stream=on" for _, pk in speakers],
            },
        ),
        Scenario(f"repeated: list, first page ({PAGE_SIZE})", {"api": [excerpts], "floor": [excerpts]}, repeated=True),
        Scenario("repeated: one excerpt", {"api": [detail(ids[0])], "floor": [detail(ids[0])]}, repeated=True),
    ]
    if not datasette:
        for scenario in found:
            scenario.paths.pop("datasette", None)
    return total, found


def datasette_gunicorn(stdout):
    """
    The gunicorn of .bench/datasette-venv, made and filled from bench/requirements-datasette.txt when it is missing
    or was filled from other requirements. The project's own virtualenv never gets Datasette.
    """
    venv = Path(settings.BASE_DIR) / ".bench" / "datasette-venv"
    stamp = venv / "requirements-datasette.txt"
    wanted = REQUIREMENTS.read_text()
    if not stamp.exists() or stamp.read_text() != wanted:
        stdout.write(f"Installing Datasette into {venv} from {REQUIREMENTS.name} ...")
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
        pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        subprocess.run([*pip, "-r", str(REQUIREMENTS)], check=True)
        stamp.write_text(wanted)
    return venv / "bin" / "gunicorn"


def copy_database(source, directory):
    """A consistent copy of the SQLite file ``source`` (by SQLite's backup, WAL pages too), out of WAL mode."""
    target = directory / f"{DATASETTE_DATABASE}.db"
    target.unlink(missing_ok=True)
    with contextlib.closing(sqlite3.connect(source)) as origin, contextlib.closing(sqlite3.connect(target)) as copy:
        origin.backup(copy)
        copy.execute("PRAGMA journal_mode = DELETE")
    return target


def servers(options, directory, ports, datasette, stdout):
    """The servers to start, by name ("api", "api-cached", "floor", "datasette"), on ``ports``."""
    base = Path(settings.BASE_DIR)
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    model = ["-k", options["worker_class"], "-w", str(options["workers"]), "--threads", str(options["worker_threads"])]
    production = {**loopback_production(), **WITHOUT_RATE_LIMITS}
    common = {**os.environ, **production, "DATABASE_URL": database_url()}
    common.pop("WEB_CONCURRENCY", None)
    common.pop("GUNICORN_THREADS", None)
    found = {}

    def add(name, command, env, cwd=base):
        port = ports[len(found)]
        found[name] = Server(name, port, [*command, "-b", f"127.0.0.1:{port}"], env, cwd, directory / f"{name}.log")

    # The API reads gunicorn.conf.py from the repository root; each variant has a cache directory of its own.
    add(
        "api",
        [gunicorn, *model],
        {**common, "DJANGO_RESPONSE_CACHE": "false", "DJANGO_CACHE_DIR": str(directory / "api-cache")},
    )
    cached = {**common, "DJANGO_CACHE_DIR": str(directory / "api-cached-cache")}
    cached.pop("DJANGO_RESPONSE_CACHE", None)
    add("api-cached", [gunicorn, *model], cached)
    # The floor is served as the API is, by the repository's gunicorn.conf.py (its access log, request limits and
    # worker recycling), so that the two differ in the application alone. It and Datasette start in the run's
    # directory, where gunicorn finds no configuration of its own accord.
    floor = [
        gunicorn,
        *model,
        "-c",
        str(base / "gunicorn.conf.py"),
        "--pythonpath",
        str(base),
        "django.core.wsgi:get_wsgi_application()",
    ]
    add("floor", floor, {**common, "DJANGO_SETTINGS_MODULE": "bench.floor.settings"}, cwd=directory)
    if datasette:
        copy = copy_database(settings.DATABASES["default"]["NAME"], directory)
        metadata = {
            # Our FTS5 table keeps its own copy of the words (no content= option), so Datasette does not find it by
            # itself; its rowid is the excerpt's id, which is what fts_table and fts_pk tell Datasette.
            "databases": {
                DATASETTE_DATABASE: {"tables": {"excerpts_excerpt": {"fts_table": FTS_TABLE, "fts_pk": "id"}}}
            }
        }
        # No query or facet is cut short (Datasette's defaults stop them at 1 s and 200 ms and still answer 200), and
        # no facet suggestions are computed: the API computes none.
        tuning = {"sql_time_limit_ms": 60_000, "facet_time_limit_ms": 60_000, "suggest_facets": False}
        command = [
            str(datasette_gunicorn(stdout)),
            "-k",
            "uvicorn_worker.UvicornWorker",
            "-w",
            str(options["workers"]),
            # Every request logged to stdout, as the API's and the floor's are (gunicorn.conf.py's access log) and
            # as `datasette serve` logs them (uvicorn's access log), in uvicorn's own line.
            "--access-logfile",
            "-",
            "--pythonpath",
            str(base),
            "bench.datasette_app:application",
        ]
        env = {
            **common,
            "BENCH_DATASETTE_DATABASE": str(copy),
            "BENCH_DATASETTE_METADATA": json.dumps(metadata),
            "BENCH_DATASETTE_SETTINGS": json.dumps(tuning),
        }
        add("datasette", command, env, cwd=directory)
    return found


LUA = """
local paths = {%s}
local threads = 0
function setup(thread)
  thread:set("offset", threads * 7919)
  threads = threads + 1
end
function init(args)
  index = offset or 0
end
function request()
  index = index %% #paths + 1
  return wrk.format(nil, paths[index])
end
"""


def wrk(server, paths, seconds, options, directory):
    """Load ``server`` with ``paths`` in turn for ``seconds``; what wrk and the process tree measured."""
    script = directory / "paths.lua"
    script.write_text(LUA % ", ".join(json.dumps(path) for path in paths))
    command = ["wrk", "-t", str(options["threads"]), "-c", str(options["connections"])]
    command += [
        "-d",
        f"{seconds}s",
        "--timeout",
        "30s",
        "-s",
        str(script),
        f"http://127.0.0.1:{server.port}",
    ]
    before = server.cpu_seconds()
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    # Read at once: the requests still being served when wrk stopped are not counted, so neither should the rest
    # of their work be (their part before the stop is, at most a request per worker: see run_length).
    cpu = server.cpu_seconds() - before
    output = result.stdout + result.stderr
    done = re.search(r"(\d+) requests in", output)
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    if result.returncode or not done or not rate:
        return Run(0, 0.0, cpu, f"wrk failed: {output.strip()[-500:]}")
    problems = []
    if match := re.search(r"Non-2xx or 3xx responses: (\d+)", output):
        problems.append(f"{match.group(1)} answers were not 2xx")
    if (match := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)) and (
        int(match.group(1)) or int(match.group(4))
    ):
        problems.append(match.group(0))
    if not int(done.group(1)):
        problems.append("no request completed: make --duration longer")
    return Run(int(done.group(1)), float(rate.group(1)), cpu, "; ".join(problems))


def datasette_search(table, word):
    """
    Datasette's search of the FTS5 table for the excerpts the API's ``q=word`` finds: the word and the longer words
    it begins (FTS5's prefix query, in Datasette's raw search mode), 20 a page, foreign keys labelled.
    """
    return f"{table}.json?" + urllib.parse.urlencode(
        {"_search": f"{word}*", "_searchmode": "raw", "_size": PAGE_SIZE, "_labels": "on", "_shape": "objects"}
    )


def check(server, paths):
    """
    (problem, seconds): why the first paths do not get a proper answer from ``server`` ("" if they do), and the
    median time it took to answer one of them alone.
    """
    times = []
    for path in paths[:CHECKED]:
        started = time.perf_counter()
        try:
            status, headers, body = get(server.port, path)
        except (OSError, HTTPException) as error:
            return f"GET {path}: {error!r}", 0.0
        times.append(time.perf_counter() - started)
        if status != 200:
            return f"GET {path}: {status} {body[:300]!r}", 0.0
        if server.name == "datasette" and headers.get("content-type", "").startswith("application/json"):
            data = json.loads(body)
            if data.get("facets_timed_out") or data.get("truncated"):
                return f"GET {path}: Datasette cut the answer short ({body[:300]!r})", 0.0
    return "", statistics.median(times)


def run_length(options, seconds):
    """
    Seconds of a run whose requests take ``seconds`` each: --duration, or long enough for about MIN_REQUESTS of
    them (at most 4 x --duration). The requests in flight when wrk stops are not counted but part of their work
    is, at most one request per worker: with fewer than MIN_REQUESTS a run, that would show in the figure.
    """
    wanted = math.ceil(MIN_REQUESTS * seconds / options["workers"])  # wrk takes whole seconds
    return min(max(options["duration"], wanted), 4 * options["duration"])


def load():
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def run(stdout, style, **options):
    """Measure every scenario on every server that answers it and print the table."""
    if shutil.which("wrk") is None:
        raise CommandError("wrk is not installed (Debian: apt-get install wrk).")
    datasette = not options["no_datasette"]
    if datasette and connection.vendor != "sqlite":
        stdout.write(style.WARNING(f"Datasette serves SQLite files only: left out on {connection.vendor}."))
        datasette = False
    elif not datasette:
        stdout.write("Datasette left out (--no-datasette).")
    total, found = scenarios(datasette)
    if options["only"]:
        found = [s for s in found if any(text in s.label for text in options["only"])]
    first = options["port"]
    ports = free_ports(4) if first is None else list(range(first, first + 4))
    stdout.write(
        f"{connection.vendor}, {total} excerpts; gunicorn {options['worker_class']} x {options['workers']} workers "
        f"for each server (Datasette: uvicorn workers); wrk {options['threads']} threads, {options['connections']} "
        f"connections, {options['duration']} s a run (longer for slow requests), {options['repeat']} "
        "repetitions (medians)"
    )
    stdout.write(configuration.describe())
    stdout.write(f"load average before: {load()}")
    Path(settings.BASE_DIR, ".bench").mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="throughput-", dir=Path(settings.BASE_DIR, ".bench")) as name:
        directory = Path(name)
        started = servers(options, directory, ports, datasette, stdout)
        try:
            for server in started.values():
                server.start()
            for server in started.values():
                server.wait_until_serving("/")
            results = measure(found, started, options, directory, stdout)
        finally:
            for server in started.values():
                server.stop()
    stdout.write(f"load average after: {load()}")
    report(found, results, stdout, style)
    return results


def free_ports(count):
    """``count`` ports free on 127.0.0.1 now."""
    probes = [socket.socket() for _ in range(count)]
    try:
        for probe in probes:
            probe.bind(("127.0.0.1", 0))
        return [probe.getsockname()[1] for probe in probes]
    finally:
        for probe in probes:
            probe.close()


def served_by(scenario, name):
    """The server that answers ``scenario`` for column ``name``: repeated requests go to the cached API."""
    return "api-cached" if name == "api" and scenario.repeated else name


def measure(found, started, options, directory, stdout):
    """{(scenario label, column): [Run, ...]}, interleaved: scenario by scenario, the servers' order alternating."""
    results, failed, lengths = {}, {}, {}
    for scenario in found:
        for name, paths in scenario.paths.items():
            problem, seconds = check(started[served_by(scenario, name)], paths)
            if problem:
                failed[(scenario.label, name)] = problem
            lengths[(scenario.label, name)] = run_length(options, seconds)
    for repetition in range(options["repeat"]):
        for scenario in found:
            names = [name for name in SERVERS if name in scenario.paths]
            for name in names if repetition % 2 == 0 else reversed(names):
                key = (scenario.label, name)
                if key in failed:
                    continue
                server, paths = started[served_by(scenario, name)], scenario.paths[name]
                measured = wrk(server, paths, lengths[key], options, directory)
                results.setdefault(key, []).append(measured)
                if measured.errors:
                    failed[key] = measured.errors
                progress = f"{measured.cpu / max(measured.requests, 1) * 1000:.2f} ms CPU, {measured.rate:.0f} req/s"
                if measured.errors:
                    progress = f"ERROR: {measured.errors}"
                elif lengths[key] > options["duration"]:
                    progress += f" (a {lengths[key]} s run: slow requests)"
                stdout.write(f"  [{repetition + 1}/{options['repeat']}] {scenario.label}, {LABELS[name]}: {progress}")
    for key, problem in failed.items():
        results[key] = problem
    return results


def medians(runs):
    """(CPU ms per request, requests per second), medians of the runs, or None for a scenario that failed."""
    if isinstance(runs, str) or not runs:
        return None
    cpu = statistics.median(run.cpu / run.requests * 1000 for run in runs)
    return cpu, statistics.median(run.rate for run in runs)


def ratio(numerator, denominator):
    if numerator is None or denominator is None or not denominator:
        return None
    return numerator / denominator


def cell(value, digits=2, suffix=""):
    return "-" if value is None else f"{value:.{digits}f}{suffix}"


def report(found, results, stdout, style):
    """The table of medians and ratios, with the issue's targets; loud lines for every scenario that failed."""
    failures = [(key, value) for key, value in results.items() if isinstance(value, str)]
    for (label, name), problem in failures:
        stdout.write(style.ERROR(f"ERROR: {label}, {LABELS[name]}: {problem} (no figure reported)"))
    stdout.write(
        "\n| request | CPU ms/req API | floor | Datasette | CPU API/floor | CPU API/Datasette "
        "| req/s API | floor | Datasette | req/s API/floor | req/s API/Datasette | targets |"
    )
    stdout.write("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for scenario in found:
        figures = {name: medians(results.get((scenario.label, name))) for name in SERVERS}
        cpu = {name: None if value is None else value[0] for name, value in figures.items()}
        rate = {name: None if value is None else value[1] for name, value in figures.items()}
        row = [scenario.label]
        for name in SERVERS:
            row.append("ERROR" if isinstance(results.get((scenario.label, name)), str) else cell(cpu[name]))
        floor_cpu, datasette_cpu = ratio(cpu["api"], cpu["floor"]), ratio(cpu["api"], cpu["datasette"])
        row += [cell(floor_cpu, suffix="x"), cell(datasette_cpu, suffix="x")]
        for name in SERVERS:
            row.append("ERROR" if isinstance(results.get((scenario.label, name)), str) else cell(rate[name], 0))
        floor_rate, datasette_rate = ratio(rate["api"], rate["floor"]), ratio(rate["api"], rate["datasette"])
        row += [cell(floor_rate, suffix="x"), cell(datasette_rate, suffix="x")]
        targets = []
        if scenario.floor_target and floor_cpu is not None:
            targets.append(f"floor <= {FLOOR_TARGET:g}x: {'met' if floor_cpu <= FLOOR_TARGET else 'MISSED'}")
        if not scenario.repeated and datasette_cpu is not None:
            targets.append(
                f"Datasette <= {DATASETTE_TARGET:g}x: {'met' if datasette_cpu <= DATASETTE_TARGET else 'MISSED'}"
            )
        if scenario.repeated and floor_rate is not None:
            targets.append(
                f"req/s >= {REPEATED_TARGET:g}x floor: {'met' if floor_rate >= REPEATED_TARGET else 'MISSED'}"
            )
        row.append("; ".join(targets) or "-")
        stdout.write("| " + " | ".join(row) + " |")
    if failures:
        stdout.write(style.ERROR(f"{len(failures)} measurement(s) failed: see the ERROR lines above."))
