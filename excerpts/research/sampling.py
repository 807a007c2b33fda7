"""
Seeded random samples of a filtered excerpt queryset: the same seed and data give the same excerpts.

A set of at most ``limits.SAMPLE_ALL`` matches is read whole and sampled exactly. A larger one is
sampled from ``limits.STRETCHES`` stretches of consecutive matches (by id) read from seeded random
points in its id range, so a draw reads the same number of rows at any size and never sorts the set.
"""

import random

from django.db import connection as default_connection
from django.db.models import QuerySet

from ..models import Excerpt
from . import limits
from .facets import walk_by_id
from .search import by_id


def _ids(ids: QuerySet) -> list[int]:
    """Run a sliced, ordered values_list of ids (walking the table by id on SQLite)."""
    # Only a set of more than SAMPLE_ALL is read by id: dense enough to walk the table.
    return list(walk_by_id(ids) if default_connection.vendor == "sqlite" else ids)


def random_ids(queryset: QuerySet[Excerpt], count: int, seed: int) -> list[int]:
    """
    Up to ``count`` distinct ids from ``queryset``, the same for the same seed and data.

    A set of at most SAMPLE_ALL is read whole and sampled exactly. From a larger one, STRETCHES
    stretches of consecutive matches (by id) are read from seeded random points in its id range,
    SAMPLE_ALL in all, and the ids are drawn from those: bounded work, never a sort of the whole set.
    """
    sample_all, stretches = limits.SAMPLE_ALL, limits.STRETCHES
    rng = random.Random(seed)
    ids = queryset.order_by().values_list("id", flat=True)
    every = sorted(ids[: sample_all + 1])  # in whatever order is cheapest, sorted here for the seed's sake
    if len(every) <= sample_all:
        return rng.sample(every, min(count, len(every)))
    (low,), (high,) = _ids(by_id(ids)[:1]), _ids(by_id(ids, descending=True)[:1])
    pool, size = set(), sample_all // stretches
    for _ in range(stretches):
        stretch = _ids(by_id(ids, at_least=rng.randint(low, high))[:size])
        if len(stretch) < size:  # the end of the set: go on from its start
            stretch += _ids(by_id(ids)[: size - len(stretch)])
        pool.update(stretch)
    return rng.sample(sorted(pool), min(count, len(pool)))
