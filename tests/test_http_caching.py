"""
HTTP caching of the API's reads: ETags from the data version, the request and the role; 304 without a page query;
Cache-Control and Vary by role; gzip for API bodies only, with 304s that still work for a gzip client.
"""

import gzip
import json
from io import StringIO
from urllib.parse import urlsplit

import pytest
from django.db import connection
from django.http import HttpResponse
from django.test import Client, RequestFactory, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from drf_spectacular.generators import SchemaGenerator
from rest_framework.views import APIView

from bench.management.commands import benchmark_http_cache
from excerpts.api.compression import APIGZipMiddleware
from excerpts.api.conditional import ConditionalGetMixin
from excerpts.db.data_version import READ as READ_VERSION
from tests import factories

pytestmark = pytest.mark.django_db

VARY = {"accept", "accept-encoding", "authorization", "cookie", "origin"}


def reads(corpus):
    """Every kind of GET the API answers, by name: (url, query)."""
    published, speaker = corpus["published"], corpus["khrushchev"]
    return {
        "excerpt list": (reverse("excerpt-list"), {}),
        "filtered list": (reverse("excerpt-list"), {"speaker": speaker.slug, "ordering": "-date"}),
        "searched list": (reverse("excerpt-list"), {"q": "cult"}),
        "excerpt": (reverse("excerpt-detail", args=[published.pk]), {}),
        "facets": (reverse("excerpt-facets"), {}),
        "filtered facets": (reverse("excerpt-facets"), {"speaker": speaker.slug}),
        "seeded random": (reverse("excerpt-random"), {"count": 1, "seed": 7}),
        "citation": (reverse("excerpt-cite", args=[published.pk]), {"style": "ris"}),
        "bibliography": (reverse("excerpt-cite-list"), {"style": "bibtex"}),
        "CSV export": (reverse("excerpt-list"), {"format": "csv"}),
        "JSON Lines export": (reverse("excerpt-list"), {"format": "jsonl"}),
        "speakers": (reverse("speaker-list"), {}),
        "speaker": (reverse("speaker-detail", args=[speaker.slug]), {}),
        "topics": (reverse("topic-list"), {}),
        "sources": (reverse("source-list"), {}),
        "event": (reverse("event-detail", args=[corpus["congress"].slug]), {}),
        "schema": (reverse("schema"), {}),
        "JSON schema": (reverse("schema"), {"format": "json"}),
    }


# reads()'s names, for parametrize (collection comes before any corpus exists).
READ_NAMES = [
    "excerpt list",
    "filtered list",
    "searched list",
    "excerpt",
    "facets",
    "filtered facets",
    "seeded random",
    "citation",
    "bibliography",
    "CSV export",
    "JSON Lines export",
    "speakers",
    "speaker",
    "topics",
    "sources",
    "event",
    "schema",
    "JSON schema",
]


def body(response):
    return b"".join(response.streaming_content) if response.streaming else response.content


def etag(client, url, params=None, **headers):
    response = client.get(url, params or {}, **headers)
    assert response.status_code == 200, body(response)[:300]
    return response["ETag"]


@pytest.mark.parametrize("name", READ_NAMES)
def test_a_read_sent_again_with_its_etag_is_a_304_that_runs_only_the_version_query(corpus, client, name):
    url, params = reads(corpus)[name]
    first = client.get(url, params)
    assert first.status_code == 200
    assert first["ETag"].startswith('W/"') and first["ETag"].endswith('"')
    body(first)  # an export streams its rows now
    assert etag(client, url, params) == first["ETag"]

    with CaptureQueriesContext(connection) as queries:
        again = client.get(url, params, HTTP_IF_NONE_MATCH=first["ETag"])

    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == first["ETag"]
    assert again["Cache-Control"] == first["Cache-Control"] == "public, max-age=60"
    assert set(again["Vary"].lower().split(", ")) == set(first["Vary"].lower().split(", ")) >= VARY
    # The schema describes the code, not the data: its ETag needs no query at all.
    expected = [] if name.endswith("schema") else [READ_VERSION[connection.vendor]]
    assert [query["sql"] for query in queries.captured_queries] == expected


def test_a_head_request_with_a_current_etag_is_a_304_too(corpus, client):
    url = reverse("excerpt-list")
    tag = etag(client, url)
    assert client.head(url, HTTP_IF_NONE_MATCH=tag).status_code == 304


def test_a_curator_gets_a_304_for_the_history_without_reading_excerpts(corpus, curator, client_as):
    client = client_as(curator)
    url = reverse("excerpt-history", args=[corpus["draft"].pk])
    first = client.get(url)
    assert first.status_code == 200
    assert first["Cache-Control"] == "private, no-cache"

    with CaptureQueriesContext(connection) as queries:
        again = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])

    assert again.status_code == 304
    assert again["ETag"] == first["ETag"]
    assert again["Cache-Control"] == "private, no-cache"
    assert not [query for query in queries.captured_queries if "excerpts_excerpt" in query["sql"]]


def test_if_none_match_takes_lists_weak_and_strong_forms_and_star(corpus, client):
    url = reverse("excerpt-list")
    tag = etag(client, url)
    strong = tag.removeprefix("W/")
    for header in (tag, strong, f'"stale", {tag}', f'W/"stale",{strong}', "*"):
        assert client.get(url, HTTP_IF_NONE_MATCH=header).status_code == 304, header
    for header in ('"stale"', 'W/"stale", "older"', "not an etag list"):
        response = client.get(url, HTTP_IF_NONE_MATCH=header)
        assert response.status_code == 200, header
        assert response["ETag"] == tag


def test_star_is_a_304_only_where_there_is_an_answer(corpus, client):
    draft, published = (reverse("excerpt-detail", args=[corpus[name].pk]) for name in ("draft", "published"))
    assert client.get(draft, HTTP_IF_NONE_MATCH="*").status_code == 404  # a draft is a 404 to the public
    assert client.get(reverse("excerpt-list"), {"speakr": "x"}, HTTP_IF_NONE_MATCH="*").status_code == 400
    assert client.get(published, HTTP_IF_NONE_MATCH="*").status_code == 304


def test_the_etag_differs_by_role_format_and_query_but_not_by_parameter_order(corpus, curator, client_as):
    anonymous, curating = client_as(None), client_as(curator)
    url = reverse("excerpt-list")
    plain = etag(anonymous, url)

    assert etag(curating, url) != plain
    assert etag(anonymous, url, {"format": "csv"}) != plain
    assert etag(anonymous, url, HTTP_ACCEPT="text/csv") not in {plain, etag(anonymous, url, {"format": "jsonl"})}
    assert etag(anonymous, url, {"speaker": "nikita-khrushchev"}) != plain
    assert etag(anonymous, f"{url}?language=ru&speaker=nikita-khrushchev") == etag(
        anonymous, f"{url}?speaker=nikita-khrushchev&language=ru"
    )
    assert etag(anonymous, reverse("excerpt-facets")) != plain


def test_a_role_s_etag_does_not_get_a_304_for_the_other_role(corpus, curator, client_as):
    url = reverse("excerpt-list")
    curators_copy = etag(client_as(curator), url)  # it lists the draft
    response = client_as(None).get(url, HTTP_IF_NONE_MATCH=curators_copy)
    assert response.status_code == 200
    assert [item["id"] for item in response.json()["results"]] == [corpus["published"].pk]


def test_any_write_changes_every_etag(corpus, superuser, client_as):
    anonymous = client_as(None)
    detail = reverse("speaker-detail", args=[corpus["mao"].slug])
    before = {url: etag(anonymous, url) for url in (reverse("excerpt-list"), detail)}

    written = client_as(superuser).patch(detail, {"name": "Mao Tse-tung"}, format="json")
    assert written.status_code == 200

    for url, old in before.items():
        response = anonymous.get(url, HTTP_IF_NONE_MATCH=old)
        assert response.status_code == 200, url
        assert response["ETag"] != old
    assert anonymous.get(detail).json()["name"] == "Mao Tse-tung"


def test_a_changed_limit_changes_the_etag(corpus, client):
    url = reverse("excerpt-list")
    tag = etag(client, url)
    with override_settings(EXCERPTS_LIMITS={"PAGE_SIZE": 5}):
        assert etag(client, url) != tag


def test_a_random_draw_without_a_seed_has_no_etag_and_is_not_stored(corpus, client):
    response = client.get(reverse("excerpt-random"), HTTP_IF_NONE_MATCH="*")
    assert response.status_code == 200
    assert "ETag" not in response
    assert response["Cache-Control"] == "no-store"


def test_cache_control_is_public_for_anonymous_reads_and_private_for_authenticated_callers(corpus, users, client_as):
    url = reverse("excerpt-list")
    with override_settings(API_CACHE_MAX_AGE=17):
        assert client_as(None).get(url)["Cache-Control"] == "public, max-age=17"
        for role in ("reader", "curator", "admin"):
            response = client_as(users[role]).get(url)
            assert response["Cache-Control"] == "private, no-cache", role
            assert set(response["Vary"].lower().split(", ")) >= VARY


def test_a_session_caller_is_private_too(corpus, curator, client):
    client.force_login(curator)
    response = client.get(reverse("excerpt-list"))
    assert response["Cache-Control"] == "private, no-cache"
    assert "cookie" in response["Vary"].lower()


def test_errors_and_writes_get_no_etag(corpus, curator, client_as):
    anonymous = client_as(None)
    for response in (
        anonymous.get(reverse("excerpt-list"), {"speakr": "x"}),
        anonymous.get(reverse("excerpt-detail", args=[corpus["draft"].pk])),
        anonymous.get(reverse("excerpt-history", args=[corpus["published"].pk])),
    ):
        assert response.status_code in (400, 401, 404)
        assert "ETag" not in response
        assert "public" not in response.get("Cache-Control", "")
    written = client_as(curator).post(reverse("excerpt-list"), factories.excerpt_body(corpus), format="json")
    assert written.status_code == 201
    assert "ETag" not in written
    assert "Cache-Control" not in written


class StoredFileView(ConditionalGetMixin, APIView):
    """A view that answers with a stored file under the file's own strong ETag, as the bulk dumps do."""

    permission_classes = []

    def get(self, request):
        response = HttpResponse(gzip.compress(b"id,text\n"), content_type="application/gzip")
        response["ETag"] = '"the-file-checksum"'
        return response


def test_a_view_that_sets_its_own_etag_keeps_it(db):
    response = StoredFileView.as_view()(RequestFactory().get("/api/v1/dumps/excerpts.csv.gz"))
    assert response.status_code == 200
    assert response["ETag"] == '"the-file-checksum"'
    assert "Cache-Control" not in response


# Compression.


def test_json_is_gzipped_for_a_client_that_accepts_it(corpus, client):
    factories.excerpt("A long excerpt. " * 100)  # the list is well over API_GZIP_MIN_LENGTH
    url = reverse("excerpt-list")
    plain = client.get(url)
    zipped = client.get(url, HTTP_ACCEPT_ENCODING="gzip, deflate, br")

    assert "Content-Encoding" not in plain
    assert zipped["Content-Encoding"] == "gzip"
    assert zipped["Content-Type"] == "application/json"
    assert len(zipped.content) < len(plain.content)
    assert json.loads(gzip.decompress(zipped.content)) == plain.json()
    assert zipped["ETag"] == plain["ETag"]


def test_a_gzip_client_gets_a_304_for_the_etag_of_its_gzipped_copy(corpus, client):
    factories.excerpt("A long excerpt. " * 100)
    url = reverse("excerpt-list")
    zipped = client.get(url, HTTP_ACCEPT_ENCODING="gzip")
    assert zipped["Content-Encoding"] == "gzip"

    again = client.get(url, HTTP_ACCEPT_ENCODING="gzip", HTTP_IF_NONE_MATCH=zipped["ETag"])

    assert again.status_code == 304
    assert again["ETag"] == zipped["ETag"]
    assert "Content-Encoding" not in again


def test_a_streamed_export_is_gzipped_as_it_streams(corpus, client):
    for number in range(30):
        factories.excerpt(f"Exported words {number}.", speaker=corpus["khrushchev"])
    url = reverse("excerpt-list")
    plain = client.get(url, {"format": "csv"})
    zipped = client.get(url, {"format": "csv"}, HTTP_ACCEPT_ENCODING="gzip")

    assert zipped.streaming
    assert zipped["Content-Encoding"] == "gzip"
    assert "Content-Length" not in zipped
    assert gzip.decompress(body(zipped)) == body(plain)


def test_problem_details_schema_and_citations_are_gzipped(corpus, client):
    unknown = client.get(reverse("excerpt-list"), {"speakr": "x"}, HTTP_ACCEPT_ENCODING="gzip")
    assert unknown.status_code == 400
    assert unknown["Content-Encoding"] == "gzip"
    assert json.loads(gzip.decompress(unknown.content))["errors"][0]["name"] == "speakr"
    schema = client.get(reverse("schema"), HTTP_ACCEPT_ENCODING="gzip")
    assert schema["Content-Encoding"] == "gzip"
    assert gzip.decompress(schema.content).startswith(b"openapi:")
    for number in range(10):
        factories.excerpt(f"Cited words {number}.")
    cited = client.get(reverse("excerpt-cite-list"), {"style": "ris"}, HTTP_ACCEPT_ENCODING="gzip")
    assert cited["Content-Encoding"] == "gzip"


def test_short_bodies_and_html_pages_are_not_gzipped(corpus, curator):
    client = Client()
    short = client.get(reverse("topic-detail", args=[corpus["topic"].slug]), HTTP_ACCEPT_ENCODING="gzip")
    assert short.status_code == 200 and len(short.content) < 512
    assert "Content-Encoding" not in short
    # Admin pages carry a CSRF token: compressing them beside reflected input would expose it (BREACH).
    login = client.get(reverse("admin:login"), HTTP_ACCEPT_ENCODING="gzip")
    assert login.status_code == 200 and len(login.content) > 1000
    assert "Content-Encoding" not in login
    client.force_login(curator)
    changelist = client.get(reverse("admin:excerpts_excerpt_changelist"), HTTP_ACCEPT_ENCODING="gzip")
    assert changelist.status_code == 200
    assert "Content-Encoding" not in changelist
    docs = client.get(reverse("swagger-ui"), HTTP_ACCEPT_ENCODING="gzip")
    assert "Content-Encoding" not in docs


def test_gzip_files_and_partial_content_are_never_compressed_again():
    request = RequestFactory().get("/api/v1/dumps/excerpts.csv.gz", HTTP_ACCEPT_ENCODING="gzip")
    dump = gzip.compress(b"id,text\n" * 2000)
    middleware = APIGZipMiddleware(lambda request: None)

    whole = middleware.process_response(request, HttpResponse(dump, content_type="application/gzip"))
    assert "Content-Encoding" not in whole
    assert whole.content == dump

    part = HttpResponse(b"x" * 5000, content_type="text/csv", status=206)
    part["Content-Range"] = "bytes 0-4999/20000"
    assert "Content-Encoding" not in middleware.process_response(request, part)


# The schema.


def test_the_schema_documents_if_none_match_and_the_304_of_every_get():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    gets = [operation for path in schema["paths"].values() for method, operation in path.items() if method == "get"]
    # Every GET but the redirect to the newest dump (which never answers 304).
    redirect = schema["paths"]["/api/v1/dumps/latest.{format}.gz"]["get"]
    assert "304" not in redirect["responses"]
    assert "If-None-Match" not in [parameter["name"] for parameter in redirect["parameters"]]
    gets.remove(redirect)
    assert len(gets) == 28  # 17, and the 11 operations of the export, JSON-LD and citation formats
    for operation in gets:
        headers = [parameter["name"] for parameter in operation["parameters"] if parameter["in"] == "header"]
        # A dump file also takes a byte range (excerpts/api/downloads.py).
        ranges = ["If-Range", "Range"] if operation["operationId"] == "v1_dumps_file" else []
        assert sorted(headers) == sorted(["If-None-Match", *ranges]), operation["operationId"]
        assert "content" not in operation["responses"]["304"]
        rate_limits = {"RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"}
        expected = {"ETag", "Cache-Control", *rate_limits}
        if operation["operationId"].startswith("v1_dumps"):
            # The bulk dumps add their own (Last-Modified, Repr-Digest, ...): checked in test_dumps.py.
            assert set(operation["responses"]["304"]["headers"]) >= expected, operation["operationId"]
            assert set(operation["responses"]["200"]["headers"]) >= expected, operation["operationId"]
        else:
            assert set(operation["responses"]["304"]["headers"]) == expected, operation["operationId"]
            # A list's pages link to each other in a Link header too (tests/test_links_and_redirects.py).
            lists = ["v1_excerpts_list", "v1_speakers_list", "v1_topics_list", "v1_sources_list", "v1_events_list"]
            paged = {"Link"} if operation["operationId"] in lists else set()
            assert set(operation["responses"]["200"]["headers"]) == expected | paged, operation["operationId"]
    posts = [operation for path in schema["paths"].values() for method, operation in path.items() if method == "post"]
    assert posts
    assert not any("304" in operation["responses"] for operation in posts)


# The benchmark's measurement, against the live test server (the command itself starts gunicorn).


# Serialized like the suite's other committing tests: a plain flush would leave the next one's restore to collide.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_benchmark_counts_full_answers_and_304s_over_http(live_server, settings):
    # As the command does for its gunicorn: the measurement is the server's, not the rate limits'.
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {}}
    factories.corpus()
    out = StringIO()
    port = urlsplit(live_server.url).port

    rates = benchmark_http_cache.Command(stdout=out).measure(port, reverse("excerpt-list"), seconds=0.5, threads=2)

    full, not_modified = rates["full"], rates["304"]
    assert full > 0 and not_modified > 0
    printed = f"full {full:.0f} req/s, 304 {not_modified:.0f} req/s, ratio {not_modified / full:.1f}x"
    assert out.getvalue() == f"{reverse('excerpt-list')}: {printed}\n"
