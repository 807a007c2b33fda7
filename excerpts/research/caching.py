"""
Results that cost a scan of the corpus (facet counts, a list's total), cached until the data changes.

A cached value is stored under the *data version*, a value that changes with every committed write to
excerpts, their topics, speakers, sources, topics or events, whatever the write path: database triggers
keep it (``excerpts.db.data_version``). Reading it costs one small query; a stale entry is never read
again once the version has moved on, and the cache's timeout (``limits.CACHE_TIMEOUT``) clears it.

The cache is Django's default cache, which every process shares (Redis at ``REDIS_URL``, or files on one
machine: see project/settings.py); because the version comes from the database, several processes or servers
never disagree. A cache that fails (Redis down, a full disk) costs the computation, never the answer.

A process may also keep values in its own memory (``ProcessMemo``: whole answers, excerpts' representations) under
keys that name the version: nothing clears them but a bound on how much is kept, since a key fixes its value.
"""

import hashlib
import logging
import threading
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import cache
from django.db import connection as default_connection
from django.db import connections

from ..db.data_version import READ as READ_VERSION
from ..db.routers import read_database
from . import limits

T = TypeVar("T")

logger = logging.getLogger(__name__)


def cache_errors() -> tuple[type[Exception], ...]:
    """The errors a failing cache raises: its disk's (the file cache) or its server's (Redis)."""
    try:
        from redis.exceptions import RedisError
    except ImportError:  # pragma: no cover - redis is in requirements.txt
        return (OSError,)
    return (OSError, RedisError)


CACHE_ERRORS = cache_errors()

# Inside read_once(): an empty list until the version is read, then the version read.
_read: ContextVar[list[int | str | None] | None] = ContextVar("excerpts_data_version_read", default=None)


@contextmanager
def read_once() -> Iterator[None]:
    """
    Read the data version at most once inside the block: one read request's ETag (api/conditional.py) and the
    results it takes from the cache stand for the same version, at the cost of one query. Never around a write.
    Inside another such block it is that block's (the request's) one read.
    """
    if _read.get() is not None:
        yield
        return
    token = _read.set([])
    try:
        yield
    finally:
        _read.reset(token)


def data_version() -> int | str | None:
    """The current data version, or None on a database without one (nothing is cached then)."""
    read = _read.get()
    if read:
        return read[0]
    sql = READ_VERSION.get(default_connection.vendor)
    version = None
    if sql is not None:
        with connections[read_database()].cursor() as cursor:
            cursor.execute(sql)
            version = cursor.fetchone()[0]
    if read is not None:
        read.append(version)
    return version


def cached(name: str, parts: object, compute: Callable[[], T]) -> T:
    """
    ``compute()``, or its value cached for the same ``name`` and ``parts`` at the current data version.

    ``parts`` identify the question exactly (the endpoint, the caller's role, every query parameter).
    """
    version = data_version()
    if version is None:
        return compute()
    digest = hashlib.sha256(repr(parts).encode()).hexdigest()
    key = f"excerpts:{name}:{version}:{digest}"
    try:
        value = cache.get(key)
    except CACHE_ERRORS:
        logger.exception("The cache failed; %s is computed without it.", name)
        return compute()
    if value is None:
        value = compute()
        try:
            cache.set(key, value, limits.CACHE_TIMEOUT)
        except CACHE_ERRORS:
            logger.exception("The cache failed; %s is not kept.", name)
    return value


class ProcessMemo:
    """
    Values this process keeps under keys that fix them, each key naming the data version its value was read at, so
    a value is never stale while its key can be asked for: the oldest go first once their weights (``weight``, 1
    each by default) would pass ``limit``, a number or the name of a setting holding one (0 keeps none). Readers
    share what it returns, so a value kept is never changed. ``ProcessMemo.every`` lists them all.
    """

    every: list["ProcessMemo"] = []

    def __init__(self, limit: str | int, weight: Callable[[Any], int] | None = None):
        self.limit = limit
        self.weight = weight or (lambda value: 1)
        self.entries: dict[Hashable, Any] = {}
        self.total = 0
        self.lock = threading.Lock()  # a gthread worker's threads share it
        ProcessMemo.every.append(self)

    def get(self, key: Hashable, default: Any = None) -> Any:
        return self.entries.get(key, default)

    def put(self, key: Hashable, value: Any) -> None:
        limit = self.limit if isinstance(self.limit, int) else getattr(settings, self.limit)
        weight = self.weight(value)
        if not limit or weight > limit:
            return
        with self.lock:
            if key in self.entries:
                return  # another thread kept it meanwhile
            while self.entries and self.total + weight > limit:
                self.total -= self.weight(self.entries.pop(next(iter(self.entries))))  # a dict keeps insertion order
            self.entries[key] = value
            self.total += weight

    def kept(self, key: tuple, compute: Callable[[], T]) -> T:
        """
        ``compute()``, kept under ``key`` and the current data version; computed each time on a database without
        one. Nothing is kept when ``compute()`` raises.
        """
        version = data_version()
        if version is None:
            return compute()
        key = (*key, version)
        value = self.get(key, _MISSING)
        if value is _MISSING:
            value = compute()
            self.put(key, value)
        return value

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()
            self.total = 0

    @classmethod
    def clear_every(cls) -> None:
        """Empty every memo: the process then finds nothing kept, as after a write moves the data version on."""
        for memo in cls.every:
            memo.clear()


_MISSING = object()
