"""The corpus in numbers, as the front page shows it: what the public can read of each kind of object."""

from ..models import Event, Excerpt, Source, Speaker, Topic
from .caching import cached


def _count() -> dict[str, int]:
    return {
        "excerpts": Excerpt.objects.published().count(),
        "speakers": Speaker.objects.count(),
        "sources": Source.objects.count(),
        "topics": Topic.objects.count(),
        "events": Event.objects.count(),
    }


def corpus_counts() -> dict[str, int]:
    """
    Published excerpts, and every speaker, source, topic and event (the API lists them all, as its counts say),
    counted once per data version: a request reads only the version while the data stays the same.
    """
    return cached("corpus-counts", (), _count)
