"""
Throughput of conditional reads against full ones, through gunicorn as production serves the API.

Starts gunicorn on the current database (DATABASE_URL, or the development SQLite file) with DEBUG off, then for
each URL: client threads on keep-alive connections send the plain GET for ``--seconds`` in all, and the same GET
with the ETag of the first answer in If-None-Match for as long, the two alternating in five rounds. Prints
requests per second of each and their ratio.
"""

import http.client
import os
import subprocess
import sys
import threading
import time
from collections import Counter

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from bench.servers import WITHOUT_RATE_LIMITS, loopback_production
from excerpts.models import Excerpt

# What a client sends: browsers and most HTTP libraries accept gzip.
HEADERS = {"Accept": "application/json", "Accept-Encoding": "gzip"}
ROUNDS = 5
DEFAULT_URLS = [
    "/api/v1/excerpts/",
    "/api/v1/excerpts/?ordering=-date&page_size=100",
    "/api/v1/excerpts/facets/?language=en",
]


def get(port, url, headers):
    """One GET on a fresh connection: (status, headers)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", url, headers=headers)
        response = conn.getresponse()
        response.read()
        return response.status, response
    finally:
        conn.close()


def hammer(port, url, headers, seconds, threads):
    """Statuses of the GETs ``threads`` clients got through for ``seconds``, each on one keep-alive connection."""
    deadline = time.monotonic() + seconds
    statuses = Counter()
    lock = threading.Lock()

    def client():
        mine = Counter()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while time.monotonic() < deadline:
            try:
                conn.request("GET", url, headers=headers)
                response = conn.getresponse()
                response.read()
                mine[response.status] += 1
            except (http.client.HTTPException, OSError) as error:
                mine[type(error).__name__] += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.close()
        with lock:
            statuses.update(mine)

    workers = [threading.Thread(target=client) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return statuses


class Command(BaseCommand):
    help = (
        "Serve the current database with gunicorn (DEBUG off) and measure, for each URL, requests per second of "
        "full answers against 304s to If-None-Match, with concurrent client threads. Prints both and the ratio."
    )

    def add_arguments(self, parser):
        parser.add_argument("urls", nargs="*", default=DEFAULT_URLS, help="Paths to read (default: %(default)s).")
        parser.add_argument("--port", type=int, default=8160)
        parser.add_argument("--seconds", type=float, default=10.0, help="Seconds of each phase, per URL.")
        parser.add_argument("--threads", type=int, default=4, help="Concurrent client threads.")
        parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes (4 threads each).")
        parser.add_argument(
            "--env",
            action="append",
            default=[],
            metavar="NAME=VALUE",
            help="An extra environment variable for the server (the rate limits are lifted unless one sets them).",
        )

    def handle(self, *args, urls, port, seconds, threads, workers, env, **options):
        production = loopback_production()
        environment = {
            **os.environ,
            **production,
            "DJANGO_SECRET_KEY": os.environ.get("DJANGO_SECRET_KEY") or production["DJANGO_SECRET_KEY"],
            **WITHOUT_RATE_LIMITS,
            **dict(pair.split("=", 1) for pair in env),
        }
        gunicorn = os.path.join(os.path.dirname(sys.executable), "gunicorn")
        command = [gunicorn, "project.wsgi:application", "-k", "gthread", "-w", str(workers), "--threads", "4"]
        command += ["-b", f"127.0.0.1:{port}", "--log-level", "warning"]
        total = Excerpt.objects.count()
        self.stdout.write(
            f"{connection.vendor} ({settings.DATABASES['default']['NAME']}), {total} excerpts; gunicorn gthread "
            f"{workers} workers x 4 threads; {threads} client threads, {seconds:g} s per phase, Accept-Encoding gzip"
        )
        server = subprocess.Popen(command, cwd=settings.BASE_DIR, env=environment, start_new_session=True)
        try:
            self.wait_until_serving(server, port, urls[0])
            for url in urls:
                self.measure(port, url, seconds, threads)
        finally:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()

    def wait_until_serving(self, server, port, url):
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if server.poll() is not None:
                raise CommandError(f"gunicorn exited with status {server.returncode}.")
            try:
                get(port, url, HEADERS)
                return
            except OSError:
                time.sleep(0.2)
        raise CommandError("gunicorn did not answer within 30 s.")

    def measure(self, port, url, seconds, threads):
        """Requests per second of full answers and of 304s on ``url``, by name ("full", "304"), also printed."""
        status, first = get(port, url, HEADERS)
        etag = first.getheader("ETag")
        if status != 200 or not etag:
            raise CommandError(f"{url}: expected a 200 with an ETag, got {status} (ETag {etag!r}).")
        if get(port, url, {**HEADERS, "If-None-Match": etag})[0] != 304:
            raise CommandError(f"{url}: the ETag {etag} did not get a 304.")
        phases = {"full": (HEADERS, 200), "304": ({**HEADERS, "If-None-Match": etag}, 304)}
        counts = Counter()
        # The phases alternate in short rounds, so that a change in the machine's load falls on both alike.
        for _ in range(ROUNDS):
            for label, (headers, expected) in phases.items():
                statuses = hammer(port, url, headers, seconds / ROUNDS, threads)
                if set(statuses) != {expected}:
                    raise CommandError(f"{url} ({label}): expected only {expected}s, got {dict(statuses)}.")
                counts[label] += statuses[expected]
        rates = {label: counts[label] / seconds for label in phases}
        ratio = rates["304"] / rates["full"]
        self.stdout.write(f"{url}: full {rates['full']:.0f} req/s, 304 {rates['304']:.0f} req/s, ratio {ratio:.1f}x")
        return rates
