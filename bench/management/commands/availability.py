"""
`manage.py availability`: the attacks of issue 11 against the production setup, with an availability probe.

For a fixed time (60 s by default) these clients run at once, each on its own thread of this process:

- exporters loop full exports (`?format=csv`, `?format=jsonl`), reading every byte; a chunked body that ends
  without its last chunk is counted as cut off, never as complete;
- HEAD clients loop HEAD on the export, on one kept-alive connection each;
- slow clients send a request line, then one header line every 5 s, reconnecting whenever the server closes;
- login flooders post wrong passwords to the admin's login form (with its CSRF token, so each one is checked);
- the probe asks for the first page of excerpts every 0.5 s, and gives up on one after 5 s.

A probe fails when it gets no answer in time or one other than 200 and 429; a 429 is counted apart, as refused
(a rate limit answering is the server working). Attackers' answers are tallied by status; their 429s are refusals
too. Each client sends its own X-Forwarded-For address (from 198.51.100.0/24, a documentation range), so a
server that trusts this machine as its proxy tells them apart; otherwise they all share 127.0.0.1.

Without --url the command serves the current database (DATABASE_URL) itself the way the README's production
command does: collectstatic, then gunicorn with the repository's gunicorn.conf.py on a free loopback port, with
DJANGO_DEBUG=false, a random secret key, DJANGO_ALLOWED_HOSTS=127.0.0.1 and no HTTPS redirect unless the
environment says otherwise (this command speaks plain HTTP to gunicorn, as a TLS-terminating proxy does).
WEB_CONCURRENCY and GUNICORN_THREADS size it as they size production. The server is stopped at the end.
"""

import contextlib
import http.client
import os
import re
import secrets
import select
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import Counter
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from bench.servers import loopback_production
from excerpts.models import Excerpt

PROBE_PATH = "/api/v1/excerpts/?page_size=20"
EXPORT_PATHS = ["/api/v1/excerpts/?format=csv", "/api/v1/excerpts/?format=jsonl"]
LOGIN_PATH = "/admin/login/"
CHUNK = 64 * 1024
# How long an attacker's request may wait for the server before it counts as timed out.
ATTACK_TIMEOUT = 60
STARTUP_PATIENCE = 60


class Target:
    """Where the clients connect: host, port and the Host header to send."""

    def __init__(self, url):
        parts = urllib.parse.urlsplit(url)
        if parts.scheme != "http" or not parts.hostname:
            raise CommandError(f"--url must be an http:// URL with a host, not {url!r}.")
        self.url = url
        self.host = parts.hostname
        self.port = parts.port or 80
        self.host_header = parts.netloc

    def connection(self, timeout):
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)


class Client(threading.Thread):
    """One attacker or the probe: run() loops until ``stop`` is set, tallying each outcome in ``outcomes``."""

    name_prefix = "client"

    def __init__(self, target, stop, number, forwarded_for):
        super().__init__(name=f"{self.name_prefix}-{number}", daemon=True)
        self.target, self.stop, self.number = target, stop, number
        self.outcomes = Counter()
        self.headers = {
            "Host": target.host_header,
            "User-Agent": f"excerpts-availability/{self.name}",
            "X-Forwarded-For": forwarded_for,
        }
        self.conn = None

    def abort(self):
        """Cut the client's current connection, so a blocked read returns at the end of the run."""
        sock = self.current_socket()
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def current_socket(self):
        return self.conn.sock if self.conn is not None else None

    def new_connection(self, timeout=ATTACK_TIMEOUT):
        if self.conn is not None:
            self.conn.close()
        self.conn = self.target.connection(timeout)
        return self.conn

    def failure(self, error):
        """The outcome name of a connection error: its class, or 'stopped' when the run's end caused it."""
        return "unfinished at the end" if self.stop.is_set() else type(error).__name__


class Probe(Client):
    """GET the first page every ``interval`` seconds, waiting at most ``timeout`` for each answer."""

    name_prefix = "probe"

    def __init__(self, *args, interval, timeout, **kwargs):
        super().__init__(*args, **kwargs)
        self.interval, self.timeout = interval, timeout
        self.latencies = []

    def run(self):
        due = time.monotonic()
        while not self.stop.is_set():
            started = time.monotonic()
            try:
                conn = self.new_connection(self.timeout)
                conn.request("GET", PROBE_PATH, headers=self.headers)
                response = conn.getresponse()
                response.read()
                outcome = str(response.status)
            except (OSError, http.client.HTTPException) as error:
                outcome = self.failure(error)
            finally:
                self.conn.close()
            if outcome == "unfinished at the end":
                break
            self.latencies.append(time.monotonic() - started)
            self.outcomes[outcome] += 1
            due = max(due + self.interval, time.monotonic())
            self.stop.wait(due - time.monotonic())


class Exporter(Client):
    """Download a full export again and again, reading every byte; tally complete, cut-off and refused ones."""

    name_prefix = "export"

    def __init__(self, *args, path, **kwargs):
        super().__init__(*args, **kwargs)
        self.path = path
        self.received = 0

    def run(self):
        while not self.stop.is_set():
            path, hops = self.path, 0
            try:
                while True:
                    conn = self.new_connection()
                    conn.request("GET", path, headers=self.headers)
                    response = conn.getresponse()
                    location = response.getheader("Location")
                    if 300 <= response.status < 400 and location and hops < 3:
                        # A full export may be sent to a prepared download; follow it on this server.
                        response.read()
                        path, hops = urllib.parse.urljoin(path, location), hops + 1
                        continue
                    break
                if response.status != 200:
                    response.read()
                    self.outcomes[str(response.status)] += 1
                    if response.status == 429:
                        self.stop.wait(retry_after(response))
                    continue
                while chunk := response.read(CHUNK):
                    self.received += len(chunk)
                self.outcomes["200 complete"] += 1
            except http.client.IncompleteRead:
                self.outcomes["unfinished at the end" if self.stop.is_set() else "200 cut off"] += 1
            except (OSError, http.client.HTTPException) as error:
                self.outcomes[self.failure(error)] += 1
            finally:
                self.conn.close()


class Header(Client):
    """Send HEAD on the export in a loop on one kept-alive connection (a new one when the server closes it)."""

    name_prefix = "head"

    def run(self):
        conn = self.new_connection()
        while not self.stop.is_set():
            try:
                conn.request("HEAD", EXPORT_PATHS[0], headers=self.headers)
                response = conn.getresponse()
                response.read()
                self.outcomes[str(response.status)] += 1
                if response.will_close:
                    conn = self.new_connection()
                if response.status == 429:
                    self.stop.wait(retry_after(response))
            except (OSError, http.client.HTTPException) as error:
                self.outcomes[self.failure(error)] += 1
                conn = self.new_connection()
        self.conn.close()


class SlowClient(Client):
    """Trickle one header line every ``pause`` seconds, never ending the request; reconnect when cut off."""

    name_prefix = "slow"

    def __init__(self, *args, pause, **kwargs):
        super().__init__(*args, **kwargs)
        self.pause = pause
        self.lines = 0
        self.longest = 0.0
        self.sock = None

    def current_socket(self):
        return self.sock

    def run(self):
        while not self.stop.is_set():
            opened = time.monotonic()
            self.sock = None
            try:
                self.sock = socket.create_connection((self.target.host, self.target.port), timeout=ATTACK_TIMEOUT)
                self.send(f"GET {PROBE_PATH} HTTP/1.1\r\nHost: {self.target.host_header}\r\n")
                # Readable means the server answered or closed (or the run ended and abort() shut the socket).
                while not select.select([self.sock], [], [], self.pause)[0] and not self.stop.is_set():
                    self.send(f"X-Slow-{self.lines}: {'x' * 20}\r\n")
                if self.stop.is_set():
                    self.outcomes["held to the end"] += 1
                else:
                    self.outcomes[self.answer()] += 1
            except OSError as error:
                self.outcomes[self.failure(error)] += 1
            finally:
                self.longest = max(self.longest, time.monotonic() - opened)
                if self.sock is not None:
                    self.sock.close()

    def send(self, line):
        self.sock.sendall(line.encode())
        self.lines += 1

    def answer(self):
        """What the server said before closing: 'closed with 408' or 'closed without an answer'."""
        try:
            status_line = self.sock.recv(64).split(b"\r\n", 1)[0].decode("latin-1")
        except OSError:
            status_line = ""
        status = re.match(r"HTTP/1\.[01] (\d{3})", status_line)
        return f"closed with {status.group(1)}" if status else "closed without an answer"


class LoginFlooder(Client):
    """Post wrong passwords to the admin's login form as fast as the answers come, with a valid CSRF token."""

    name_prefix = "login"

    def run(self):
        while not self.stop.is_set():
            try:
                cookie, token = self.login_form()
                if token is None:
                    continue
                conn = self.new_connection()
                while not self.stop.is_set():
                    body = urllib.parse.urlencode(
                        {
                            "csrfmiddlewaretoken": token,
                            "username": "admin",
                            "password": secrets.token_urlsafe(12),
                            "next": "/admin/",
                        }
                    )
                    headers = {
                        **self.headers,
                        "Cookie": cookie,
                        "Content-Type": "application/x-www-form-urlencoded",
                    }
                    conn.request("POST", LOGIN_PATH, body=body, headers=headers)
                    response = conn.getresponse()
                    response.read()
                    self.outcomes[str(response.status)] += 1
                    if response.status == 429:
                        self.stop.wait(retry_after(response))
                    if response.will_close:
                        conn = self.new_connection()
            except (OSError, http.client.HTTPException) as error:
                self.outcomes[self.failure(error)] += 1
            finally:
                if self.conn is not None:
                    self.conn.close()

    def login_form(self):
        """The CSRF cookie and form token of a fresh login page, or (None, None) after tallying its refusal."""
        conn = self.new_connection()
        conn.request("GET", LOGIN_PATH, headers=self.headers)
        response = conn.getresponse()
        page = response.read().decode("utf-8", "replace")
        cookie = re.search(r"(csrftoken=[^;]+)", response.getheader("Set-Cookie") or "")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        if response.status != 200 or not cookie or not token:
            self.outcomes[f"login page {response.status}"] += 1
            self.stop.wait(1)
            return None, None
        return cookie.group(1), token.group(1)


def retry_after(response):
    """Seconds to wait after a 429: its Retry-After in seconds, at most 5; 1 when it gives none or a date."""
    value = response.getheader("Retry-After") or ""
    return min(int(value), 5) if value.isdigit() else 1


def percentile(values, fraction):
    """The value below which ``fraction`` of ``values`` lie (nearest rank); 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


def tally(counter):
    """'200 x31, 429 x4', most frequent first; 'none' when empty."""
    return ", ".join(f"{outcome} x{count}" for outcome, count in counter.most_common()) or "none"


class Command(BaseCommand):
    help = (
        "Attack a server as issue 11 describes (full exports, HEADs on the export, slow clients, an admin login "
        "flood) for a fixed time while probing the first page of excerpts; print failed probes, probe latency and "
        "each attacker's outcomes. Without --url, serve the current database with gunicorn and the repository's "
        "gunicorn.conf.py for the run."
    )

    def add_arguments(self, parser):
        parser.add_argument("--url", help="Attack this server (http://host:port) instead of starting gunicorn.")
        parser.add_argument("--duration", type=float, default=60, help="Seconds the attack lasts (default 60).")
        parser.add_argument("--exporters", type=int, default=2, help="Clients looping full exports (default 2).")
        parser.add_argument("--heads", type=int, default=2, help="Clients looping HEAD on the export (default 2).")
        parser.add_argument("--slow", type=int, default=2, help="Clients trickling header lines (default 2).")
        parser.add_argument("--slow-pause", type=float, default=5, help="Seconds between a slow client's lines.")
        parser.add_argument("--logins", type=int, default=4, help="Clients flooding the admin login (default 4).")
        parser.add_argument("--probe-interval", type=float, default=0.5, help="Seconds between probes (0.5).")
        parser.add_argument("--probe-timeout", type=float, default=5, help="Seconds a probe waits (default 5).")

    def handle(self, *args, url, duration, **options):
        if duration <= 0:
            raise CommandError("--duration must be positive.")
        if url:
            self.attack(Target(url), duration, options, server=f"{url}")
            return
        with GunicornServer() as server:
            self.attack(Target(server.url), duration, options, server=server.describe())

    def attack(self, target, duration, options, server):
        stop = threading.Event()
        addresses = (f"198.51.100.{number}" for number in range(1, 255))
        common = {"target": target, "stop": stop}

        def clients(kind, count, **extra):
            return [kind(number=n, forwarded_for=next(addresses), **common, **extra) for n in range(count)]

        probe = clients(Probe, 1, interval=options["probe_interval"], timeout=options["probe_timeout"])[0]
        groups = {
            "export csv": clients(Exporter, (options["exporters"] + 1) // 2, path=EXPORT_PATHS[0]),
            "export jsonl": clients(Exporter, options["exporters"] // 2, path=EXPORT_PATHS[1]),
            "head on export": clients(Header, options["heads"]),
            "slow headers": clients(SlowClient, options["slow"], pause=options["slow_pause"]),
            "admin login": clients(LoginFlooder, options["logins"]),
        }
        everyone = [probe, *(client for group in groups.values() for client in group)]
        self.stdout.write(f"availability: {duration:g} s against {server}")
        started = time.monotonic()
        for client in everyone:
            client.start()
        stop.wait(duration)
        stop.set()
        for client in everyone:
            client.abort()
        for client in everyone:
            client.join(timeout=ATTACK_TIMEOUT)
        elapsed = time.monotonic() - started
        self.report(probe, groups, elapsed)

    def report(self, probe, groups, elapsed):
        sent = sum(probe.outcomes.values())
        refused = probe.outcomes["429"]
        failed = sent - probe.outcomes["200"] - refused
        latencies = probe.latencies
        self.stdout.write(
            f"probes: {sent} sent, {failed} failed, {refused} refused (429) in {elapsed:.0f} s; latency "
            f"p50 {percentile(latencies, 0.5):.3f} s, p95 {percentile(latencies, 0.95):.3f} s, "
            f"max {max(latencies, default=0):.3f} s; {tally(probe.outcomes)}"
        )
        for label, group in groups.items():
            outcomes = sum((client.outcomes for client in group), Counter())
            line = f"{label}: {len(group)} clients; {tally(outcomes)}"
            if group and isinstance(group[0], Exporter):
                line += f"; {sum(client.received for client in group) / 1e6:.1f} MB received"
            if group and isinstance(group[0], SlowClient):
                line += (
                    f"; {sum(client.lines for client in group)} lines sent, longest connection "
                    f"{max(client.longest for client in group):.0f} s"
                )
            self.stdout.write(line)
        if failed:
            self.stdout.write(f"FAILED: {failed} of {sent} probes got no answer or an error.")


class GunicornServer:
    """gunicorn with the repository's gunicorn.conf.py on a free loopback port, for the length of a `with`."""

    def __init__(self):
        self.root = Path(settings.BASE_DIR)
        with socket.socket() as free:
            free.bind(("127.0.0.1", 0))
            self.port = free.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "GUNICORN_BIND": f"127.0.0.1:{self.port}"}
        defaults = {
            **loopback_production(),
            # This command stands where nginx would (deploy/nginx.conf): each client's X-Forwarded-For names it, so
            # each is rate-limited on its own, as behind the documented proxy.
            "DJANGO_TRUSTED_PROXIES": "127.0.0.1",
        }
        for name, value in defaults.items():
            self.env.setdefault(name, value)
        self.log = Path(tempfile.mkdtemp(prefix="availability-")) / "gunicorn.log"
        self.process = None

    def __enter__(self):
        self.manage("collectstatic", "--noinput", "--verbosity", "0")
        self.config = self.gunicorn_config()
        with self.log.open("wb") as log:
            # Its own session, so the workers are stopped with the master whatever happens to it.
            self.process = subprocess.Popen(
                [self.gunicorn()],
                cwd=self.root,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.wait_until_ready()
        return self

    def __exit__(self, *exc_info):
        if self.process.poll() is None:
            # QUIT, not TERM: the run is over, and exports a HEAD started may still be running in the workers.
            os.killpg(self.process.pid, signal.SIGQUIT)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()

    def gunicorn(self):
        return str(Path(sys.executable).with_name("gunicorn"))

    def manage(self, *args):
        done = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=self.root, env=self.env, capture_output=True, text=True
        )
        if done.returncode:
            raise CommandError(f"manage.py {' '.join(args)} failed:\n{done.stderr}")

    def gunicorn_config(self):
        """The settings gunicorn will run with, as ``gunicorn --print-config`` gives them in this environment."""
        done = subprocess.run(
            [self.gunicorn(), "--print-config"], cwd=self.root, env=self.env, capture_output=True, text=True
        )
        return dict(re.findall(r"^(\w+) += (.*)$", done.stdout, re.MULTILINE))

    def wait_until_ready(self):
        deadline = time.monotonic() + STARTUP_PATIENCE
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", PROBE_PATH, headers={"Host": "127.0.0.1"})
                if conn.getresponse().status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        self.__exit__(None, None, None)
        raise CommandError(f"gunicorn did not answer {PROBE_PATH} with 200; its log:\n{self.read_log()}")

    def read_log(self):
        return self.log.read_text(errors="replace")[-5000:]

    def describe(self):
        config = self.config
        database = settings.DATABASES["default"]
        return (
            f"{self.url}, gunicorn {config.get('worker_class')} {config.get('workers')} workers x "
            f"{config.get('threads')} threads, timeout {config.get('timeout')} s, "
            f"DJANGO_DEBUG={self.env['DJANGO_DEBUG']}; {database['ENGINE'].rsplit('.', 1)[-1]} {database['NAME']}, "
            f"{Excerpt.objects.count()} excerpts (gunicorn log {self.log})"
        )
