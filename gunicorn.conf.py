"""
Production serving: gunicorn reads this file from the directory it starts in, so `.venv/bin/gunicorn` from the
repository root serves the API with it (see README, "Serving in production"). Any setting can still be
overridden on the command line (`--timeout 10`); the environment variables below cover what differs per host.

What it defends against, and what it does not: every request-line and header limit below is enforced before
Django runs, a worker that dies or hangs is replaced, and a long streaming export is not cut off by `timeout`.
A client that sends its headers slowly still holds one thread for as long as it keeps trickling (gunicorn has
no time limit on reading a request), so enough slow clients starve the server: `threads` of them starve a
worker, and since the kernel hands a new connection to whichever worker accepts first, not evenly (tests saw
70 of 86 go to one of two), fewer than workers x threads already leave some requests waiting. On a public
address put the buffering proxy of deploy/nginx.conf in front.
"""

import os

# The Django project's WSGI callable, so the command needs no argument.
wsgi_app = "project.wsgi:application"

# Loopback by default: the public side belongs to the proxy (deploy/nginx.conf). GUNICORN_BIND takes any of
# gunicorn's forms, comma-separated (`0.0.0.0:8000`, `unix:/run/excerpts.sock`).
bind = [address.strip() for address in os.environ.get("GUNICORN_BIND", "127.0.0.1:8000").split(",") if address.strip()]

# Threads, not sync workers. In gunicorn 27 the gthread worker's main thread accepts connections, polls the idle
# ones and updates the heartbeat while requests run in a thread pool; so:
# - a long request (a full export streams for minutes) does not silence the heartbeat and is not killed by
#   `timeout`; only a worker whose main loop is stuck is;
# - a connection that sends nothing for 5 s is parked in the poller (closed after `keepalive`), not kept on a
#   thread; kept-alive connections between requests hold no thread either.
# A request being read (a client trickling header lines) or a response being written to a slow reader does hold
# its thread until it ends: that is what `threads` must be sized for, and why a public server wants the proxy.
worker_class = "gthread"

# Processes: one per core is the usual start for a CPU-bound Django app; WEB_CONCURRENCY is the conventional
# name platforms set.
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))

# Threads per worker. The GIL lets one thread of a process run Python at a time, so threads add no throughput
# here; they are how many requests a worker holds at once (exports streaming, slow clients, requests waiting on
# the database). Measured with `manage.py availability` (two exports, two HEADs, two slow clients, four login
# flooders; 100,000 excerpts on SQLite): with 4 threads 7 of 15 probes failed, with 8 none (max 2.8 s), with 16
# none; 16 leaves room for twice that. Each thread may keep a database connection open (DATABASE_CONN_MAX_AGE),
# so workers x threads must stay below PostgreSQL's max_connections (100 by default).
threads = int(os.environ.get("GUNICORN_THREADS", "16"))

# Connections a worker keeps at once, busy or idle (kept-alive or waiting for their first byte). It bounds what
# an idle-connection flood costs a worker (a file descriptor and a little memory each, no thread).
worker_connections = 1000

# The master kills and replaces a worker whose heartbeat stops for this long: a hung process, not a long request
# (see worker_class). gunicorn's default, named here because the README's limits refer to it.
timeout = 30

# After a HUP (reload) or TERM, old workers stop accepting and get this long to finish what they are serving; an
# export still streaming after it is cut off, which its client sees as a truncated chunked body, never a
# complete one.
graceful_timeout = 30

# Seconds an idle kept-alive connection (or a new one that sent nothing) waits for its next request before it
# is closed. Parked connections hold no thread, so a few seconds costs little and saves reconnects.
keepalive = 5

# Request limits enforced by gunicorn before any Django code runs. The longest URL the API needs is a list with
# many repeated filters; 4094 (gunicorn's default) is ample and a longer line is a 414. At most 50 header
# fields (browsers send about 15-20, proxies add a few) of at most 8190 bytes each; more is a 431.
limit_request_line = 4094
limit_request_fields = 50
limit_request_field_size = 8190

# Recycle each worker after about this many requests, gracefully (it finishes its requests while a fresh one
# takes over), so slow memory growth (caches, fragmentation after large exports) never accumulates. The
# jitter spreads the restarts, so both workers never restart at once. A fresh worker imports the project again
# (about 1 s of CPU here), which every request since the last restart pays its share of: after 10,000 that was
# 0.1 ms each, a fifth of a repeated read (`manage.py benchmark --throughput`); after 100,000 it is 0.01 ms.
max_requests = 100_000
max_requests_jitter = 10_000

# The heartbeat is a file the worker touches every second; on a disk-backed /tmp a stalled disk would stall
# the heartbeat and get healthy workers killed. /dev/shm is memory.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None

# Addresses whose X-Forwarded-Proto gunicorn believes (the proxy's); the same list as gunicorn's own default,
# read from the same environment variable.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# Access log and errors to stdout/stderr, for the service manager's journal or the container's log.
accesslog = "-"
errorlog = "-"
# The usual combined format plus the time taken, in milliseconds (%(M)s), to spot slow requests in the log.
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(M)sms'

# gunicorn 27 opens a control socket at $HOME/.gunicorn/gunicorn.ctl by default; a second instance on the same
# host (a staging copy, the tests) would take it over. Signals (HUP, TERM, TTIN/TTOU) do everything it offers.
control_socket_disable = True
