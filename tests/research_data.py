"""Small, hand-made corpora for the research-tools tests (search, facets, export, citations, random)."""

from excerpts.models import Event, Excerpt, Source, Speaker, Topic


def make_speaker(slug, name, aliases=(), kind=Speaker.Kind.PERSON):
    return Speaker.objects.create(slug=slug, name=name, aliases=list(aliases), kind=kind)


def make_source(slug, title, **fields):
    fields.setdefault("kind", Source.Kind.BOOK)
    return Source.objects.create(slug=slug, title=title, **fields)


def make_topic(slug, name):
    return Topic.objects.create(slug=slug, name=name)


def make_event(slug, name, date=""):
    return Event.objects.create(slug=slug, name=name, date=date)


def make_excerpt(text, speaker, source, topics=(), **fields):
    fields.setdefault("kind", Excerpt.Kind.SPEECH)
    fields.setdefault("date", "1958")
    fields.setdefault("language", "en")
    fields.setdefault("status", Excerpt.Status.PUBLISHED)
    excerpt = Excerpt.objects.create(text=text, speaker=speaker, source=source, **fields)
    excerpt.topics.set(topics)
    return excerpt
