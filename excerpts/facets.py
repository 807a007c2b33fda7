"""
Facet counts and seeded random samples over a filtered excerpt queryset.

Facets count the filtered excerpts per speaker, topic, kind, attribution, language, event, year and
decade. Year and decade are those of ``date_start``, the earliest day an excerpt may date from: an
excerpt dated "1959/1961" counts in 1959 only, so every excerpt counts exactly once.
"""

import random

from django.db.models import Count, Max, Min

from .models import Excerpt

FACETS = ["speaker", "topic", "kind", "attribution", "language", "event", "year", "decade"]
SMALL_SET = 1000


def _grouped(queryset, value, label=None):
    fields = [value, label] if label else [value]
    rows = queryset.values(*fields).annotate(count=Count("id")).order_by("-count", value)
    return [
        {"value": str(row[value]), "label": str(row[label or value]), "count": row["count"]}
        for row in rows
        if row[value] is not None  # an excerpt without topics or event
    ]


def facet_counts(queryset):
    """The number of excerpts in ``queryset`` and its counts per facet, largest first (years in order)."""
    base = queryset.order_by()
    choices = {"kind": dict(Excerpt.Kind.choices), "attribution": dict(Excerpt.Attribution.choices)}
    facets = {"count": base.count()}
    facets["speaker"] = _grouped(base, "speaker__slug", "speaker__name")
    # A join, not a subquery: a search's SQL names the excerpt table, which a subquery would alias.
    facets["topic"] = _grouped(base, "topics__slug", "topics__name")
    for name in ("kind", "attribution"):
        facets[name] = [
            {**row, "label": choices[name].get(row["value"], row["value"])} for row in _grouped(base, name)
        ]
    facets["language"] = _grouped(base, "language")
    facets["event"] = _grouped(base, "event__slug", "event__name")
    # Grouped by day (an index answers it) and summed per year here: extracting the year in SQL runs a
    # Python function per row on SQLite.
    years = {}
    for row in base.values("date_start").annotate(count=Count("id")).order_by():
        years[row["date_start"].year] = years.get(row["date_start"].year, 0) + row["count"]
    facets["year"] = [{"value": str(y), "label": str(y), "count": n} for y, n in sorted(years.items())]
    decades = {}
    for row in facets["year"]:
        decade = int(row["value"]) // 10 * 10
        decades[decade] = decades.get(decade, 0) + row["count"]
    facets["decade"] = [{"value": str(d), "label": f"{d}s", "count": n} for d, n in sorted(decades.items())]
    return facets


def random_ids(queryset, count, seed):
    """
    Up to ``count`` distinct ids from ``queryset``, the same for the same seed and data.

    A small set (at most SMALL_SET) is sampled exactly. A large one is probed: a seeded generator
    draws a point in the id range and the first matching id at or after it is taken, one index seek
    each, never a sort of the whole set. Ids after a gap in the numbering are a little likelier.
    """
    rng = random.Random(seed)
    ids = queryset.order_by("id").values_list("id", flat=True)
    first = list(ids[: SMALL_SET + 1])
    if len(first) <= SMALL_SET:
        return rng.sample(first, min(count, len(first)))
    bounds = ids.aggregate(low=Min("id"), high=Max("id"))
    chosen = []
    for _ in range(count * 4):
        point = rng.randint(bounds["low"], bounds["high"])
        found = list(ids.filter(id__gte=point)[:1]) or first[:1]
        if found[0] not in chosen:
            chosen.append(found[0])
            if len(chosen) == count:
                break
    return chosen
