"""
Seeded random samples of a filtered excerpt queryset: the same seed and data give the same excerpts.

A set of at most ``limits.SAMPLE_ALL`` matches is read whole and sampled exactly. A larger one is
sampled from ``limits.STRETCHES`` stretches of consecutive matches (by id) read from seeded random
points in its id range, so a draw reads the same number of rows at any size and never sorts the set.
Where the stretches are read from depends on how dense the set is, never what they hold: most sets
from the table, walked in id order; a sparse one (a source, a speaker) and a topic's from the list of its ids,
read once, because walking the table between two of its matches would read thousands of rows (and a topic's list
is read from its start up to each point). On SQLite a topic's set dense among the newest excerpts, or too large to
list, is walked with each excerpt's links probed (``facets.tested_per_excerpt``): SQLite builds a topic's whole
list for every statement that reads it as a list.
"""

import bisect
import random

from django.db import connection as default_connection
from django.db.models import QuerySet

from ..models import Excerpt
from . import limits
from .facets import dense, filters_on_id, in_sample, tested_per_excerpt, walk_by_id
from .search import by_id
from .search_engines import is_searched


def random_ids(queryset: QuerySet[Excerpt], count: int, seed: int) -> list[int]:
    """
    Up to ``count`` distinct ids from ``queryset``, the same for the same seed and data.

    A set of at most SAMPLE_ALL is read whole and sampled exactly. From a larger one, STRETCHES
    stretches of consecutive matches (by id) are read from seeded random points in its id range,
    SAMPLE_ALL in all, and the ids are drawn from those: bounded work, never a sort of the whole set.
    """
    sample_all = limits.SAMPLE_ALL
    rng = random.Random(seed)
    # A topic's set that meets a match every few rows (1 in DENSE of the newest) is read with each excerpt's links
    # probed, so that SQLite walks the table without building the topic's whole list of ids for every statement.
    tested, walked = listed_topics_tested(queryset), False
    if tested is not None and dense(tested):
        queryset, walked = tested, True
    ids = queryset.order_by().values_list("id", flat=True)
    every = sorted(ids[: sample_all + 1])  # in whatever order is cheapest, sorted here for the seed's sake
    if len(every) <= sample_all:
        return rng.sample(every, min(count, len(every)))
    if walked or is_searched(queryset) or not (filters_on_id(queryset) or sparse(queryset)):
        # Read in id order from any point at little cost: by the search index's rowids, or by a walk of the table
        # (an index scan on PostgreSQL) that meets a match every few rows.
        return _draw(rng, count, _Read(ids, walk=True))
    # A sparse set, or a topic's (whose list of ids SQLite reads from its start up to any point: each stretch of a
    # walk cost up to 80 ms at a million): all its ids at once, from the index that finds them (a source's, a
    # speaker's, the topic's links), unless there are too many. The stretches are then cut from that list: the very
    # ids a walk would have read, at a fraction of the cost (a walk between a source's matches read a thousand rows
    # for each).
    every = sorted(ids[: limits.SAMPLE_IDS + 1])
    if len(every) <= limits.SAMPLE_IDS:
        return _draw(rng, count, _Listed(every))
    if tested is not None:
        # More than SAMPLE_IDS, though not dense among the newest: walked, each excerpt's links probed.
        return _draw(rng, count, _Read(tested.order_by().values_list("id", flat=True), walk=True))
    return _draw(rng, count, _Read(ids, walk=False))


def listed_topics_tested(queryset: QuerySet[Excerpt]) -> QuerySet[Excerpt] | None:
    """On SQLite, a set filtered on a topic's list of ids with that list tested per excerpt; None otherwise."""
    if default_connection.vendor != "sqlite" or is_searched(queryset) or not filters_on_id(queryset):
        return None
    return tested_per_excerpt(queryset)


def sparse(queryset: QuerySet[Excerpt]) -> bool:
    """Whether fewer than 1 in SPARSE of the newest DENSITY_SAMPLE excerpts match."""
    return in_sample(queryset) * limits.SPARSE < limits.DENSITY_SAMPLE


class _Read:
    """The stretches of a set read from the database, one query each, walking the table by id if ``walk``."""

    def __init__(self, ids: QuerySet, walk: bool):
        self.ids, self.walk = ids, walk and default_connection.vendor == "sqlite"

    def read(self, ids: QuerySet) -> list[int]:
        return list(walk_by_id(ids) if self.walk else ids)

    def bounds(self) -> tuple[int, int]:
        (low,), (high,) = self.read(by_id(self.ids)[:1]), self.read(by_id(self.ids, descending=True)[:1])
        return low, high

    def stretch(self, start: int | None, size: int) -> list[int]:
        """Up to ``size`` ids of the set from ``start`` on (from its first id when None), in order."""
        return self.read(by_id(self.ids, at_least=start)[:size])


class _Listed:
    """The stretches of a set cut from the sorted list of all its ids."""

    def __init__(self, every: list[int]):
        self.every = every

    def bounds(self) -> tuple[int, int]:
        return self.every[0], self.every[-1]

    def stretch(self, start: int | None, size: int) -> list[int]:
        first = 0 if start is None else bisect.bisect_left(self.every, start)
        return self.every[first : first + size]


def _draw(rng: random.Random, count: int, source: _Read | _Listed) -> list[int]:
    """``count`` ids drawn from STRETCHES stretches of ``source`` at seeded random points of its id range."""
    low, high = source.bounds()
    pool, size = set(), limits.SAMPLE_ALL // limits.STRETCHES
    for _ in range(limits.STRETCHES):
        stretch = source.stretch(rng.randint(low, high), size)
        if len(stretch) < size:  # the end of the set: go on from its start
            stretch += source.stretch(None, size - len(stretch))
        pool.update(stretch)
    return rng.sample(sorted(pool), min(count, len(pool)))
