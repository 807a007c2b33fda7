"""
The excerpt's one list of fields and what is derived from it (the serializers, the CSV export, the import's columns,
the admin's form), the export renderers, and the one writer of history entries.
"""

import datetime
import json

import pytest
from django.contrib.admin.sites import site
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from excerpts.api.renderers import CSVRenderer, JSONLinesRenderer
from excerpts.api.serializers import ExcerptWriteSerializer
from excerpts.excerpt_fields import CSV_COLUMNS, DATE_BOUNDS, FIELDS, PUBLIC_FIELDS, WRITABLE_FIELDS
from excerpts.history import record_versions
from excerpts.imports import COLUMNS
from excerpts.imports.columns import DERIVED_COLUMNS, TEXT_COLUMNS, WRITTEN_FIELDS
from excerpts.models import Excerpt
from excerpts.research import limits

pytestmark = pytest.mark.django_db

HistoricalExcerpt = Excerpt.history.model


def test_the_csv_export_has_the_public_fields_with_each_related_object_flattened_and_no_highlight():
    assert list(CSV_COLUMNS) == [
        *("id", "url", "text", "kind", "attribution", "speaker_slug", "speaker_name"),
        *("date", "date_start", "date_end", "date_display", "event_slug", "event_name"),
        *("source_id", "source_title", "source_author", "locator", "quoted_in_id", "quoted_in_title"),
        *("quoted_in_locator", "topics", "language", "original_text", "translator", "context", "citation"),
    ]


def test_the_import_reads_the_writable_fields_after_the_id_and_ignores_what_the_csv_export_derives():
    assert list(COLUMNS) == ["id", *WRITABLE_FIELDS]
    assert list(WRITABLE_FIELDS) == [
        *("text", "kind", "attribution", "speaker", "date", "event", "source", "locator", "quoted_in"),
        *("quoted_in_locator", "topics", "language", "original_text", "translator", "context", "status"),
    ]
    assert set(DERIVED_COLUMNS) == {
        *("url", "speaker_name", "date_start", "date_end", "date_display"),
        *("event_name", "source_title", "source_author", "quoted_in_title", "citation"),
    }
    assert list(TEXT_COLUMNS) == [
        *("text", "kind", "attribution", "date", "locator", "quoted_in_locator"),
        *("language", "original_text", "translator", "context", "status"),
    ]
    assert sorted(WRITTEN_FIELDS) == sorted(
        [*TEXT_COLUMNS, "speaker_id", "event_id", "source_id", "quoted_in_id", *DATE_BOUNDS]
    )


def test_the_public_and_the_curators_read_the_declared_fields_in_their_order(client, corpus, curator):
    url = reverse("excerpt-detail", kwargs={"pk": corpus["published"].pk})

    public = client.get(url).json()
    client.force_login(curator)
    curated = client.get(url).json()

    assert tuple(public) == PUBLIC_FIELDS
    assert tuple(curated) == FIELDS
    assert tuple(curated)[-3:] == ("status", "created", "updated")


def test_the_write_serializer_accepts_the_writable_fields_alone():
    fields = ExcerptWriteSerializer().fields
    assert tuple(name for name, field in fields.items() if not field.read_only) == WRITABLE_FIELDS


def test_the_admin_form_shows_each_writable_field_the_date_bounds_and_the_timestamps_once():
    admin = site._registry[Excerpt]
    shown = [name for _, options in admin.fieldsets for name in options["fields"]]

    assert sorted(shown) == sorted([*WRITABLE_FIELDS, *DATE_BOUNDS, "created", "updated"])
    assert sorted(admin.readonly_fields) == sorted([*DATE_BOUNDS, "created", "updated"])


def item(**overrides):
    """An excerpt as the API shows it, with no event and no quoted_in."""
    return {
        "id": 7,
        "url": "http://testserver/api/v1/excerpts/7/",
        "text": '東風壓倒西風, "the east wind"',
        "kind": "speech",
        "attribution": "direct",
        "speaker": {"slug": "mao-zedong", "name": "Mao Zedong", "url": "http://testserver/api/v1/speakers/mao/"},
        "date": "1957-11",
        "date_start": "1957-11-01",
        "date_end": "1957-11-30",
        "date_display": "November 1957",
        "event": None,
        "source": {"id": 3, "title": "People's Daily", "author": "", "date": "", "url": None},
        "locator": "p. 1",
        "quoted_in": None,
        "quoted_in_locator": "",
        "topics": [{"slug": "communes", "name": "Communes"}, {"slug": "great-leap", "name": "Great Leap"}],
        "language": "zh",
        "original_text": "",
        "translator": "",
        "context": "",
        "citation": "Mao Zedong, speech, November 1957.",
        **overrides,
    }


def test_the_csv_renderer_renders_excerpts_as_encoded_lines_after_a_header():
    chunks = list(CSVRenderer().render([item(), item(id=8, status="draft")]))

    assert chunks[0] == (",".join(CSV_COLUMNS) + "\r\n").encode()
    assert (
        chunks[1]
        == (
            '7,http://testserver/api/v1/excerpts/7/,"東風壓倒西風, ""the east wind""",speech,direct,mao-zedong,'
            "Mao Zedong,1957-11,1957-11-01,1957-11-30,November 1957,,,3,People's Daily,,p. 1,,,,communes;great-leap,"
            'zh,,,,"Mao Zedong, speech, November 1957."\r\n'
        ).encode()
    )
    # A curator's excerpt has its status too; the CSV's columns stay the same.
    assert chunks[2].startswith(b"8,") and chunks[2].count(b",") == chunks[1].count(b",")
    assert len(chunks) == 3


def test_the_json_lines_renderer_renders_each_excerpt_as_it_is_on_a_line_of_utf8():
    chunks = list(JSONLinesRenderer().render([item(), item(id=8)]))

    assert [json.loads(chunk) for chunk in chunks] == [item(), item(id=8)]
    assert chunks[0].endswith(b"}\n") and "東風".encode() in chunks[0]


def test_the_export_fetches_the_excerpts_and_their_topics_a_chunk_of_the_export_limit_at_a_time(
    client, corpus, curator, monkeypatch
):
    client.force_login(curator)

    def queries(chunk_size):
        monkeypatch.setattr(limits, "EXPORT_CHUNK_SIZE", chunk_size)
        with CaptureQueriesContext(connection) as captured:
            lines = b"".join(client.get(reverse("excerpt-list"), {"format": "jsonl"}).streaming_content).splitlines()
        assert len(lines) == Excerpt.objects.count() == 2
        return len(captured)

    # The topics are fetched once a chunk: one query more for a second chunk.
    assert queries(1) == queries(1000) + 1


def test_record_versions_records_who_when_why_and_the_topics_of_each_excerpt(corpus, curator):
    draft, published = corpus["draft"], corpus["published"]
    when = timezone.make_aware(datetime.datetime(1958, 5, 5, 12))

    ids = record_versions(Excerpt, [draft, published], user=curator, reason="bulk fix", date=when)

    entries = HistoricalExcerpt.objects.filter(history_id__in=ids).order_by("history_id")
    assert [(entry.id, entry.history_type, entry.history_date) for entry in entries] == [
        (draft.pk, "~", when),
        (published.pk, "~", when),
    ]
    assert {(entry.history_user, entry.history_change_reason) for entry in entries} == {(curator, "bulk fix")}
    assert [sorted(entry.topics.values_list("topic_id", flat=True)) for entry in entries] == [
        [corpus["topic"].pk],
        [],
    ]
    assert [(entry.text, entry.date_start) for entry in entries] == [
        (draft.text, datetime.date(1957, 11, 1)),
        (published.text, datetime.date(1956, 2, 25)),
    ]


def test_record_versions_of_new_excerpts_marks_them_created_and_prefers_the_excerpts_own_user(corpus, curator):
    draft = corpus["draft"]
    draft._history_user = None

    [history_id] = record_versions(Excerpt, [draft], user=curator, created=True)

    entry = HistoricalExcerpt.objects.get(history_id=history_id)
    assert (entry.history_type, entry.history_user, entry.history_change_reason) == ("+", None, None)


def test_record_versions_records_nothing_when_history_is_switched_off(corpus, settings):
    settings.SIMPLE_HISTORY_ENABLED = False
    count = HistoricalExcerpt.objects.count()

    assert record_versions(Excerpt, [corpus["draft"]]) == []
    assert HistoricalExcerpt.objects.count() == count
