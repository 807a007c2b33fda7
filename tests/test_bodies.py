"""
Hostile request bodies are refused before they cost anything, each with a problem detail naming the problem:
too large (413), compressed or in another charset than UTF-8 (415), nested too deep, holding lone surrogates or
too many topics (400).
"""

import io
import json
import tracemalloc
import zlib

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from excerpts.api.parsers import RequestTooLarge, StrictJSONParser
from excerpts.models import Excerpt
from excerpts.research import limits
from tests import factories

pytestmark = pytest.mark.django_db

PROBLEMS = "https://excerpts.invalid/problems/"


@pytest.fixture
def send(corpus, curator, client_as):
    """send(body bytes, content type, **headers): the curator's POST of a new excerpt."""
    client = client_as(curator)

    def post(body, content_type="application/json", **headers):
        return client.generic("POST", reverse("excerpt-list"), body, content_type=content_type, **headers)

    return post


@pytest.fixture
def body(corpus):
    """A valid new excerpt, as JSON bytes."""
    return json.dumps(factories.excerpt_body(corpus)).encode()


def problem(response, status, kind):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    answer = response.json()
    assert (answer["status"], answer["type"]) == (status, PROBLEMS + kind)
    return answer


def test_a_valid_body_is_still_accepted_in_utf_8_uncompressed(send, body):
    assert send(body, "application/json; charset=UTF-8", HTTP_CONTENT_ENCODING="identity").status_code == 201
    assert send(body, "application/json; charset=utf8").status_code == 201


def test_a_body_over_the_size_limit_is_a_413_naming_the_limit(send):
    response = send(b" " * (limits.MAX_BODY_BYTES + 1))

    answer = problem(response, 413, "too-large")
    assert f"{limits.MAX_BODY_BYTES + 1:,} bytes" in answer["detail"]
    assert f"at most {limits.MAX_BODY_BYTES:,} (MAX_BODY_BYTES)" in answer["detail"]
    assert not Excerpt.objects.filter(text__startswith="Imperialism").exists()


class CountingStream(io.BytesIO):
    """A body stream that records how many bytes were read from it."""

    taken = 0

    def read(self, size=-1):
        chunk = super().read(size)
        self.taken += len(chunk)
        return chunk


def test_a_body_without_a_length_is_read_no_further_than_the_limit(rf):
    # A chunked body has no Content-Length: the parser reads one byte past the limit, then refuses.
    stream = CountingStream(b"[" + b" " * (3 * limits.MAX_BODY_BYTES) + b"]")
    request = rf.post("/", content_type="application/json")
    del request.META["CONTENT_LENGTH"]

    with pytest.raises(RequestTooLarge):
        StrictJSONParser().parse(stream, "application/json", {"request": request})
    assert stream.taken == limits.MAX_BODY_BYTES + 1


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "br", "gzip, identity"])
def test_a_compressed_body_is_a_415_and_never_decompressed(send, body, encoding):
    response = send(zlib.compress(body), HTTP_CONTENT_ENCODING=encoding)

    answer = problem(response, 415, "unsupported-media-type")
    assert f"Content-Encoding: {encoding} is not accepted" in answer["detail"]


@pytest.mark.parametrize("charset", ["zlib", "rot13", "klingon", "latin-1", "utf-16", "base64"])
def test_a_charset_other_than_utf_8_is_a_415_naming_it(send, body, charset):
    response = send(body, f"application/json; charset={charset}")

    answer = problem(response, 415, "unsupported-media-type")
    assert f"charset={charset} is not accepted" in answer["detail"]


def test_a_zlib_bomb_in_the_charset_costs_no_memory(send):
    # 200 MB of JSON compressed into about 200 KB, as the issue sent it; the server must not inflate it.
    compressor = zlib.compressobj(9)
    chunk = b" " * 1_000_000
    bomb = compressor.compress(b"[") + b"".join(compressor.compress(chunk) for _ in range(200))
    bomb += compressor.compress(b"]") + compressor.flush()
    assert len(bomb) < limits.MAX_BODY_BYTES

    tracemalloc.start()
    try:
        response = send(bomb, "application/json; charset=zlib")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    problem(response, 415, "unsupported-media-type")
    assert peak < 10 * 2**20, f"{peak / 2**20:.0f} MB"


def test_json_nested_deeper_than_the_limit_is_a_400_naming_the_depth(send):
    response = send(b"[" * 1000 + b"]" * 1000)

    answer = problem(response, 400, "invalid-request")
    assert f"more than {limits.MAX_JSON_DEPTH} levels deep (MAX_JSON_DEPTH)" in answer["detail"]


def test_brackets_inside_strings_are_no_nesting(send, corpus):
    text = '[{"quoted \\" bracket": ' * 100 + "end"
    response = send(json.dumps(factories.excerpt_body(corpus, text=text)).encode())

    assert response.status_code == 201, response.content
    assert response.json()["text"] == text


@pytest.mark.parametrize(
    ("raw", "name"),
    [
        (b'"text": "words \\ud800 alone"', "text"),
        (b'"\\udfff": 1', "request"),
        (b'"topics": ["\\ud83d"]', "topics[0]"),
    ],
)
def test_a_lone_surrogate_in_a_key_or_a_value_is_a_400_naming_where(send, body, raw, name):
    response = send(body[:-1] + b", " + raw + b"}")

    answer = problem(response, 400, "invalid-request")
    assert [error["name"] for error in answer["errors"]] == [name]
    assert "lone surrogate" in answer["errors"][0]["reason"]


def test_a_paired_surrogate_escape_is_a_character_and_accepted(send, corpus):
    response = send(json.dumps(factories.excerpt_body(corpus, text="A paper tiger \U0001f42f.")).encode())

    assert response.status_code == 201, response.content
    assert response.json()["text"] == "A paper tiger \U0001f42f."


def test_more_topics_than_the_limit_are_a_400_before_any_is_looked_up(send, corpus):
    many = {**factories.excerpt_body(corpus), "topics": [f"topic-{number}" for number in range(10_000)]}

    with CaptureQueriesContext(connection) as queries:
        response = send(json.dumps(many).encode())

    answer = problem(response, 400, "invalid-request")
    assert answer["errors"] == [
        {"name": "topics", "reason": f"10,000 topics; an excerpt has at most {limits.MAX_TOPICS} (MAX_TOPICS)."}
    ]
    assert not [query for query in queries.captured_queries if "excerpts_topic" in query["sql"]]


def test_up_to_the_topic_limit_every_topic_is_kept(send, corpus, monkeypatch):
    monkeypatch.setattr(limits, "MAX_TOPICS", 2)
    second = factories.topic("hundred-flowers", "Hundred Flowers")
    topics = [corpus["topic"].slug, second.slug]

    accepted = send(json.dumps({**factories.excerpt_body(corpus), "topics": topics}).encode())
    refused = send(json.dumps({**factories.excerpt_body(corpus), "topics": [*topics, topics[0]]}).encode())

    assert accepted.status_code == 201, accepted.content
    assert sorted(topic["slug"] for topic in accepted.json()["topics"]) == sorted(topics)
    assert refused.status_code == 400
