"""
The file cache that the processes of one machine share without Redis (project/caches.py): counters that concurrent
processes cannot lose, and that keep their expiry.
"""

import os
import subprocess
import sys
import time
from pathlib import Path

from project.caches import LockingFileBasedCache

ROOT = Path(__file__).resolve().parent.parent
PROCESSES, COUNTS = 4, 400
# Each process waits for the go file, so that all of them count at the same time.
COUNT = f"""
import os, time, django
django.setup()
from django.core.cache import cache
while not os.path.exists(os.environ["GO"]):
    time.sleep(0.01)
for _ in range({COUNTS}):
    if not cache.add("hits", 1, 600):
        cache.incr("hits")
"""


def test_processes_counting_at_the_same_time_lose_no_count(tmp_path):
    go = tmp_path / "go"
    env = {
        **{key: value for key, value in os.environ.items() if not key.startswith("DJANGO_") and key != "REDIS_URL"},
        "DJANGO_SETTINGS_MODULE": "project.settings",
        "DJANGO_DEBUG": "true",
        "DJANGO_CACHE_DIR": str(tmp_path / "cache"),
        "GO": str(go),
    }
    counters = [subprocess.Popen([sys.executable, "-c", COUNT], cwd=ROOT, env=env) for _ in range(PROCESSES)]
    try:
        time.sleep(2)  # let them start up
        go.touch()
        assert [counter.wait(timeout=120) for counter in counters] == [0] * PROCESSES
    finally:
        for counter in counters:
            if counter.poll() is None:
                counter.kill()
                counter.wait()
    cache = LockingFileBasedCache(str(tmp_path / "cache"), {"KEY_PREFIX": "excerpts"})
    assert cache.get("hits") == PROCESSES * COUNTS


def test_a_counter_keeps_the_expiry_it_was_added_with(tmp_path):
    cache = LockingFileBasedCache(str(tmp_path), {})
    cache.add("window", 1, 1)
    assert (cache.incr("window"), cache.incr("window", 5), cache.decr("window")) == (2, 7, 6)
    time.sleep(1.1)
    assert cache.get("window") is None
