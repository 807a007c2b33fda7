"""
The cache that the processes of one machine share when there is no Redis (see CACHES in settings.py).

Django's file cache keeps each entry in a file of its own, which every process sees, but its ``add`` and ``incr``
read and then write: two processes counting the same request at once may both write the same count, and a
rate limit or a login lockout would then let a few more through. Here both hold an exclusive lock on one file
beside the entries while they read and write, so counters are exact, as Redis's atomic commands make them,
and ``incr`` keeps the entry's expiry (Django's resets it to the default timeout).
"""

import fcntl
import os
import pickle
import time
import zlib
from contextlib import contextmanager

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.filebased import FileBasedCache

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
