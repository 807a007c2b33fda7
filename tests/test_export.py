"""Bulk export of the whole filtered excerpt list as CSV and JSON Lines."""

import csv
import datetime
import io
import json

import pytest
from django.urls import reverse

from excerpts.api import renderers
from excerpts.models import Excerpt
from tests import factories

pytestmark = pytest.mark.django_db

LIST = "excerpt-list"


@pytest.fixture
def twenty_five_excerpts():
    mao = factories.speaker("mao-zedong", "Mao Zedong")
    daily = factories.source("peoples-daily", "People's Daily", kind="newspaper", author="Editorial Board")
    book = factories.source("selected-works", "Selected Works")
    communes, leap = factories.topic("communes", "Communes"), factories.topic("great-leap", "Great Leap Forward")
    lushan = factories.event("lushan", "Lushan Conference", date="1959-07")
    excerpts = [
        factories.excerpt(
            f'Excerpt number {i}, with "quotes", commas and\na line break.',
            speaker=mao,
            source=daily if i % 2 else book,
            topics=[communes, leap] if i % 3 == 0 else [leap],
            date=f"{1950 + i % 10}",
            event=lushan if i == 0 else None,
            quoted_in=book if i == 1 else None,
            locator=f"p. {i + 1}",
        )
        for i in range(25)  # more than a page: the export is the whole list
    ]
    factories.excerpt("Unpublished.", speaker=mao, source=daily, status=Excerpt.Status.DRAFT)
    return excerpts


def body(response):
    return b"".join(response.streaming_content).decode()


def test_csv_export_streams_every_match_not_one_page(client, twenty_five_excerpts):
    response = client.get(reverse(LIST), {"format": "csv", "page_size": 5})
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    today = datetime.datetime.now(datetime.UTC).date().isoformat()
    assert response["Content-Disposition"] == f'attachment; filename="excerpts_{today}.csv"'
    rows = list(csv.DictReader(io.StringIO(body(response))))
    assert [int(row["id"]) for row in rows] == [
        e.pk for e in sorted(twenty_five_excerpts, key=lambda e: (e.date_start, e.pk))
    ]


def test_csv_flattens_speaker_event_source_and_joins_topics_with_semicolons(client, twenty_five_excerpts):
    rows = {
        int(row["id"]): row for row in csv.DictReader(io.StringIO(body(client.get(reverse(LIST), {"format": "csv"}))))
    }
    first, second = rows[twenty_five_excerpts[0].pk], rows[twenty_five_excerpts[1].pk]
    assert tuple(first) == renderers.CSV_COLUMNS
    assert first["text"] == 'Excerpt number 0, with "quotes", commas and\na line break.'
    assert (first["speaker_slug"], first["speaker_name"]) == ("mao-zedong", "Mao Zedong")
    assert (first["event_slug"], first["event_name"]) == ("lushan", "Lushan Conference")
    assert first["topics"] == "communes;great-leap"
    assert (first["source_title"], first["locator"], first["date_start"]) == ("Selected Works", "p. 1", "1950-01-01")
    assert (second["event_slug"], second["quoted_in_title"], second["topics"]) == ("", "Selected Works", "great-leap")
    assert second["source_author"] == "Editorial Board"


def test_accept_text_csv_exports_the_filtered_list(client, twenty_five_excerpts):
    response = client.get(reverse(LIST), {"topic": "communes"}, HTTP_ACCEPT="text/csv")
    rows = list(csv.DictReader(io.StringIO(body(response))))
    assert sorted(int(row["id"]) for row in rows) == [e.pk for e in twenty_five_excerpts[::3]]


@pytest.mark.parametrize(
    ("params", "accept", "content_type"),
    [
        ({"format": "jsonl"}, None, "application/jsonl"),
        ({}, "application/jsonl", "application/jsonl"),
        ({}, "application/x-ndjson", "application/x-ndjson"),
    ],
)
def test_json_lines_carry_each_excerpt_as_the_api_shows_it(client, twenty_five_excerpts, params, accept, content_type):
    headers = {"HTTP_ACCEPT": accept} if accept else {}
    response = client.get(reverse(LIST), {**params, "speaker": "mao-zedong"}, **headers)
    assert response["Content-Type"] == content_type
    lines = body(response).splitlines()
    assert len(lines) == 25
    item = json.loads(lines[0])
    detail = client.get(reverse("excerpt-detail", kwargs={"pk": item["id"]})).json()
    detail.pop("highlight")
    assert item == detail


def test_export_of_a_search_is_in_relevance_order_without_highlights(client, twenty_five_excerpts):
    speaker, source = twenty_five_excerpts[0].speaker, twenty_five_excerpts[0].source
    weak = factories.excerpt(
        "A single famine mention in a rather long sentence of many words.", speaker=speaker, source=source
    )
    strong = factories.excerpt("Famine, famine, famine.", speaker=speaker, source=source)
    lines = body(client.get(reverse(LIST), {"format": "jsonl", "q": "famine"})).splitlines()
    assert [json.loads(line)["id"] for line in lines] == [strong.pk, weak.pk]
    assert "highlight" not in json.loads(lines[0])


def test_export_fetches_topics_per_chunk_not_per_row(client, twenty_five_excerpts, django_assert_max_num_queries):
    # The data version (for the ETag), the Excerpt-Count, the ids, their rows and their topics: one chunk of each.
    with django_assert_max_num_queries(5):
        assert len(body(client.get(reverse(LIST), {"format": "jsonl"})).splitlines()) == 25


def test_an_unknown_format_is_a_400_problem_not_a_404(client, twenty_five_excerpts):
    response = client.get(reverse(LIST), {"format": "xml"})
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["errors"] == [{"name": "format", "reason": "Unknown format. Use one of: json, csv, jsonl."}]


def test_a_bad_filter_on_an_export_is_a_json_problem_not_csv(client, twenty_five_excerpts):
    response = client.get(reverse(LIST), {"format": "csv", "speakr": "mao"})
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["errors"][0]["name"] == "speakr"


@pytest.mark.parametrize("format", ["csv", "jsonl"])
def test_the_export_says_how_many_rows_a_complete_body_has(client, twenty_five_excerpts, format):
    response = client.get(reverse(LIST), {"format": format, "topic": "communes"})
    text = body(response)
    rows = list(csv.DictReader(io.StringIO(text))) if format == "csv" else text.splitlines()
    assert response["Excerpt-Count"] == str(len(rows)) == "9"


def test_the_count_of_a_search_export_is_that_of_its_matches(client, twenty_five_excerpts):
    response = client.get(reverse(LIST), {"format": "jsonl", "q": "quotes -number"})
    assert response["Excerpt-Count"] == "0"
    response = client.get(reverse(LIST), {"format": "jsonl", "q": "quotes"})
    assert response["Excerpt-Count"] == str(len(body(response).splitlines())) == "25"


@pytest.mark.parametrize("format", ["csv", "jsonl"])
def test_a_head_on_an_export_runs_no_export_query_and_has_the_get_headers(
    client, twenty_five_excerpts, format, django_assert_num_queries
):
    # Only the data version, which the ETag is made from; the export itself runs nothing.
    with django_assert_num_queries(1):
        response = client.head(reverse(LIST), {"format": format})
    get = client.get(reverse(LIST), {"format": format})
    assert response.status_code == 200
    assert response["ETag"] == get["ETag"]
    assert response["Content-Type"] == get["Content-Type"]
    assert response["Content-Disposition"] == get["Content-Disposition"]
    assert "Excerpt-Count" not in response
    assert b"".join(response.streaming_content) == b""


@pytest.mark.parametrize("format", ["csv", "jsonl"])
def test_an_export_streams_its_lines_in_blocks_not_a_write_per_line(client, twenty_five_excerpts, monkeypatch, format):
    whole = body(client.get(reverse(LIST), {"format": format}))
    monkeypatch.setattr(renderers, "EXPORT_BLOCK_BYTES", 2000)
    chunks = list(client.get(reverse(LIST), {"format": format}).streaming_content)
    assert b"".join(chunks).decode() == whole
    assert 1 < len(chunks) < len(twenty_five_excerpts), len(chunks)
    # Each block but the last holds whole lines and at least the block's size.
    assert all(len(chunk) >= 2000 and chunk.endswith(b"\n") for chunk in chunks[:-1])


def test_blocks_close_what_they_were_made_of():
    closed = []

    def lines():
        try:
            yield b"a\n"
            yield b"b\n"
        finally:
            closed.append(True)

    stream = renderers.blocks(lines(), size=1)
    assert next(stream) == b"a\n"
    stream.close()
    assert closed == [True]
