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


def excerpt_fixture(pk, speaker, source, year="1958", **fields):
    """A fixture entry for one published excerpt dated ``year``, as loaddata reads it (raw, no save())."""
    return {
        "model": "excerpts.excerpt",
        "pk": pk,
        "fields": {
            "text": "Loaded.",
            "kind": "speech",
            "attribution": "direct",
            "speaker": speaker,
            "date": year,
            "date_start": f"{year}-01-01",
            "date_end": f"{year}-12-31",
            "date_display": year,
            "source": source,
            "language": "en",
            "status": "published",
            "created": "2024-01-01T00:00:00Z",
            "updated": "2024-01-01T00:00:00Z",
            **fields,
        },
    }
