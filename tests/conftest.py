"""Shared test data: a small corpus and the three roles (anonymous, curator, admin)."""

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.cache import cache
from rest_framework.test import APIClient

from excerpts.api.permissions import CURATORS_GROUP
from excerpts.models import Event, Excerpt, Source, Speaker, Topic


def pytest_configure():
    # The live server's worker threads would otherwise keep PostgreSQL connections open for a minute,
    # and the test database could not be dropped at the end of the run.
    settings.DATABASES["default"]["CONN_MAX_AGE"] = 0


def make_corpus():
    """Two speakers, two sources, a topic, an event, one published excerpt and one draft."""
    mao = Speaker.objects.create(slug="mao-zedong", name="Mao Zedong", aliases=["Mao Tse-tung"])
    khrushchev = Speaker.objects.create(slug="nikita-khrushchev", name="Nikita Khrushchev")
    daily = Source.objects.create(slug="peoples-daily", title="People's Daily", kind=Source.Kind.NEWSPAPER)
    speech = Source.objects.create(
        slug="secret-speech", title="On the Cult of Personality", kind=Source.Kind.TRANSCRIPT
    )
    topic = Topic.objects.create(slug="great-leap-forward", name="Great Leap Forward")
    congress = Event.objects.create(slug="twentieth-party-congress", name="Twentieth Congress of the CPSU")
    published = Excerpt.objects.create(
        text="the cult of the individual",
        kind=Excerpt.Kind.SPEECH,
        speaker=khrushchev,
        date="1956-02-25",
        event=congress,
        source=speech,
        language="ru",
        status=Excerpt.Status.PUBLISHED,
    )
    draft = Excerpt.objects.create(
        text="The east wind prevails over the west wind.",
        kind=Excerpt.Kind.SPEECH,
        speaker=mao,
        date="1957-11",
        source=daily,
        language="zh",
        status=Excerpt.Status.DRAFT,
    )
    draft.topics.add(topic)
    return {
        "mao": mao,
        "khrushchev": khrushchev,
        "daily": daily,
        "speech": speech,
        "topic": topic,
        "congress": congress,
        "published": published,
        "draft": draft,
    }


@pytest.fixture
def corpus(db):
    return make_corpus()


def make_curator(username="curator"):
    user = get_user_model().objects.create_user(username=username, password="a-curator-password-1958")
    user.is_staff = True
    user.save()
    user.groups.add(Group.objects.get(name=CURATORS_GROUP))
    return user


@pytest.fixture
def curator(db):
    return make_curator()


@pytest.fixture
def superuser(db):
    return get_user_model().objects.create_superuser(username="admin", password="an-admin-password-1958")


@pytest.fixture
def client_as(db):
    """client_as(None) is anonymous; client_as(user) is authenticated as that user."""

    def build(user):
        client = APIClient()
        if user is not None:
            client.force_authenticate(user)
        return client

    return build


@pytest.fixture(autouse=True)
def empty_cache():
    """
    Each test starts with an empty cache. Its rolled-back writes would otherwise leave entries under a data
    version that the next test's data reaches again (the version lives in the rolled-back transaction too).
    """
    cache.clear()


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Tests make many users; a deliberately slow hasher would dominate the run."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
