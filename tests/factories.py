"""Small builders for test data; each returns a saved object with sensible defaults."""

from itertools import count

from excerpts.models import Event, Excerpt, Source, Speaker, Topic

_sequence = count(1)


def speaker(slug=None, name=None, **fields):
    number = next(_sequence)
    return Speaker.objects.create(slug=slug or f"speaker-{number}", name=name or f"Speaker {number}", **fields)


def source(slug=None, title=None, **fields):
    number = next(_sequence)
    fields.setdefault("kind", Source.Kind.BOOK)
    return Source.objects.create(slug=slug or f"source-{number}", title=title or f"Source {number}", **fields)


def topic(slug=None, name=None, **fields):
    number = next(_sequence)
    return Topic.objects.create(slug=slug or f"topic-{number}", name=name or f"Topic {number}", **fields)


def event(slug=None, name=None, **fields):
    number = next(_sequence)
    return Event.objects.create(slug=slug or f"event-{number}", name=name or f"Event {number}", **fields)


def excerpt(text=None, *, speaker_obj=None, source_obj=None, topics=(), **fields):
    number = next(_sequence)
    fields.setdefault("kind", Excerpt.Kind.SPEECH)
    fields.setdefault("date", "1958")
    fields.setdefault("language", "zh")
    fields.setdefault("status", Excerpt.Status.PUBLISHED)
    created = Excerpt.objects.create(
        text=text or f"Words number {number}",
        speaker=speaker_obj or speaker(),
        source=source_obj or source(),
        **fields,
    )
    created.topics.set(topics)
    return created
