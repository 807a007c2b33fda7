"""
What the tests that start real servers (gunicorn, nginx, a WSGI server, Redis's clients) share: a free port, a
poll with a deadline, whether the machine's Redis answers, and the rule for a missing component (a skip, or a
failure where .ci/run requires it).
"""

import os
import socket
import time

import pytest

REDIS_ADDRESS = ("127.0.0.1", 6379)


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def until(condition, what, patience, interval=0.1):
    """Poll condition() until it returns something true, and return that; fail after ``patience`` seconds."""
    deadline = time.monotonic() + patience
    while not (result := condition()):
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(interval)
    return result


def redis_reachable():
    """Whether the machine's Redis (127.0.0.1:6379) accepts a connection."""
    try:
        with socket.create_connection(REDIS_ADDRESS, timeout=1):
            return True
    except OSError:
        return False


def required(variable, reason):
    """A component is missing: fail if CI requires it (``variable`` is set, as .ci/run sets it), skip otherwise."""
    if os.environ.get(variable):
        pytest.fail(f"{reason} and {variable} is set")
    pytest.skip(reason)
