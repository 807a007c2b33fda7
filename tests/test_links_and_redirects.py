"""
What a client that follows links expects of the API: RFC 8288 Link headers on pages, a `_` cache-buster taken and
ignored, a missing trailing slash redirected, and `format` answered on every list the same way.
"""

import io
import re

import pytest
import yaml
from django.core.management import call_command
from django.urls import reverse

from excerpts.api import filters
from tests import factories

REFERENCE_LISTS = ["speaker-list", "topic-list", "source-list", "event-list"]


@pytest.fixture
def three_excerpts(db):
    mao = factories.speaker("mao-zedong", "Mao Zedong")
    return [factories.excerpt(speaker=mao, date=date) for date in ("1956", "1957", "1958")]


@pytest.fixture(scope="module")
def document():
    output = io.StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=output)
    return yaml.safe_load(output.getvalue())


def parse_links(header):
    """{rel: url} of an RFC 8288 Link header."""
    return {rel: url for url, rel in re.findall(r'<([^>]*)>; rel="([^"]*)"', header)}


def test_each_page_links_to_the_next_and_previous_pages_in_a_link_header_with_the_bodys_urls(client, three_excerpts):
    first = client.get(reverse("excerpt-list"), {"page_size": 1, "speaker": "mao-zedong"})
    body = first.json()
    assert body["next"].startswith("http://testserver/api/v1/excerpts/?")
    assert first["Link"] == f'<{body["next"]}>; rel="next"'

    second = client.get(body["next"])
    body = second.json()
    assert parse_links(second["Link"]) == {"next": body["next"], "prev": body["previous"]}
    assert second["Link"].count("rel=") == 2

    last = client.get(body["next"])
    body = last.json()
    assert body["next"] is None
    assert parse_links(last["Link"]) == {"prev": body["previous"]}
    assert [page.json()["results"][0]["id"] for page in (first, second, last)] == [e.pk for e in three_excerpts]


def test_a_single_page_has_no_link_header_and_the_reference_lists_link_their_pages_too(client, three_excerpts):
    assert not client.get(reverse("excerpt-list")).has_header("Link")
    sources = client.get(reverse("source-list"), {"page_size": 1})
    assert parse_links(sources["Link"]) == {"next": sources.json()["next"]}


def test_a_link_header_is_kept_with_the_answer_and_never_sent_for_another_request(three_excerpts, curator):
    # An anonymous repeat is answered before DRF (RepeatedReadsMiddleware), a curator's from the answers kept under
    # its ETag: both send the Link of the answer they repeat, and a different query gets links of its own.
    for client in (factories.api_client(), factories.api_client(curator)):
        answers = [client.get(reverse("excerpt-list"), {"page_size": 1, "_": buster}) for buster in (1, 1, 2)]
        links = [parse_links(answer["Link"])["next"] for answer in answers]
        assert links[0] == links[1] == answers[1].json()["next"]
        assert "_=1" in links[0]
        assert links[2] == answers[2].json()["next"] and "_=2" in links[2]


def test_browsers_on_other_origins_may_read_the_link_header(client, three_excerpts):
    response = client.get(reverse("excerpt-list"), {"page_size": 1}, HTTP_ORIGIN="https://elsewhere.example")
    assert "link" in response["Access-Control-Expose-Headers"].lower().replace(" ", "").split(",")


def test_the_schema_documents_the_link_header_of_every_paginated_list(document):
    for name in ["excerpt-list", *REFERENCE_LISTS]:
        headers = document["paths"][reverse(name)]["get"]["responses"]["200"]["headers"]
        assert "RFC 8288" in headers["Link"]["description"], name
    assert "Link" not in document["paths"][reverse("excerpt-facets")]["get"]["responses"]["200"].get("headers", {})


def body(response):
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_every_read_that_checks_its_parameters_takes_a_cache_buster_and_answers_as_without_it(
    document, three_excerpts
):
    client = factories.api_client()
    excerpt = three_excerpts[0]
    fills = {"{id}": str(excerpt.pk), "{slug}": "mao-zedong"}
    sources = {
        reverse("source-detail", args=[1]).replace("/1/", "/{id}/"): reverse("source-detail", args=[excerpt.source_id])
    }
    walked = 0
    for path, operations in document["paths"].items():
        parameters = {p["name"]: p for p in operations.get("get", {}).get("parameters", []) if p["in"] == "query"}
        if "_" not in parameters:
            continue
        assert "cache-buster" in parameters["_"]["description"]
        url = sources.get(path) or re.sub(r"\{[a-z]+\}", lambda match: fills[match.group()], path)
        if path.startswith(("/api/v1/topics/{", "/api/v1/events/{")):
            continue  # no topic or event in this corpus
        asked = {"seed": 1} if path == reverse("excerpt-random") else {}
        plain, busted = client.get(url, asked), client.get(url, {**asked, "_": "1733300000000"})
        assert busted.status_code == plain.status_code == 200, path
        if plain["Content-Type"].startswith("application/json") and not plain.streaming:
            without_links = [
                {key: value for key, value in answer.json().items() if key not in ("next", "previous")}
                if isinstance(answer.json(), dict)
                else answer.json()
                for answer in (plain, busted)
            ]
            assert without_links[0] == without_links[1], path
        else:
            assert body(plain) == body(busted), path
        walked += 1
    assert walked >= 12
    # Nothing in the operations without the strict filter backend: the dumps and an excerpt's history.
    assert "_" not in str(document["paths"][reverse("dump-list")]["get"].get("parameters", []))


def test_the_cache_buster_does_not_multiply_what_is_kept_for_the_filters(client, three_excerpts):
    for buster in range(5):
        assert client.get(reverse("excerpt-list"), {"speaker": "mao-zedong", "_": buster}).status_code == 200
    assert len([key for key in filters.FILTERED_QUERYSETS.entries if key[0].__name__ == "ExcerptViewSet"]) == 1


@pytest.mark.parametrize("method", ["get", "head"])
def test_a_read_of_a_path_without_its_trailing_slash_is_redirected_to_it_with_its_query(
    client, method, three_excerpts
):
    paths = [
        reverse("excerpt-list"),
        reverse("excerpt-facets"),
        reverse("excerpt-detail", args=[three_excerpts[0].pk]),
        reverse("speaker-detail", args=["mao-zedong"]),
        reverse("dump-list"),
        reverse("schema"),
        reverse("swagger-ui"),
    ]
    for path in paths:
        response = getattr(client, method)(path.rstrip("/") + "?q=war&speaker=mao-zedong")
        assert response.status_code == 301, path
        assert response["Location"] == path + "?q=war&speaker=mao-zedong"


def test_a_missing_slash_is_still_a_404_for_a_write_and_for_a_path_that_is_no_endpoint(client, db):
    response = client.post(reverse("excerpt-list").rstrip("/"), {}, content_type="application/json")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    response = client.get(reverse("excerpt-list") + "nothing-here")
    assert response.status_code == 404
    assert response.json()["status"] == 404


def test_the_schema_says_a_missing_slash_is_redirected(document):
    assert "without its trailing slash is redirected (301)" in document["info"]["description"]


@pytest.mark.parametrize("name", REFERENCE_LISTS)
def test_format_on_a_reference_list_answers_as_on_the_excerpt_list(client, name, three_excerpts, document):
    assert client.get(reverse(name), {"format": "json"}).json() == client.get(reverse(name)).json()
    response = client.get(reverse(name), {"format": "csv"})
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["errors"] == [{"name": "format", "reason": "Unknown format. Use one of: json."}]
    parameters = {p["name"]: p for p in document["paths"][reverse(name)]["get"]["parameters"]}
    assert parameters["format"]["schema"]["enum"] == ["json"]


def test_an_unknown_format_on_the_excerpt_list_is_the_same_problem(client, db):
    response = client.get(reverse("excerpt-list"), {"format": "xml"})
    assert response.status_code == 400
    assert response.json()["errors"] == [{"name": "format", "reason": "Unknown format. Use one of: json, csv, jsonl."}]
