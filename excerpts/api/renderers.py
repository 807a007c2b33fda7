"""
Bulk export of a whole filtered excerpt list as CSV or JSON Lines, streamed row by row.

``?format=csv`` (or ``Accept: text/csv``) and ``?format=jsonl`` (or ``Accept: application/jsonl`` or
``application/x-ndjson``) on the excerpt list return every match, not a page. Rows come from the
database in chunks (``iterator(chunk_size=...)``, topics prefetched per chunk) and go out as they
are written, so memory stays flat however large the result. JSON Lines carries each excerpt exactly
as the API shows it; CSV flattens the nested objects into columns and joins topic slugs with ``;``, and puts a
quote before a cell that a spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@``, tab, carriage return).
"""

import copy
import csv
import json

from django.http import StreamingHttpResponse
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request

from ..excerpt_fields import CSV_COLUMNS, CSV_FIELDS, FLATTENED, TOPIC_SEPARATOR
from ..research import limits
from ..spreadsheets import neutralise


class ExportRenderer(BaseRenderer):
    """
    A format the whole excerpt list is exported in. ``render()`` takes an iterable of excerpts as the API shows
    them and returns an iterator of encoded chunks, a line each, for a StreamingHttpResponse; it is never given a
    page (an error about an export is answered in JSON).
    """

    extension = None

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return (line.encode(self.charset or "utf-8") for line in self.lines(data))  # JSON is UTF-8, charset or not

    def lines(self, items):
        """The text of the file, a line at a time."""
        raise NotImplementedError

    @property
    def content_type(self):
        return self.media_type + (f"; charset={self.charset}" if self.charset else "")


class _Line:
    """A file-like object whose write() hands back the line, for csv.writer in a generator."""

    def write(self, value):
        return value


class CSVRenderer(ExportRenderer):
    """A header of CSV_COLUMNS, then a row for each excerpt, flattened."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"
    extension = "csv"

    def lines(self, items):
        writer = csv.writer(_Line())
        yield writer.writerow(CSV_COLUMNS)
        for item in items:
            yield writer.writerow(csv_row(item))


class JSONLinesRenderer(ExportRenderer):
    """Each excerpt as a line of JSON."""

    media_type = "application/jsonl"
    format = "jsonl"
    charset = None
    extension = "jsonl"

    def lines(self, items):
        for item in items:
            yield json.dumps(item, ensure_ascii=False, separators=(",", ":")) + "\n"


class NDJSONRenderer(JSONLinesRenderer):
    """The older name of JSON Lines, which some clients ask for."""

    media_type = "application/x-ndjson"


EXPORT_RENDERERS = [CSVRenderer, JSONLinesRenderer, NDJSONRenderer]
LIST_RENDERERS = [JSONRenderer, *EXPORT_RENDERERS]


def csv_row(item):
    """
    Flatten one excerpt as the API shows it into the CSV_COLUMNS: each related object (or null) into its parts, each
    cell that a spreadsheet would run as a formula neutralised (excerpts/spreadsheets.py).
    """
    row = []
    for name in CSV_FIELDS:
        value = item[name]
        if name in FLATTENED:
            row.extend(value[part] if value else "" for part in FLATTENED[name])
        elif name == "topics":
            row.append(TOPIC_SEPARATOR.join(topic["slug"] for topic in value))
        else:
            row.append(value)
    return [neutralise(cell) for cell in row]


def _items(queryset, serializer):
    for excerpt in queryset.iterator(chunk_size=limits.EXPORT_CHUNK_SIZE):
        item = serializer.to_representation(excerpt)
        item.pop("highlight", None)
        yield item


def without_format(request):
    """The request without ?format=, so that the exported links are the API's plain links."""
    plain = copy.copy(request._request)
    plain.GET = plain.GET.copy()
    plain.GET.pop("format", None)
    return Request(plain)


def stream_export(queryset, renderer, serializer):
    """A streaming response with every excerpt of ``queryset`` as ``serializer`` shows it, in the renderer's format."""
    serializer.context["request"] = without_format(serializer.context["request"])
    response = StreamingHttpResponse(renderer.render(_items(queryset, serializer)), content_type=renderer.content_type)
    response["Content-Disposition"] = f'attachment; filename="excerpts.{renderer.extension}"'
    return response
