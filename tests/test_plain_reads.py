"""
A plain anonymous read of one excerpt answered without DRF (excerpts/api/plain_reads.py): DRF's own answer, status,
headers and body, for every excerpt of the seed corpus, under another host and a script prefix; the anonymous rate
limit counted; the answer kept for the next such read; and every other read, or a failing one, left to DRF.
"""

import re

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import OperationalError, connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse, set_script_prefix

from excerpts.api import representations, response_cache
from excerpts.api.throttling import WindowRateThrottle
from excerpts.models import Excerpt
from tests import factories

pytestmark = pytest.mark.django_db

# What a client that asks for JSON, or for anything, sends: no Accept header, */*, application/json.
PLAIN_ACCEPTS = ({}, {"HTTP_ACCEPT": "*/*"}, {"HTTP_ACCEPT": "application/json"})


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch):
    """A clock that stands still, so that two answers made a moment apart give the same RateLimit-Reset."""
    monkeypatch.setattr(WindowRateThrottle, "timer", staticmethod(lambda: 1_000_000.25))


@pytest.fixture
def script_prefix():
    """Serve below /archive/, as a WSGI server given SCRIPT_NAME does (Django's test client sets no prefix)."""
    set_script_prefix("/archive/")
    yield "/archive"
    set_script_prefix("/")


def answer(settings, url, plain, **extra):
    """A fresh client's answer, with the plain path on or off; nothing kept or counted before it."""
    settings.API_PLAIN_READS = plain
    # No kept answer or representation, no rate-limit count: each answer is made afresh, as the first of its window.
    cache.clear()
    response_cache.RECENT.clear()
    representations.FRAGMENTS.clear()
    return Client().get(url, **extra)


def assert_same_answer(plain, drf):
    assert plain.status_code == drf.status_code
    assert list(plain.items()) == list(drf.items())  # every header, in the same order
    assert plain.content == drf.content


def test_every_seed_excerpt_read_plainly_is_drfs_answer_without_drf(settings, drf_runs):
    call_command("load_seed_corpus", verbosity=0)
    published = list(Excerpt.objects.published().order_by("id").values_list("id", flat=True))
    assert len(published) >= 30
    for pk in published:
        url = reverse("excerpt-detail", args=[pk])
        for accept in PLAIN_ACCEPTS:
            plain = answer(settings, url, True, **accept)
            assert drf_runs == [], (url, accept)
            drf = answer(settings, url, False, **accept)
            assert drf_runs == [url], (url, accept)
            drf_runs.clear()
            assert plain.status_code == 200 and plain["ETag"].startswith('W/"')
            assert_same_answer(plain, drf)


def test_another_host_and_a_script_prefix_are_in_the_links_and_the_etag_as_drf_puts_them(
    corpus, settings, script_prefix, drf_runs
):
    settings.ALLOWED_HOSTS = ["api.example.org", "testserver"]
    pk = corpus["published"].pk
    path = reverse("excerpt-detail", args=[pk]).removeprefix(script_prefix)  # what the client asks for
    where = {"HTTP_HOST": "api.example.org", "SCRIPT_NAME": script_prefix}
    plain = answer(settings, path, True, **where)
    drf = answer(settings, path, False, **where)
    assert drf_runs == [script_prefix + path]
    assert_same_answer(plain, drf)
    assert plain.json()["url"] == "http://api.example.org" + reverse("excerpt-detail", args=[pk])
    assert plain.json()["url"].startswith("http://api.example.org/archive/")
    assert plain["ETag"] != answer(settings, path, True, SCRIPT_NAME=script_prefix)["ETag"]  # another host


def test_a_plain_read_runs_the_views_queries_and_no_more(client, corpus, settings, drf_runs):
    settings.API_RESPONSE_CACHE = False
    url = reverse("excerpt-detail", args=[corpus["published"].pk])
    with CaptureQueriesContext(connection) as sql:
        assert client.get(url).status_code == 200
    # The data version, the excerpt with its speaker, event and sources, its topics.
    assert len(sql) == 3, [query["sql"] for query in sql]
    assert drf_runs == []


def test_the_plain_answer_is_kept_and_sent_again_for_the_next_plain_read(client, corpus, drf_runs):
    url = reverse("excerpt-detail", args=[corpus["published"].pk])
    first = client.get(url)
    with CaptureQueriesContext(connection) as sql:
        again = client.get(url)
    assert len(sql) == 1  # the data version: the answer is RepeatedReadsMiddleware's
    assert again.content == first.content
    counted = ("RateLimit-Remaining",)  # one request more in the window
    assert [item for item in again.items() if item[0] not in counted] == [
        item for item in first.items() if item[0] not in counted
    ]
    assert drf_runs == []


def test_the_anonymous_rate_limit_counts_plain_reads(corpus, settings, drf_runs):
    settings.API_RESPONSE_CACHE = False  # every answer made by the plain path, none replayed
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"anon": "3/minute"}}
    url = reverse("excerpt-detail", args=[corpus["published"].pk])
    client = Client()
    answers = [client.get(url) for _ in range(4)]
    assert [answer.status_code for answer in answers] == [200, 200, 200, 429]
    assert [answer["RateLimit-Remaining"] for answer in answers] == ["2", "1", "0", "0"]
    # The plain path made the three answers; DRF refused the fourth.
    assert drf_runs == [url]
    assert answers[3]["Content-Type"] == "application/problem+json" and int(answers[3]["Retry-After"]) > 0


def test_every_other_read_of_an_excerpt_goes_to_drf(client, corpus, curator, settings, drf_runs):
    settings.ALLOWED_HOSTS = ["testserver"]
    settings.DISALLOWED_USER_AGENTS = [re.compile(r"^BadBot")]
    settings.API_RESPONSE_CACHE = False  # each read made afresh: none is RepeatedReadsMiddleware's
    published = corpus["published"]
    url = reverse("excerpt-detail", args=[published.pk])
    plain = client.get(url)
    assert drf_runs == []
    # Each with its status and whether DRF's view runs for it.
    others = [
        (client.get, url, {"format": "json"}, {}, 200, True),  # a query
        (client.get, url, {}, {"HTTP_ACCEPT": "application/ld+json"}, 200, True),  # JSON-LD
        (client.get, url, {}, {"HTTP_ACCEPT": "application/json; indent=2"}, 200, True),  # another media type
        (client.get, url, {}, {"HTTP_IF_NONE_MATCH": plain["ETag"]}, 304, True),  # a condition
        (client.get, url, {}, {"HTTP_COOKIE": "theme=dark"}, 200, True),  # a cookie
        (client.head, url, {}, {}, 200, True),  # not a GET
        (client.get, reverse("excerpt-detail", args=[corpus["draft"].pk]), {}, {}, 404, True),  # a draft
        (client.get, reverse("excerpt-detail", args=[10**9]), {}, {}, 404, True),  # no such excerpt
        (client.get, url, {}, {"HTTP_HOST": "elsewhere.example"}, 400, False),  # a host not allowed: Django's 400
        (client.get, url, {}, {"HTTP_USER_AGENT": "BadBot/1.0"}, 403, False),  # a refused agent: Django's 403
        (factories.api_client(curator).get, url, {}, {}, 200, True),  # a curator's token
    ]
    for get, path, query, headers, status, by_drf in others:
        drf_runs.clear()
        response = get(path, query, **headers)
        assert (response.status_code, drf_runs == [path]) == (status, by_drf), (path, query, headers)


def test_a_database_failure_on_the_plain_path_is_left_to_drf(client, corpus, settings, monkeypatch, drf_runs):
    settings.API_RESPONSE_CACHE = False
    url = reverse("excerpt-detail", args=[corpus["published"].pk])
    expected = client.get(url)
    failures = iter([OperationalError("database is locked")])
    original = representations.excerpts

    def failing_once(*args, **kwargs):
        failure = next(failures, None)
        if failure is not None:
            raise failure
        return original(*args, **kwargs)

    monkeypatch.setattr(representations, "excerpts", failing_once)
    response = client.get(url)
    assert drf_runs == [url]  # DRF read it again, and answered
    assert response.status_code == 200 and response.content == expected.content

    def failing(*args, **kwargs):
        raise OperationalError("database is locked")

    monkeypatch.setattr(representations, "excerpts", failing)
    drf_runs.clear()
    failed = client.get(url)
    assert drf_runs == [url]  # the answer to a failing database is DRF's: a 503 problem
    assert failed.status_code == 503 and failed["Content-Type"] == "application/problem+json"
