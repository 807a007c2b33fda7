"""
Anonymous reads answered again before DRF runs (response_cache.RepeatedReadsMiddleware): the same bytes and
headers as DRF's answer, the anonymous rate limit still counted, and nothing replayed to a request that carries
credentials, a cookie or a condition, nor for a heavy request, another format, another host or newer data.
"""

import gzip
import re

import pytest
from django.core.cache import cache
from django.db import OperationalError, connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from excerpts.api import problems, response_cache
from excerpts.csp import site_headers
from excerpts.research import caching
from tests import factories
from tests.test_response_cache import reads

pytestmark = pytest.mark.django_db

# Every header the stack sets, outer middleware (security headers, CSP, CORS) included.
HEADERS = (
    "Content-Type",
    "Content-Length",
    "ETag",
    "Cache-Control",
    "Vary",
    "Allow",
    "Content-Disposition",
    "Content-Security-Policy",
    "X-Content-Type-Options",
    "X-Frame-Options",
    "Referrer-Policy",
    "Cross-Origin-Opener-Policy",
    "Access-Control-Allow-Origin",
)


@pytest.fixture(autouse=True)
def drf_answers_plain_reads(settings):
    """
    DRF makes every first answer here, a plain read of one excerpt's included: the answers replayed are DRF's. The
    plain path's own answers, replayed alike, are test_plain_reads.py's.
    """
    settings.API_PLAIN_READS = False


def headers_of(response):
    return {name: response.get(name) for name in HEADERS}


def light_reads(corpus):
    """
    The data API's reads of test_response_cache.py (not the schema, which reads no data and is kept by its ETag
    alone), with the whole corpus's facets for the filtered ones (a heavy read).
    """
    return [
        (url, {} if url == reverse("excerpt-facets") else query)
        for url, query in reads(corpus)
        if url != reverse("schema")
    ]


def test_a_repeated_anonymous_read_is_drfs_answer_sent_again_before_drf(client, corpus, drf_runs):
    for url, query in light_reads(corpus):
        first = client.get(url, query)
        assert drf_runs[-1] == url
        runs = len(drf_runs)
        with CaptureQueriesContext(connection) as sql:
            again = client.get(url, query)
        assert len(drf_runs) == runs, f"DRF ran again for {url}"
        assert again.status_code == first.status_code == 200, url
        assert again.content == first.content, url
        assert headers_of(again) == headers_of(first), url
        # The data version's one query, and nothing else.
        assert len(sql) == 1, (url, [query["sql"] for query in sql])


def test_the_site_policy_is_django_csps_own(client, corpus):
    from csp.utils import build_policy

    response = client.get(reverse("excerpt-list"))
    assert response["Content-Security-Policy"] == build_policy()
    assert site_headers() == {"Content-Security-Policy": build_policy()}


def test_the_anonymous_rate_limit_counts_replayed_answers(client, corpus, settings, drf_runs):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"anon": "3/minute"}}
    url = reverse("excerpt-detail", args=[corpus["published"].pk])
    answers = [client.get(url) for _ in range(4)]
    assert [answer.status_code for answer in answers] == [200, 200, 200, 429]
    assert [answer["RateLimit-Remaining"] for answer in answers] == ["2", "1", "0", "0"]
    assert all(answer["RateLimit-Limit"] == "3" for answer in answers)
    # DRF made the first answer and refused the fourth; the middleware sent the second and third.
    assert drf_runs == [url, url]
    refused = answers[3]
    assert refused["Content-Type"] == "application/problem+json" and int(refused["Retry-After"]) > 0


def test_heavy_requests_are_never_replayed(client, corpus, drf_runs):
    speaker = corpus["khrushchev"].slug
    for url, query in [
        (reverse("excerpt-facets"), {"speaker": speaker}),  # filtered facets: the heavy rate limit
        (reverse("excerpt-cite-list"), {}),  # a bibliography
        (reverse("excerpt-list"), {"format": "jsonl"}),  # an export
    ]:
        for _ in range(2):
            response = client.get(url, query)
            assert response.status_code == 200, url
        assert drf_runs[-2:] == [url, url], url


def test_credentials_cookies_and_conditions_go_to_drf(client, corpus, curator, drf_runs):
    url = reverse("excerpt-detail", args=[corpus["published"].pk])
    first = client.get(url)
    assert drf_runs == [url]
    token_client = factories.api_client(curator)
    assert token_client.get(url).json()["status"] == "published"  # the curator's representation, not the public's
    client.cookies["something"] = "else"
    assert client.get(url).content == first.content
    del client.cookies["something"]
    assert client.get(url, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    assert drf_runs == [url] * 4
    assert client.get(url).content == first.content
    assert len(drf_runs) == 4


def test_a_draft_is_never_replayed_to_the_public(client, corpus, curator):
    url = reverse("excerpt-detail", args=[corpus["draft"].pk])
    session = factories.api_client(curator)
    assert session.get(url).status_code == session.get(url).status_code == 200
    assert client.get(url).status_code == client.get(url).status_code == 404


def test_another_format_host_or_version_is_another_answer(client, corpus, settings, drf_runs):
    settings.ALLOWED_HOSTS = ["testserver", "mirror.example.org"]
    url = reverse("excerpt-list")
    plain = client.get(url)
    indented = client.get(url, HTTP_ACCEPT="application/json; indent=2")
    assert indented.content != plain.content and indented.json() == plain.json()
    mirrored = client.get(url, HTTP_HOST="mirror.example.org")
    assert mirrored.json()["results"][0]["url"].startswith("http://mirror.example.org/")
    assert len(drf_runs) == 3
    factories.excerpt("a later word", speaker=corpus["khrushchev"], source=corpus["speech"], date="1960")
    after = client.get(url)
    assert len(drf_runs) == 4 and after.json()["count"] == plain.json()["count"] + 1
    indented_after = client.get(url, HTTP_ACCEPT="application/json; indent=2")
    assert len(drf_runs) == 5 and indented_after.json() == after.json()
    # And each is replayed to its own kind of request.
    assert client.get(url, HTTP_ACCEPT="application/json; indent=2").content == indented_after.content
    assert client.get(url).content == after.content
    assert len(drf_runs) == 5


def test_a_replayed_answer_is_compressed_and_shared_as_any_other(client, corpus, drf_runs):
    url = reverse("excerpt-list")
    plain = client.get(url)
    zipped = client.get(url, HTTP_ACCEPT_ENCODING="gzip", HTTP_ORIGIN="https://elsewhere.example")
    assert drf_runs == [url]
    assert zipped["Content-Encoding"] == "gzip" and gzip.decompress(zipped.content) == plain.content
    assert zipped["Access-Control-Allow-Origin"] == "*"
    assert zipped["ETag"] == plain["ETag"]


def test_a_bad_host_is_a_400_problem_not_a_crash(client, corpus):
    url = reverse("excerpt-list")
    assert client.get(url).status_code == 200
    refused = client.get(url, HTTP_HOST="evil.example")
    assert refused.status_code == 400 and refused["Content-Type"] == "application/problem+json"
    assert (
        refused.json()["detail"]
        == "The request was refused: its Host header names a host this server does not answer for."
    )
    # A middleware reads the query first: too many parameters are Django's refusal, as problem details too.
    crowded = client.get(url, {f"p{number}": "1" for number in range(1001)})
    assert crowded.status_code == 400 and crowded["Content-Type"] == "application/problem+json"
    assert crowded.json()["detail"] == (
        "The request was refused: the number of GET/POST parameters exceeded settings.DATA_UPLOAD_MAX_NUMBER_FIELDS."
    )


def test_a_user_agent_django_refuses_gets_its_403_not_an_answer_kept_for_others(client, corpus, settings):
    settings.DISALLOWED_USER_AGENTS = [re.compile(r"^BadBot")]
    url = reverse("excerpt-list")
    assert client.get(url).status_code == 200
    refused = client.get(url, HTTP_USER_AGENT="BadBot/1.0")
    assert refused.status_code == 403 and refused["Content-Type"] == "application/problem+json"
    assert refused.json() == {
        "type": problems.PROBLEM_TYPE_BASE + "permission-denied",
        "title": "Permission denied",
        "status": 403,
        "detail": "The request was refused: forbidden user agent.",
        "instance": url,
    }
    assert client.get(url, HTTP_USER_AGENT="GoodBot/1.0").status_code == 200


def test_a_failing_cache_costs_the_view_run_not_the_answer(client, corpus, monkeypatch, drf_runs):
    url = reverse("excerpt-list")
    expected = client.get(url).content
    response_cache.RECENT.clear()  # as in another worker, which has not kept it

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(cache, "get", broken)
    assert client.get(url).content == expected
    assert drf_runs == [url, url]


def test_an_answer_the_process_kept_is_sent_again_without_the_shared_cache(client, corpus, monkeypatch, drf_runs):
    url = reverse("excerpt-list")
    expected = client.get(url)
    read = []
    monkeypatch.setattr(cache, "get", lambda key, *args, **kwargs: read.append(key))
    again = client.get(url)
    assert again.content == expected.content and again["ETag"] == expected["ETag"]
    assert drf_runs == [url]
    assert read == []  # nothing asked of the shared cache
    # Another worker, which has not kept it, finds it in the shared cache.
    monkeypatch.undo()
    response_cache.RECENT.clear()
    assert client.get(url).content == expected.content
    assert drf_runs == [url]


def test_the_process_keeps_answers_up_to_its_bound(client, corpus, settings, drf_runs):
    first = client.get(reverse("excerpt-list"))
    settings.API_RESPONSE_CACHE_PROCESS_BYTES = len(first.content) + 10
    response_cache.RECENT.clear()
    client.get(reverse("excerpt-list"))  # read from the shared cache, and kept in the process
    assert [len(content) for _, content in response_cache.RECENT.entries.values()] == [len(first.content)]
    client.get(reverse("excerpt-detail", args=[corpus["published"].pk]))  # made, kept; the page makes way for it
    assert len(response_cache.RECENT.entries) == 1 and response_cache.RECENT.total < len(first.content)
    settings.API_RESPONSE_CACHE_PROCESS_BYTES = 0
    response_cache.RECENT.clear()
    client.get(reverse("excerpt-list"))
    assert response_cache.RECENT.entries == {}


def test_turned_off_nothing_is_replayed(client, corpus, settings, drf_runs):
    settings.API_RESPONSE_CACHE = False
    url = reverse("excerpt-list")
    client.get(url)
    client.get(url)
    assert drf_runs == [url, url]


def test_a_database_failure_reading_the_version_is_left_to_drf(client, corpus, monkeypatch, drf_runs):
    url = reverse("excerpt-list")
    expected = client.get(url).content
    failures = iter([OperationalError("database is locked")])
    original = caching.data_version

    def failing_once():
        failure = next(failures, None)
        if failure is not None:
            raise failure
        return original()

    monkeypatch.setattr(caching, "data_version", failing_once)
    response = client.get(url)
    assert response.status_code == 200 and response.content == expected
    assert drf_runs == [url, url]


def test_the_speakers_a_filter_names_are_looked_up_once_per_data_version(client, corpus, settings):
    settings.API_RESPONSE_CACHE = False  # every request runs the view and its filters
    speaker = corpus["khrushchev"]
    url = reverse("excerpt-list")

    def lookups(slug):
        with CaptureQueriesContext(connection) as sql:
            response = client.get(url, {"speaker": slug, "page_size": 5})
        return response, [query["sql"] for query in sql if '"excerpts_speaker"."slug" IN' in query["sql"]]

    first, looked_up = lookups(speaker.slug)
    assert first.status_code == 200 and len(looked_up) == 1
    again, looked_up = lookups(speaker.slug)
    assert again.content == first.content and looked_up == []
    # A write moves the data version: the old slug is unknown at once, the new one found.
    old = speaker.slug
    speaker.slug = "nikita-sergeyevich-khrushchev"
    speaker.save()
    refused, _ = lookups(old)
    assert refused.status_code == 400 and refused.json()["errors"][0]["name"] == "speaker"
    renamed, looked_up = lookups(speaker.slug)
    assert renamed.json()["count"] == first.json()["count"] > 0
    assert {item["speaker"]["slug"] for item in renamed.json()["results"]} == {speaker.slug}
    assert len(looked_up) == 1
