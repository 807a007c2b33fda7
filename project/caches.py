"""
The cache that the processes of one machine share when there is no Redis (see CACHES in settings.py).

Django's file cache keeps each entry in a file of its own, which every process sees, but its ``add`` and ``incr``
read and then write: two processes counting the same request at once may both write the same count, and a
rate limit or a login lockout would then let a few more through. Here both hold an exclusive lock on one file
beside the entries while they read and write, so counters are exact, as Redis's atomic commands make them,
and ``incr`` keeps the entry's expiry (Django's resets it to the default timeout).

``count`` is what the rate limits call on every request (excerpts/api/throttling.py): one more in a window's
counter, in one command on Redis (``CountingRedisCache``) and under one lock here, where the counter's file is
rewritten in place. Django's ``set`` writes a temporary file, renames it over the old one and lists the whole
directory to cull it; with ``add`` before ``incr`` that was two locks and about 0.8 ms of a 2.6 ms request on
this machine's disk.
"""

import fcntl
import os
import pickle
import time
import zlib
from contextlib import contextmanager

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.filebased import FileBasedCache
from django.core.cache.backends.redis import RedisCache

LOCK_FILE = "counters.lock"


class LockingFileBasedCache(FileBasedCache):
    """FileBasedCache whose ``add``, ``incr`` and ``decr`` are atomic across processes."""

    @contextmanager
    def exclusive(self):
        os.makedirs(self._dir, exist_ok=True)
        with open(os.path.join(self._dir, LOCK_FILE), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        with self.exclusive():
            return super().add(key, value, timeout, version)

    def incr(self, key, delta=1, version=None):
        # decr is incr of -delta. Django's own incr writes the new value with the default timeout; a window's
        # counter must keep the expiry it was added with.
        with self.exclusive():
            try:
                with open(self._key_to_file(key, version), "rb") as file:
                    expiry = pickle.load(file)
                    value = pickle.loads(zlib.decompress(file.read()))
            except FileNotFoundError:
                raise ValueError(f"Key {key!r} not found.") from None
            now = time.time()
            if expiry is not None and expiry <= now:
                raise ValueError(f"Key {key!r} not found.")
            value += delta
            self.set(key, value, None if expiry is None else expiry - now, version)
            return value

    def count(self, key, timeout, version=None):
        """
        One more in the counter ``key``; its new value. A counter that does not exist or has expired starts again
        at 1 with ``timeout`` seconds to live; one that exists keeps its expiry. The file is rewritten in place
        under the lock, so read a counter with ``count`` (or ``get`` when nothing counts it at the same time).
        """
        path = self._key_to_file(key, version)
        with self.exclusive():
            try:
                with open(path, "r+b") as file:
                    expiry = pickle.load(file)
                    if expiry is not None and expiry <= time.time():
                        expiry, value = self.get_backend_timeout(timeout), 1
                    else:
                        value = pickle.loads(zlib.decompress(file.read())) + 1
                    file.seek(0)
                    file.write(pickle.dumps(expiry, self.pickle_protocol))
                    file.write(zlib.compress(pickle.dumps(value, self.pickle_protocol)))
                    file.truncate()
                    return value
            except FileNotFoundError:
                self.set(key, 1, timeout, version)  # a new file, renamed into place whole
                return 1


class CountingRedisCache(RedisCache):
    """Django's Redis cache with ``count`` (see LockingFileBasedCache.count) in one round trip."""

    def count(self, key, timeout, version=None):
        key = self.make_and_validate_key(key, version=version)
        # SET NX then INCR, in one MULTI: the counter is created with its expiry if it is missing, then raised.
        # (Django stores an int as a plain Redis integer, so ``get`` reads it back too.)
        with self._cache.get_client(key, write=True).pipeline() as pipeline:
            pipeline.set(key, 0, ex=self.get_backend_timeout(timeout), nx=True)
            pipeline.incr(key)
            return pipeline.execute()[1]
