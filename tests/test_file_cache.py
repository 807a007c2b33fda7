"""
The caches' counters (project/caches.py): on the file cache that the processes of one machine share without Redis,
and on Redis, counts that concurrent processes cannot lose, and that keep their expiry.
"""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from project.caches import CountingRedisCache, LockingFileBasedCache
from tests.servers import redis_reachable, required

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
    if os.environ["METHOD"] == "count":
        cache.count("hits", 600)
    elif not cache.add("hits", 1, 600):
        cache.incr("hits")
"""


@pytest.mark.parametrize("method", ["count", "add and incr"])
def test_processes_counting_at_the_same_time_lose_no_count(tmp_path, method):
    go = tmp_path / "go"
    env = {
        **{key: value for key, value in os.environ.items() if not key.startswith("DJANGO_") and key != "REDIS_URL"},
        "DJANGO_SETTINGS_MODULE": "project.settings",
        "DJANGO_DEBUG": "true",
        "DJANGO_CACHE_DIR": str(tmp_path / "cache"),
        "GO": str(go),
        "METHOD": method,
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


def test_count_starts_a_counter_raises_it_in_place_and_starts_again_once_it_has_expired(tmp_path):
    cache = LockingFileBasedCache(str(tmp_path), {})
    assert [cache.count("window", 1) for _ in range(3)] == [1, 2, 3]
    assert cache.get("window") == 3
    counter = next(tmp_path.glob("*.djcache"))
    inode = counter.stat().st_ino
    assert cache.count("window", 600) == 4  # the expiry it was created with is kept
    assert counter.stat().st_ino == inode  # rewritten, not replaced
    time.sleep(1.1)
    assert [cache.count("window", 600), cache.count("window", 600)] == [1, 2]  # expired: starts again, in place
    assert counter.stat().st_ino == inode
    assert cache.get("window") == 2
    counter.unlink()
    assert cache.count("window", 600) == 1


def test_a_counter_on_redis_is_created_with_its_expiry_and_raised_in_one_round_trip():
    if not redis_reachable():
        required("EXCERPTS_REQUIRE_REDIS", "no Redis at 127.0.0.1:6379")
    cache = CountingRedisCache("redis://127.0.0.1:6379/5", {"KEY_PREFIX": f"count-test-{os.getpid()}"})
    cache.delete("window")
    try:
        assert [cache.count("window", 60) for _ in range(3)] == [1, 2, 3]
        assert cache.get("window") == 3
        client = cache._cache.get_client("window")
        ttl = client.ttl(cache.make_and_validate_key("window"))
        assert 58 <= ttl <= 60
        client.expire(cache.make_and_validate_key("window"), 1)
        time.sleep(1.1)
        assert cache.count("window", 60) == 1
    finally:
        cache.delete("window")
