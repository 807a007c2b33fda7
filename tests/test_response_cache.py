"""
Answers kept whole per data version (excerpts/api/response_cache.py): a repeated read runs no page query and
gets the same bytes and headers; a write, another role or another request is answered anew; errors, exports and
large bodies are never kept; a failing cache costs only the view run.
"""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from excerpts.api import response_cache
from excerpts.models import Excerpt
from tests import factories

pytestmark = pytest.mark.django_db

HEADERS = ("Content-Type", "ETag", "Cache-Control", "Vary", "Allow", "Content-Disposition")


def queries_of(client, url, query=None, **headers):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, query or {}, **headers)
    return response, [q["sql"] for q in queries]


def reads(corpus):
    published, speaker = corpus["published"], corpus["khrushchev"]
    return [
        (reverse("excerpt-list"), {}),
        (reverse("excerpt-list"), {"speaker": speaker.slug, "ordering": "-date"}),
        (reverse("excerpt-list"), {"q": "cult"}),
        (reverse("excerpt-detail", args=[published.pk]), {}),
        (reverse("excerpt-facets"), {"speaker": speaker.slug}),
        (reverse("excerpt-cite", args=[published.pk]), {"style": "ris"}),
        (reverse("speaker-list"), {}),
        (reverse("schema"), {}),
    ]


def test_a_repeated_read_is_the_same_answer_with_no_query_but_the_data_version(client, corpus):
    for url, query in reads(corpus):
        first = client.get(url, query)
        again, sql = queries_of(client, url, query)
        assert first.status_code == again.status_code == 200, url
        assert again.content == first.content, url
        assert {name: again.get(name) for name in HEADERS} == {name: first.get(name) for name in HEADERS}, url
        # The schema reads no data at all; every other read reads the data version, and nothing else.
        assert len(sql) == (0 if url == reverse("schema") else 1), (url, sql)


def test_a_write_moves_the_answer_on(client, corpus):
    url = reverse("excerpt-list")
    before = client.get(url).json()
    factories.excerpt("a later word", speaker=corpus["khrushchev"], source=corpus["speech"], date="1960")
    after, sql = queries_of(client, url)
    assert after.json()["count"] == before["count"] + 1
    assert "a later word" in [item["text"] for item in after.json()["results"]]
    assert len(sql) > 1


def test_a_curator_and_the_public_never_share_an_answer(curator, corpus):
    url = reverse("excerpt-detail", args=[corpus["draft"].pk])
    curator_client, public = Client(), Client()
    curator_client.force_login(curator)
    assert curator_client.get(url).json()["status"] == "draft"
    assert public.get(url).status_code == 404
    listed = reverse("excerpt-list")
    assert curator_client.get(listed).json()["count"] == 2
    assert public.get(listed).json()["count"] == 1
    assert curator_client.get(listed).json()["count"] == 2


def test_another_page_size_or_host_is_another_answer(client, corpus, settings):
    settings.ALLOWED_HOSTS = ["testserver", "mirror.example.org"]
    url = reverse("excerpt-list")
    assert client.get(url).json()["results"][0]["url"].startswith("http://testserver/")
    mirrored = client.get(url, HTTP_HOST="mirror.example.org").json()
    assert mirrored["results"][0]["url"].startswith("http://mirror.example.org/")


def test_errors_and_exports_are_made_every_time(client, corpus):
    for url, query in [
        (reverse("excerpt-list"), {"speaker": "nobody"}),
        (reverse("excerpt-detail", args=[10**9]), {}),
        (reverse("excerpt-list"), {"format": "csv"}),
    ]:
        first = client.get(url, query)
        first_body = b"".join(first.streaming_content) if first.streaming else first.content
        again, sql = queries_of(client, url, query)
        again_body = b"".join(again.streaming_content) if again.streaming else again.content
        assert again_body == first_body and again.status_code == first.status_code
        assert len(sql) > 1, url


def test_a_body_past_the_limit_is_not_kept(client, corpus, settings):
    settings.API_RESPONSE_CACHE_MAX_BYTES = 100
    url = reverse("excerpt-list")
    client.get(url)
    _, sql = queries_of(client, url)
    assert len(sql) > 1


def test_turned_off_it_runs_the_view_every_time(client, corpus, settings):
    settings.API_RESPONSE_CACHE = False
    url = reverse("excerpt-list")
    client.get(url)
    _, sql = queries_of(client, url)
    assert len(sql) > 1


def test_a_failing_cache_costs_the_view_run_not_the_answer(client, corpus, monkeypatch, settings):
    settings.API_FRAGMENTS = 0  # the view's run shows in its queries: the excerpt is read again, not kept
    url = reverse("excerpt-detail", args=[corpus["published"].pk])
    expected = client.get(url).content
    response_cache.RECENT.clear()  # as in another worker, which has not kept it

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(cache, "get", broken)
    monkeypatch.setattr(cache, "set", broken)
    response, sql = queries_of(client, url)
    assert response.status_code == 200 and response.content == expected
    assert len(sql) > 1


def test_a_head_is_answered_from_a_kept_get(client, corpus):
    url = reverse("excerpt-detail", args=[corpus["published"].pk])
    body = client.get(url)
    with CaptureQueriesContext(connection) as sql:
        head = client.head(url)
    assert head.status_code == 200 and head["ETag"] == body["ETag"] and head.content == b""
    assert len(sql) == 1


def test_an_answer_kept_before_a_delete_is_not_sent_after_it(client, corpus):
    url = reverse("excerpt-detail", args=[corpus["published"].pk])
    assert client.get(url).status_code == 200
    Excerpt.objects.filter(pk=corpus["published"].pk).delete()
    assert client.get(url).status_code == 404


def test_an_answer_sent_from_the_cache_is_not_written_back(client, corpus, monkeypatch):
    url = reverse("excerpt-list")
    writes = []
    original = cache.set
    monkeypatch.setattr(
        cache, "set", lambda key, *args, **kwargs: writes.append(key) or original(key, *args, **kwargs)
    )
    client.get(url)
    kept = [key for key in writes if key.startswith("excerpts:response:")]
    assert len(kept) == 1
    client.get(url)
    client.get(url)
    assert [key for key in writes if key.startswith("excerpts:response:")] == kept
