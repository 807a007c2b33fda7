"""
Time the bulk downloads through gunicorn: two clients downloading the whole corpus dump at once, again and again,
while a third asks for page 1 of the excerpt list; then the same with two streamed ``?format=csv`` exports.
"""

import hashlib
import http.client
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse

from bench.servers import WITHOUT_RATE_LIMITS, loopback_production
from excerpts.api import dumps

PROBE_INTERVAL = 0.1
CURL_REPORT = "%{http_code} %{size_download} %{time_total}"


def get(port, path, sink=None):
    """GET path; return (status, headers, body length, sha256 hex of the body), streaming the body in blocks."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        digest, size = hashlib.sha256(), 0
        while block := response.read(1 << 20):
            digest.update(block)
            size += len(block)
        return response.status, dict(response.getheaders()), size, digest.hexdigest()
    finally:
        connection.close()


class Command(BaseCommand):
    help = (
        "Build the dumps (timed), start gunicorn (gthread) on the current database, and measure two concurrent "
        "whole-corpus dump downloads, then two concurrent streamed CSV exports, while probing page-1 list latency."
    )

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8130)
        parser.add_argument("--workers", type=int, default=2)
        parser.add_argument("--duration", type=float, default=20, help="Seconds of repeated dump downloads.")
        parser.add_argument("--no-exports", action="store_true", help="Skip the streamed-export scenario.")
        parser.add_argument("--rebuild", action="store_true", help="Build the dumps even if they are current.")

    def handle(self, *args, port, workers, duration, no_exports, rebuild, **options):
        started = time.monotonic()
        entries = dumps.build(force=rebuild)
        if entries is None:
            raise CommandError("Another dump build holds the lock.")
        self.stdout.write(
            f"dump build{'' if rebuild else ' (none if current)'}: {time.monotonic() - started:.1f} s, "
            + ", ".join(f"{entry['name']} {entry['bytes'] / 1e6:.1f} MB" for entry in entries[:2])
        )
        rows = entries[0]["rows"]
        config = Path(settings.BASE_DIR) / "gunicorn.conf.py"
        command = [sys.executable, "-m", "gunicorn", "project.wsgi:application", "-b", f"127.0.0.1:{port}"]
        command += ["-c", str(config)] if config.exists() else []
        command += ["-k", "gthread", "--threads", "4", "-w", str(workers), "--timeout", "30"]
        env = {
            # The environment may say otherwise.
            **loopback_production(),
            **WITHOUT_RATE_LIMITS,
            **os.environ,
            "EXCERPTS_DUMPS_AUTO_REBUILD": "false",
        }
        # gunicorn.conf.py logs each request to stdout: not into this report.
        server = subprocess.Popen(
            command, cwd=settings.BASE_DIR, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            self.wait_for(port, server)
            self.stdout.write(f"gunicorn: {' '.join(command[3:])}; {rows} excerpts")
            self.report_probes("page 1, idle", self.probe_while(port, lambda: time.sleep(5)))
            self.downloads(port, duration)
            if not no_exports:
                self.exports(port, rows)
        finally:
            server.terminate()
            server.wait(30)

    def wait_for(self, port, server):
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if server.poll() is not None:
                raise CommandError("gunicorn did not start.")
            try:
                if get(port, reverse("dump-list"))[0] == 200:
                    return
            except OSError:
                time.sleep(0.2)
        raise CommandError("gunicorn did not answer within 60 s.")

    def probe_while(self, port, load):
        """Run load() while probing page 1 of the list every PROBE_INTERVAL; the probes' milliseconds and failures."""
        done = threading.Event()
        timings, failures = [], []

        def probe():
            while not done.is_set():
                began = time.perf_counter()
                try:
                    status = get(port, reverse("excerpt-list"))[0]
                except OSError as error:
                    status = str(error)
                (timings if status == 200 else failures).append((time.perf_counter() - began) * 1000)
                time.sleep(PROBE_INTERVAL)

        prober = threading.Thread(target=probe)
        prober.start()
        try:
            load()
        finally:
            done.set()
            prober.join()
        return timings, failures

    def report_probes(self, what, probes):
        timings, failures = probes
        if not timings:
            self.stdout.write(f"{what}: no probe answered; {len(failures)} failed")
            return
        p95 = statistics.quantiles(timings, n=20)[-1] if len(timings) > 1 else timings[0]
        self.stdout.write(
            f"{what}: {len(timings)} probes, p50 {statistics.median(timings):.0f} ms, p95 {p95:.0f} ms, "
            f"max {max(timings):.0f} ms, {len(failures)} failed"
        )

    def downloads(self, port, duration):
        """
        Two clients, each downloading the CSV then the JSON Lines dump through their latest/ URLs, again and again
        until ``duration`` is up. The clients are curl processes, so that they take no time from the probes here.
        """
        newest = {entry["format"]: entry for entry in reversed(dumps.manifest())}
        for format, entry in newest.items():  # once, untimed: the bytes are those the manifest lists
            status, _headers, size, digest = get(port, reverse("dump-file", kwargs={"name": entry["name"]}))
            if (status, size, digest) != (200, entry["bytes"], entry["sha256"]):
                raise CommandError(f"The {format} dump downloaded does not match its manifest entry.")
        results = []

        def client():
            deadline = time.monotonic() + duration
            while time.monotonic() < deadline:
                for format in newest:
                    url = f"http://127.0.0.1:{port}" + reverse("dump-latest", kwargs={"format": format})
                    done = subprocess.run(
                        ["curl", "-sS", "-L", "-o", "/dev/null", "-w", CURL_REPORT, url],
                        capture_output=True,
                        text=True,
                    )
                    code, size, seconds = done.stdout.split()
                    results.append((format, int(code), int(size), float(seconds)))

        def load():
            clients = [threading.Thread(target=client) for _ in range(2)]
            for thread in clients:
                thread.start()
            for thread in clients:
                thread.join()

        probes = self.probe_while(port, load)
        for format, entry in newest.items():
            seconds = [elapsed for name, _code, _size, elapsed in results if name == format]
            whole = sum(
                1 for name, code, size, _ in results if name == format and (code, size) == (200, entry["bytes"])
            )
            self.stdout.write(
                f"dump download, {format}, {entry['bytes'] / 1e6:.1f} MB, 2 clients at once: {len(seconds)} downloads "
                f"({whole} whole), median {statistics.median(seconds):.2f} s, slowest {max(seconds):.2f} s, "
                f"{entry['bytes'] / 1e6 / statistics.median(seconds):.0f} MB/s each"
            )
        self.report_probes("page 1, during 2 concurrent dump downloads", probes)

    def exports(self, port, rows):
        """Two whole-corpus ?format=csv exports at once: their time, and whether each had every row."""
        results = []

        def export():
            began = time.perf_counter()
            status, headers, size, _digest = get(port, reverse("excerpt-list") + "?format=csv")
            results.append((status, headers.get("Excerpt-Count"), size, time.perf_counter() - began))

        def load():
            exporters = [threading.Thread(target=export) for _ in range(2)]
            for thread in exporters:
                thread.start()
            for thread in exporters:
                thread.join()

        probes = self.probe_while(port, load)
        for status, count, size, seconds in results:
            self.stdout.write(
                f"streamed CSV export: status {status}, Excerpt-Count {count} (of {rows}), {size / 1e6:.0f} MB, "
                f"{seconds:.1f} s"
            )
        self.report_probes("page 1, during 2 concurrent streamed CSV exports", probes)
