"""
`manage.py loadtest`: the production setup under a mixed load of readers and two writing curators, for a bounded
time; it prints throughput, latency, errors and lost writes, and fails unless there are no errors and no lost
writes.

What runs:

- gunicorn with the repository's gunicorn.conf.py and ``--workers`` processes, production's settings over loopback
  (bench/servers.py), on the current PostgreSQL database, with REDIS_URL passed on so every worker shares one
  Django cache (counts, facets, pages, throttles). The rate limits are lifted: all the traffic comes from 127.0.0.1.
- wrk (Debian's package) with bench/loadtest.lua and ``--connections`` connections, one thread each, for
  ``--duration`` seconds: first pages of the list, pages reached by cursor, lists filtered by speaker, date and
  topic, single excerpts by id, searches, facets, and conditional reads carrying a current ETag, which must be
  answered 304 (or 200 with a new ETag when a curator's write changed the data meanwhile). The URLs are derived
  from the data before the run: ids, speaker and topic slugs, years, words of the texts, and, asked of the server,
  the cursors of the next pages and the ETags.
- Two curators (threads of this process, each with its own API token, made here as `create_curator` makes them)
  who in turn create a published excerpt or change the text and topics of one of their own set of excerpts
  (disjoint, so each row's last write is known), pausing ``--write-pause`` seconds between writes. Each write is
  checked: its answer must show what was sent, and the curator's read of it just after, too.

After the run the server is stopped and every acknowledged write is looked up through the ORM: an excerpt
missing, or with another text or other topics than its last acknowledged write gave it, is a lost write. A write
that got no answer may or may not have happened, so either state is accepted for its row.

The run writes to the database (the curators' excerpts and changes stay, their tokens are deleted): point it at a
copy, never at the production database.
"""

import contextlib
import http.client
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from collections import Counter
from io import StringIO
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.db.models import Max, Min
from django.urls import reverse
from knox.models import AuthToken

from bench.management.commands.availability import GunicornServer, percentile
from bench.servers import WITHOUT_RATE_LIMITS, loopback_production
from excerpts.models import Excerpt, Source, Speaker, Topic

SCRIPT = Path(__file__).resolve().parents[2] / "loadtest.lua"
# The kinds of read and their share of the requests (weights, not percentages).
MIX = {"list": 15, "cursor": 15, "filter": 20, "detail": 20, "search": 10, "facets": 5, "conditional": 15}
READ_HEADERS = {"Accept": "application/json", "Accept-Encoding": "gzip"}
CURATORS = ("loadtest-curator-1", "loadtest-curator-2")
# Existing excerpts each curator changes, besides the ones it creates.
CHANGED_PER_CURATOR = 50
WRITE_TIMEOUT = 30
# Where PostgreSQL runs on this machine, so that its backends' CPU can be read in /proc (a socket, or loopback).
LOCAL_HOSTS = {"", "localhost", "127.0.0.1", "::1"}
# How long wrk may outlive its --duration (starting threads, printing) before it is killed.
WRK_GRACE = 30


class LoadTestServer(GunicornServer):
    """The availability command's gunicorn, with the load test's database, cache, workers and rate limits."""

    def __init__(self, workers, database_url, redis_url):
        super().__init__()
        self.env.update(loopback_production())
        self.env.update(WITHOUT_RATE_LIMITS)
        self.env.update(DATABASE_URL=database_url, REDIS_URL=redis_url, WEB_CONCURRENCY=str(workers))
        self.seen = {"gunicorn": {}, "postgresql": {}}

    def cpu_seconds(self):
        """
        CPU seconds used so far by the gunicorn workers and by the PostgreSQL backends serving this database, each
        process counted from its start; a process that has ended counts with its last reading (the backend of a
        connection closed by DATABASE_CONN_MAX_AGE, a worker replaced), one never seen running does not count.
        """
        self.seen["gunicorn"].update(process_cpu_seconds(self.workers()))
        if connection.settings_dict["HOST"] in LOCAL_HOSTS:  # the backends' pids are this machine's
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
                self.seen["postgresql"].update(process_cpu_seconds(pid for (pid,) in cursor.fetchall()))
        return {part: sum(readings.values()) for part, readings in self.seen.items() if readings}

    def workers(self):
        """The worker processes' ids, from the kernel's list of the master's children."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        with contextlib.suppress(OSError):
            return [int(pid) for pid in children.read_text().split()]
        return []


def process_cpu_seconds(pids):
    """User and system CPU seconds of each of ``pids`` still running (and readable in /proc), by pid."""
    ticks = os.sysconf("SC_CLK_TCK")
    seconds = {}
    for pid in pids:
        with contextlib.suppress(OSError):
            # After the command name in parentheses: state, then 10 fields, then utime and stime (man 5 proc).
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            seconds[pid] = (int(fields[11]) + int(fields[12])) / ticks
    return seconds


def database_url(name):
    """
    DATABASE_URL with the name of the database this process uses, which under pytest is the test database
    pytest-django made (test_<name>), not the environment's; its credentials and options stay as they are.
    """
    parts = urllib.parse.urlsplit(os.environ["DATABASE_URL"])
    return urllib.parse.urlunsplit(parts._replace(path="/" + urllib.parse.quote(name)))


def lua_literal(value):
    """``value`` (str, int, float, list, dict) as a Lua expression; strings must be printable ASCII."""
    if isinstance(value, str):
        if not (value.isascii() and value.isprintable()):
            raise ValueError(f"not printable ASCII: {value!r}")
        return json.dumps(value)  # only \" and \\ escapes, which Lua reads alike
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return repr(value)
    if isinstance(value, list):
        return "{" + ", ".join(lua_literal(item) for item in value) + "}"
    if isinstance(value, dict):
        return "{" + ", ".join(f"[{lua_literal(key)}] = {lua_literal(item)}" for key, item in value.items()) + "}"
    raise TypeError(f"no Lua literal for {type(value).__name__}")


class Http:
    """A kept-alive connection to the server under test, reopened after any failure."""

    def __init__(self, port, host, timeout):
        self.port, self.host, self.timeout = port, host, timeout
        self.conn = None
        self.sent = 0

    def request(self, method, path, headers=None, body=None):
        """(status, headers, body) of one request; an error status is an answer, a failure an exception."""
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        self.sent += 1
        try:
            self.conn.request(method, path, body=body, headers={"Host": self.host, **(headers or {})})
            response = self.conn.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException):
            self.close()
            raise
        if response.will_close:
            self.close()
        return response.status, response, data

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


class Curator(threading.Thread):
    """
    A curator writing through the API until ``stop``: a new published excerpt or a change to the text and topics of
    one of ``changeable`` (and of its own new ones), in turn. Every acknowledged write is remembered in ``expected``
    (excerpt id: the (text, topic slugs) it must have); a write that got no answer adds its content to ``possible``.
    """

    def __init__(self, number, token, port, host, stop, pause, changeable, references, run):
        super().__init__(name=f"curator-{number}", daemon=True)
        self.number, self.stop, self.pause, self.run_id = number, stop, pause, run
        self.http = Http(port, host, WRITE_TIMEOUT)
        self.headers = {
            "Authorization": f"Token {token}",
            "Accept": "application/json",
            "Content-Type": "application/json",
        }
        self.changeable = dict(changeable)  # id: its text before the run
        self.references = references
        self.rng = random.Random(number)
        self.expected = {}
        self.possible = {}
        self.outcomes = Counter()
        self.failures = []
        self.latencies = []

    def run(self):
        writes = 0
        while not self.stop.is_set():
            writes += 1
            try:
                if writes % 2:
                    self.create(writes)
                else:
                    self.change(writes)
            except Exception as error:  # an answer this code cannot read: a failure to report, not a silent stop
                self.fail(f"write {writes}: {type(error).__name__}: {error}")
            # A connection kept through the pause may be closed by the server meanwhile (gunicorn's keepalive is 5 s),
            # and a write is never sent twice: each write and its read-back get a connection of their own.
            self.http.close()
            self.stop.wait(self.pause)

    def topics(self):
        return sorted(self.rng.sample(self.references["topics"], 2))

    def create(self, serial):
        body = {
            "text": f"Load test {self.run_id}, curator {self.number}, write {serial}: {self.words()}.",
            "kind": "speech",
            "speaker": self.rng.choice(self.references["speakers"]),
            "date": f"{self.rng.randrange(1900, 2000)}-0{self.rng.randrange(1, 10)}",
            "source": self.rng.choice(self.references["sources"]),
            "topics": self.topics(),
            "language": "en",
            "status": "published",
        }
        answer = self.write("POST", reverse("excerpt-list"), body, 201)
        if answer is not None:
            self.changeable[answer["id"]] = body["text"]

    def change(self, serial):
        pk = self.rng.choice(list(self.changeable))
        text = f"{self.changeable[pk]} [changed by load test {self.run_id}, curator {self.number}, write {serial}]"
        self.write("PATCH", reverse("excerpt-detail", kwargs={"pk": pk}), {"text": text, "topics": self.topics()}, 200)

    def words(self):
        return " ".join(self.rng.sample(self.references["words"], 6))

    def write(self, method, path, body, expected_status):
        """Send one write and check it; return its answer when acknowledged and checked, else None."""
        content = (body["text"], tuple(body["topics"]))
        started = time.monotonic()
        try:
            status, _, data = self.http.request(method, path, self.headers, json.dumps(body))
        except (OSError, http.client.HTTPException) as error:
            self.fail(f"{method} {path}: no answer ({type(error).__name__}: {error})")
            if method == "PATCH":  # it may have been written: its row may show it
                self.possible.setdefault(int(path.rstrip("/").rsplit("/", 1)[1]), set()).add(content)
            return None
        self.latencies.append(time.monotonic() - started)
        if status != expected_status:
            self.fail(f"{method} {path}: {status} {data[:300]!r}")
            return None
        answer = json.loads(data)
        self.expected[answer["id"]] = content
        self.possible.pop(answer["id"], None)  # acknowledged after the one that got no answer: this one counts
        self.outcomes["created" if method == "POST" else "changed"] += 1
        if shown(answer) != content:
            self.fail(f"{method} {path}: acknowledged, but the answer shows {shown(answer)!r}, not {content!r}")
            return None
        # Read it back as the curator: a worker's cache must not serve what the write replaced.
        detail = reverse("excerpt-detail", kwargs={"pk": answer["id"]})
        try:
            status, _, data = self.http.request("GET", detail, {"Authorization": self.headers["Authorization"]})
        except (OSError, http.client.HTTPException) as error:
            self.fail(f"GET {detail} after the write: no answer ({type(error).__name__})")
            return None
        if status != 200 or shown(json.loads(data)) != content:
            self.fail(f"GET {detail} after the write: {status}, {data[:300]!r} instead of {content!r}", "stale")
            return None
        return answer

    def fail(self, message, outcome="failed"):
        self.outcomes[outcome] += 1
        self.failures.append(message)


def shown(excerpt):
    """The (text, topic slugs) an excerpt's representation shows."""
    return excerpt["text"], tuple(sorted(topic["slug"] for topic in excerpt["topics"]))


class Command(BaseCommand):
    help = (
        "Serve the current PostgreSQL database with gunicorn (gunicorn.conf.py, production settings, REDIS_URL's "
        "cache) and load it for a bounded time with wrk (lists, cursor pages, filters, details, search, facets, "
        "conditional reads) while two curators write through the API; print throughput, latency percentiles, "
        "errors and lost writes, and fail unless there is no error, no failed write and no lost write. The curators "
        "write to the database: run it on a copy."
    )

    def add_arguments(self, parser):
        parser.add_argument("--duration", type=int, default=60, help="Seconds of load (default 60).")
        parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes (default 4).")
        parser.add_argument("--connections", type=int, default=8, help="wrk connections, one thread each (8).")
        parser.add_argument(
            "--write-pause", type=float, default=1.0, help="Seconds each curator waits between writes (default 1)."
        )
        parser.add_argument(
            "--timeout", type=int, default=10, help="Seconds a read may take before wrk counts it as an error (10)."
        )

    def handle(self, *args, duration, workers, connections, write_pause, timeout, **options):
        wrk = self.preconditions(duration, workers, connections)
        redis_url = settings.REDIS_URL
        rng = random.Random(duration * 1000 + workers)
        references, changeable = self.references(rng)
        total = Excerpt.objects.count()
        tokens = self.tokens()
        run = uuid.uuid4().hex[:8]
        load_before = os.getloadavg()
        stop = threading.Event()
        # A TERM (a CI timeout, kill) unwinds like Ctrl-C, so the server is stopped on that path too.
        previous = signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
        try:
            with LoadTestServer(workers, database_url(connection.settings_dict["NAME"]), redis_url) as server:
                config = server.config
                self.stdout.write(
                    f"loadtest {run}: {duration} s, gunicorn with {config.get('workers')} workers x "
                    f"{config.get('threads')} threads (gunicorn.conf.py), wrk with {connections} connections, "
                    f"{len(CURATORS)} curators writing; postgresql {connection.settings_dict['NAME']}, {total} "
                    f"excerpts; Django cache in Redis ({redis_url}); gunicorn log {server.log}"
                )
                self.stdout.write(
                    "rate limits lifted (DJANGO_RATE_LIMIT_*=off): all the traffic comes from 127.0.0.1, which the "
                    "limits would refuse as one client"
                )
                self.stdout.write(f"load average before: {format_load(load_before)}")
                host = f"127.0.0.1:{server.port}"
                reads = self.reads(server.port, host, references)
                curators = [
                    Curator(n + 1, token, server.port, host, stop, write_pause, part, references, run)
                    for n, (token, part) in enumerate(zip(tokens, split(changeable, len(tokens)), strict=True))
                ]
                cpu_before, workers_before = server.cpu_seconds(), set(server.workers())
                for curator in curators:
                    curator.start()
                try:
                    figures = self.load(wrk, server, host, reads, duration, connections, timeout)
                finally:
                    stop.set()
                    for curator in curators:
                        curator.join(timeout=WRITE_TIMEOUT * 2 + write_pause)
                cpu = {part: seconds - cpu_before.get(part, 0) for part, seconds in server.cpu_seconds().items()}
                replaced = set(server.workers()) != workers_before
                load_after = os.getloadavg()
        finally:
            signal.signal(signal.SIGTERM, previous)
            AuthToken.objects.filter(user__username__in=CURATORS).delete()
        lost = lost_writes(curators)
        failed = self.report(figures, curators, lost, cpu, replaced, load_after)
        if failed:
            raise CommandError(f"FAILED: {failed}.")

    def preconditions(self, duration, workers, connections):
        """Refuse what cannot be load-tested as production runs; return wrk's path."""
        if connection.vendor != "postgresql" or not os.environ.get("DATABASE_URL"):
            raise CommandError(
                f"The load test runs the production setup on PostgreSQL, not {connection.vendor}: set DATABASE_URL "
                "to a postgres:// URL (of a copy: the curators write to it)."
            )
        if not settings.REDIS_URL:
            raise CommandError(
                "The load test runs the production setup, whose workers share one cache in Redis: set REDIS_URL "
                "(redis://host:6379/<db>)."
            )
        wrk = shutil.which("wrk")
        if wrk is None:
            raise CommandError("wrk is not installed (Debian: apt-get install wrk).")
        for name, value in (("--duration", duration), ("--workers", workers), ("--connections", connections)):
            if value < 1:
                raise CommandError(f"{name} must be 1 or more.")
        return wrk

    def references(self, rng):
        """What the requests and the writes name, from the data; and the excerpts each curator may change."""
        published = Excerpt.objects.published()
        ids = list(published.values_list("id", flat=True))
        if len(ids) < 2 * CHANGED_PER_CURATOR:
            raise CommandError(
                f"{len(ids)} published excerpts: the load test needs at least {2 * CHANGED_PER_CURATOR} "
                "(manage.py seed_synthetic --count 20000)."
            )
        sample = rng.sample(ids, min(len(ids), 500))
        texts = dict(published.filter(id__in=sample[:100]).values_list("id", "text"))
        words = sorted({word.strip(".,;:!?\"'()").lower() for text in texts.values() for word in text.split()})
        words = [word for word in words if len(word) > 4 and word.isascii() and word.isalpha()]
        changeable = sorted(texts.items())[: 2 * CHANGED_PER_CURATOR]
        speakers = Speaker.objects.filter(excerpts__status=Excerpt.Status.PUBLISHED).distinct()
        dates = published.aggregate(first=Min("date_start"), last=Max("date_start"))
        return (
            {
                "ids": sample[100:],
                "speakers": list(speakers.values_list("slug", flat=True)[:300]),
                "topics": list(Topic.objects.values_list("slug", flat=True)),
                "sources": list(Source.objects.values_list("id", flat=True)[:200]),
                "years": (dates["first"].year, dates["last"].year),
                "words": words,
            },
            changeable,
        )

    def tokens(self):
        """A fresh API token for each curator, made as `manage.py create_curator` makes them."""
        tokens = []
        for username in CURATORS:
            out = StringIO()
            call_command("create_curator", username, stdout=out, stderr=StringIO())
            tokens.append(out.getvalue().strip())
        return tokens

    def reads(self, port, host, references):
        """The paths of each kind of read, and the conditional reads with their current ETags, asked of the server."""
        rng = random.Random(port)
        listing = reverse("excerpt-list")
        facets = reverse("excerpt-facets")
        first, last = references["years"]

        def query(path, **params):
            return f"{path}?{urllib.parse.urlencode(params)}"

        paths = {
            "list": [listing, query(listing, ordering="-date"), query(listing, page_size=100)],
            "filter": [],
            "detail": [reverse("excerpt-detail", kwargs={"pk": pk}) for pk in references["ids"]],
            "search": [
                query(listing, q=word) for word in rng.sample(references["words"], min(50, len(references["words"])))
            ],
            "facets": [facets, query(facets, language="en")],
        }
        for speaker in rng.sample(references["speakers"], min(40, len(references["speakers"]))):
            paths["filter"].append(query(listing, speaker=speaker))
            paths["facets"].append(query(facets, speaker=speaker))
        for topic in references["topics"]:
            paths["filter"].append(query(listing, topic=topic))
        for _ in range(40):
            year = rng.randint(first, last)
            paths["filter"].append(query(listing, date_after=year, date_before=year + rng.choice([0, 1, 5])))
        for _ in range(20):
            year = rng.randint(first, last)
            speaker = rng.choice(references["speakers"])
            paths["filter"].append(query(listing, speaker=speaker, date_after=year, date_before=year + 10))

        client = Http(port, host, 30)
        paths["cursor"] = []
        for start in (listing, query(listing, ordering="-date")):
            page = start
            for _ in range(10):
                page = self.read(client, page)["next"]
                if page is None:
                    break
                parts = urllib.parse.urlsplit(page)
                paths["cursor"].append(f"{parts.path}?{parts.query}")
        conditional = []
        for path in (listing, paths["detail"][0], facets, paths["filter"][0]):
            _, response, _ = client.request("GET", path, READ_HEADERS)
            etag = response.getheader("ETag")
            status, _, _ = client.request("GET", path, {**READ_HEADERS, "If-None-Match": etag})
            if status != 304:
                raise CommandError(f"GET {path} with its own ETag {etag} answered {status}, not 304.")
            conditional.append({"path": path, "etag": etag})
        client.close()
        return {
            "host": host,
            "paths": paths,
            "conditional": conditional,
            "kinds": [{"name": name, "weight": weight} for name, weight in MIX.items()],
        }

    def read(self, client, path):
        status, _, data = client.request("GET", path, READ_HEADERS | {"Accept-Encoding": "identity"})
        if status != 200:
            raise CommandError(f"GET {path} answered {status} before the load: {data[:300]!r}")
        return json.loads(data)

    def load(self, wrk, server, host, reads, duration, connections, timeout):
        """Run wrk with the script and ``reads``; return the figures its done() printed, by name."""
        with tempfile.TemporaryDirectory(prefix="loadtest-") as directory:
            data = Path(directory) / "reads.lua"
            data.write_text(f"return {lua_literal(reads)}\n")
            command = [wrk, "-t", str(connections), "-c", str(connections), "-d", f"{duration}s"]
            command += ["--timeout", f"{timeout}s", "-s", str(SCRIPT), f"{server.url}/", "--", str(data)]
            process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            try:
                out, err = process.communicate(timeout=duration + timeout + WRK_GRACE)
            finally:
                if process.poll() is None:
                    process.kill()
                    process.wait()
        figures = dict(re.findall(r"^loadtest (\S+) (\S+)$", out, re.MULTILINE))
        if process.returncode or "requests" not in figures:
            raise CommandError(f"wrk failed (exit status {process.returncode}):\n{out}\n{err}")
        return {name: float(value) for name, value in figures.items()}

    def report(self, figures, curators, lost, cpu, replaced, load_after):
        """Print the figures; return what failed, in words ('' when nothing did)."""
        requests = int(figures["requests"])
        seconds = figures["duration_us"] / 1e6
        statuses = {
            name.removeprefix("status_"): int(count) for name, count in figures.items() if name.startswith("status_")
        }
        bad_answers = sum(count for status, count in statuses.items() if status not in ("200", "304"))
        missed = int(figures["conditional_200_same_etag"])
        socket_errors = {kind: int(figures[f"errors_{kind}"]) for kind in ("connect", "read", "write", "timeout")}
        errors = bad_answers + missed + sum(socket_errors.values())

        def ms(name):
            return figures[name] / 1000

        self.stdout.write(
            f"reads: {requests} requests in {seconds:.1f} s, {requests / seconds:.1f} req/s; latency p50 "
            f"{ms('latency_p50_us'):.1f} ms, p95 {ms('latency_p95_us'):.1f} ms, p99 {ms('latency_p99_us'):.1f} ms, "
            f"max {ms('latency_max_us'):.1f} ms"
        )
        sent = ", ".join(
            f"{name.removeprefix('sent_')} {int(count)}"
            for name, count in sorted(figures.items())
            if name.startswith("sent_")
        )
        self.stdout.write(f"sent: {sent}")
        self.stdout.write(
            "answers: "
            + ", ".join(f"{status} x{count}" for status, count in sorted(statuses.items()))
            + f"; conditional reads: {int(figures['conditional_304'])} answered 304, "
            f"{int(figures['conditional_renewed'])} 200 with a new ETag after a write, {missed} 200 with the same ETag"
        )
        self.stdout.write(
            f"errors: {errors} ({bad_answers} answers other than 200 and 304, {missed} missed 304s, socket errors "
            + ", ".join(f"{kind} {count}" for kind, count in socket_errors.items())
            + ")"
        )
        outcomes = sum((curator.outcomes for curator in curators), Counter())
        acknowledged = outcomes["created"] + outcomes["changed"]
        latencies = [latency for curator in curators for latency in curator.latencies]
        self.stdout.write(
            f"writes: {acknowledged} acknowledged ({outcomes['created']} created, {outcomes['changed']} changed), "
            f"{outcomes['failed']} failed, {outcomes['stale']} stale reads after a write; "
            f"{acknowledged / seconds:.1f} writes/s, latency p50 {percentile(latencies, 0.5) * 1000:.0f} ms, p95 "
            f"{percentile(latencies, 0.95) * 1000:.0f} ms"
        )
        for curator in curators:
            for failure in curator.failures[:10]:
                self.stdout.write(f"  {curator.name}: {failure}")
        served = requests + sum(curator.http.sent for curator in curators)
        self.stdout.write(
            "server CPU: "
            + "; ".join(
                f"{part} {seconds:.1f} s, {seconds / served * 1000:.1f} ms a request"
                + (f" ({served / seconds:.0f} req/s a core)" if part == "gunicorn" and seconds else "")
                for part, seconds in cpu.items()
            )
            + f" ({served} requests, the curators' included)"
            + (
                "; workers were replaced during the run (max_requests), and what a replaced one used after the first "
                "reading is missing"
                if replaced
                else ""
            )
        )
        self.stdout.write(f"lost writes: {len(lost)} (looked up through the ORM after the server stopped)")
        for pk, wanted, found in lost[:10]:
            self.stdout.write(f"  excerpt {pk}: wrote {wanted!r}, found {found!r}")
        self.stdout.write(f"load average after: {format_load(load_after)}")
        problems = {
            "errors": errors,
            "failed writes": outcomes["failed"],
            "stale reads after a write": outcomes["stale"],
            "lost writes": len(lost),
        }
        return ", ".join(f"{count} {name}" for name, count in problems.items() if count)


def lost_writes(curators):
    """(id, expected, found) of every acknowledged write the database does not hold, read through the ORM."""
    expected = {pk: content for curator in curators for pk, content in curator.expected.items()}
    possible = {pk: contents for curator in curators for pk, contents in curator.possible.items()}
    found = {
        excerpt.pk: (excerpt.text, tuple(sorted(topic.slug for topic in excerpt.topics.all())))
        for excerpt in Excerpt.objects.filter(pk__in=expected).prefetch_related("topics")
    }
    return [
        (pk, content, found.get(pk))
        for pk, content in sorted(expected.items())
        if found.get(pk) != content and found.get(pk) not in possible.get(pk, ())
    ]


def split(items, parts):
    """``items`` dealt into ``parts`` lists."""
    return [items[index::parts] for index in range(parts)]


def format_load(load):
    return " ".join(f"{value:.2f}" for value in load)
