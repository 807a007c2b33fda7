"""
Test data: plain functions that save model instances with sensible defaults, the small corpora built from them
(conftest.py offers the shared ones as fixtures), and the raw forms loaddata and the API take the same data in.
"""

from itertools import count

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from knox.models import AuthToken
from rest_framework.test import APIClient

from excerpts.api.permissions import CURATORS_GROUP
from excerpts.dates import parse_bounds
from excerpts.models import Event, Excerpt, Source, Speaker, Topic

CURATOR_PASSWORD = "a-curator-password-1958"
ADMIN_PASSWORD = "an-admin-password-1958"

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


def excerpt(text=None, *, topics=(), **fields):
    """A published English speech of 1958, with a speaker and a source of its own unless they are given."""
    number = next(_sequence)
    fields.setdefault("kind", Excerpt.Kind.SPEECH)
    fields.setdefault("date", "1958")
    fields.setdefault("language", "en")
    fields.setdefault("status", Excerpt.Status.PUBLISHED)
    if "speaker" not in fields:
        fields["speaker"] = speaker()
    if "source" not in fields:
        fields["source"] = source()
    created = Excerpt.objects.create(text=text or f"Words number {number}", **fields)
    created.topics.set(topics)
    return created


def excerpt_fixture(pk, speaker_pk, source_pk, date="1958", **fields):
    """A fixture entry for one published excerpt, as loaddata reads it: raw, so its date bounds are given too."""
    bounds = parse_bounds(date)
    return {
        "model": "excerpts.excerpt",
        "pk": pk,
        "fields": {
            "text": "Loaded.",
            "kind": "speech",
            "attribution": "direct",
            "speaker": speaker_pk,
            "date": date,
            "date_start": bounds.start.isoformat(),
            "date_end": bounds.end.isoformat(),
            "date_display": bounds.display,
            "source": source_pk,
            "language": "en",
            "status": "published",
            "created": "2024-01-01T00:00:00Z",
            "updated": "2024-01-01T00:00:00Z",
            **fields,
        },
    }


def reader(username="reader"):
    """A user who may sign in and nothing more."""
    return get_user_model().objects.create_user(username=username, password="a-reader-password-1958")


def curator(username="curator"):
    """A staff member of the curators group: adds and changes everything, deletes nothing."""
    user = get_user_model().objects.create_user(username=username, password=CURATOR_PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name=CURATORS_GROUP))
    return user


def admin(username="admin"):
    return get_user_model().objects.create_superuser(username=username, password=ADMIN_PASSWORD)


def api_client(user=None, **options):
    """
    An API client, anonymous or signed in as ``user`` with a token of its own in every request's Authorization
    header, as a client program signs in (not DRF's force_authenticate, which leaves a request looking anonymous
    to everything before DRF: the replica router, the repeated-reads middleware).
    """
    client = APIClient(**options)
    if user is not None:
        _, token = AuthToken.objects.create(user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def corpus():
    """
    Two speakers, two sources, a topic and an event; Khrushchev's published excerpt of 25 February 1956 and
    Mao's draft of November 1957, the one with the topic.
    """
    mao = speaker("mao-zedong", "Mao Zedong", aliases=["Mao Tse-tung"])
    khrushchev = speaker("nikita-khrushchev", "Nikita Khrushchev")
    daily = source("peoples-daily", "People's Daily", kind=Source.Kind.NEWSPAPER)
    speech = source("secret-speech", "On the Cult of Personality", kind=Source.Kind.TRANSCRIPT)
    leap = topic("great-leap-forward", "Great Leap Forward")
    congress = event("twentieth-party-congress", "Twentieth Congress of the CPSU")
    published = excerpt(
        "the cult of the individual",
        speaker=khrushchev,
        date="1956-02-25",
        event=congress,
        source=speech,
        language="ru",
    )
    draft = excerpt(
        "The east wind prevails over the west wind.",
        speaker=mao,
        date="1957-11",
        source=daily,
        language="zh",
        status=Excerpt.Status.DRAFT,
        topics=[leap],
    )
    return {
        "mao": mao,
        "khrushchev": khrushchev,
        "daily": daily,
        "speech": speech,
        "topic": leap,
        "congress": congress,
        "published": published,
        "draft": draft,
    }


def excerpt_body(corpus, **overrides):
    """What a client sends to create an excerpt of corpus() (Mao's, in People's Daily, on its topic), as JSON."""
    return {
        "text": "Imperialism and all reactionaries are paper tigers.",
        "kind": "speech",
        "speaker": corpus["mao"].slug,
        "date": "1957-11-18",
        "source": corpus["daily"].pk,
        "topics": [corpus["topic"].slug],
        "language": "zh",
        **overrides,
    }


def paper_tiger():
    """Mao's "The atom bomb is a paper tiger." with its speaker (who has an alias), source and topic."""
    mao = speaker("mao-zedong", "Mao Zedong", aliases=["Mao Tse-tung"])
    works = source("works", "Selected Works")
    leap = topic("great-leap", "Great Leap Forward")
    tiger = excerpt("The atom bomb is a paper tiger.", speaker=mao, source=works, topics=[leap], date="1946-08")
    return {"mao": mao, "works": works, "leap": leap, "tiger": tiger}


def facet_corpus():
    """
    Three published excerpts and a draft that tell every facet apart: two speakers, two topics (one excerpt has
    both, one none), an event, two kinds, two attributions, two languages, and dates from a day to an interval.
    """
    mao, zhou = speaker("mao-zedong", "Mao Zedong"), speaker("zhou-enlai", "Zhou Enlai")
    works, daily = source("works", "Works"), source("daily", "People's Daily")
    communes, leap = topic("communes", "Communes"), topic("great-leap", "Great Leap Forward")
    lushan = event("lushan", "Lushan Conference")
    return {
        "mao": mao,
        "zhou": zhou,
        "works": works,
        "daily": daily,
        "communes": communes,
        "leap": leap,
        "lushan": lushan,
        "steel": excerpt("Steel.", speaker=mao, source=works, topics=[communes, leap], date="1958-08", event=lushan),
        "grain": excerpt(
            "Grain.", speaker=mao, source=daily, topics=[leap], date="1959/1961", kind="letter", language="zh"
        ),
        "unity": excerpt("Unity.", speaker=zhou, source=works, date="1949-10-01", attribution="paraphrase"),
        "draft": excerpt(
            "Draft.", speaker=zhou, source=daily, topics=[communes], date="1970", status=Excerpt.Status.DRAFT
        ),
    }
