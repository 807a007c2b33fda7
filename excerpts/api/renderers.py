"""
Bulk export of a whole filtered excerpt list as CSV or JSON Lines, streamed row by row.

``?format=csv`` (or ``Accept: text/csv``) and ``?format=jsonl`` (or ``Accept: application/jsonl`` or
``application/x-ndjson``) on the excerpt list return every match, not a page. Rows come from the
database in chunks (``iterator(chunk_size=...)``, topics prefetched per chunk) and go out as they
are written, so memory stays flat however large the result. JSON Lines carries each excerpt exactly
as the API shows it; CSV flattens the nested objects into columns and joins topic slugs with ``;``.
"""

import copy
import csv
import json

from django.http import StreamingHttpResponse
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request

EXPORT_CHUNK_SIZE = 2000

CSV_COLUMNS = [
    "id",
    "url",
    "text",
    "kind",
    "attribution",
    "speaker_slug",
    "speaker_name",
    "date",
    "date_start",
    "date_end",
    "date_display",
    "event_slug",
    "event_name",
    "source_id",
    "source_title",
    "source_author",
    "locator",
    "quoted_in_id",
    "quoted_in_title",
    "quoted_in_locator",
    "topics",
    "language",
    "original_text",
    "translator",
    "context",
    "citation",
]


class ExportRenderer(BaseRenderer):
    """A format the excerpt list streams as a file; it never renders a page (errors fall back to JSON)."""

    def render(self, data, accepted_media_type=None, renderer_context=None):  # pragma: no cover - never paged
        raise NotImplementedError("Export formats are streamed by stream_export(), not rendered.")


class CSVRenderer(ExportRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"
    extension = "csv"


class JSONLinesRenderer(ExportRenderer):
    media_type = "application/jsonl"
    format = "jsonl"
    charset = None
    extension = "jsonl"


class NDJSONRenderer(JSONLinesRenderer):
    """The older name of JSON Lines, which some clients ask for."""

    media_type = "application/x-ndjson"


EXPORT_RENDERERS = [CSVRenderer, JSONLinesRenderer, NDJSONRenderer]
LIST_RENDERERS = [JSONRenderer, *EXPORT_RENDERERS]


def csv_row(item):
    """Flatten one excerpt as the API shows it into the CSV columns."""
    speaker, event, source, quoted_in = item["speaker"], item["event"], item["source"], item["quoted_in"]
    return [
        item["id"],
        item["url"],
        item["text"],
        item["kind"],
        item["attribution"],
        speaker["slug"],
        speaker["name"],
        item["date"],
        item["date_start"],
        item["date_end"],
        item["date_display"],
        event["slug"] if event else "",
        event["name"] if event else "",
        source["id"],
        source["title"],
        source["author"],
        item["locator"],
        quoted_in["id"] if quoted_in else "",
        quoted_in["title"] if quoted_in else "",
        item["quoted_in_locator"],
        ";".join(topic["slug"] for topic in item["topics"]),
        item["language"],
        item["original_text"],
        item["translator"],
        item["context"],
        item.get("citation", ""),
    ]


class _Line:
    """A file-like object whose write() hands back the line, for csv.writer in a generator."""

    def write(self, value):
        return value


def _items(queryset, serializer):
    for excerpt in queryset.iterator(chunk_size=EXPORT_CHUNK_SIZE):
        item = serializer.to_representation(excerpt)
        item.pop("highlight", None)
        yield item


def _csv_lines(items):
    writer = csv.writer(_Line())
    yield writer.writerow(CSV_COLUMNS)
    for item in items:
        yield writer.writerow(csv_row(item))


def _jsonl_lines(items):
    for item in items:
        yield json.dumps(item, ensure_ascii=False, separators=(",", ":")) + "\n"


def without_format(request):
    """The request without ?format=, so that the exported links are the API's plain links."""
    plain = copy.copy(request._request)
    plain.GET = plain.GET.copy()
    plain.GET.pop("format", None)
    return Request(plain)


def stream_export(queryset, renderer, serializer):
    """A streaming response with every excerpt of ``queryset``, in the renderer's format."""
    serializer.context["request"] = without_format(serializer.context["request"])
    items = _items(queryset, serializer)
    lines = _csv_lines(items) if renderer.format == "csv" else _jsonl_lines(items)
    content_type = renderer.media_type + (f"; charset={renderer.charset}" if renderer.charset else "")
    response = StreamingHttpResponse(lines, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="excerpts.{renderer.extension}"'
    return response
