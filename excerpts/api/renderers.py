"""
Bulk export of a whole filtered excerpt list as CSV or JSON Lines, streamed row by row.

``?format=csv`` (or ``Accept: text/csv``) and ``?format=jsonl`` (or ``Accept: application/jsonl`` or
``application/x-ndjson``) on the excerpt list return every match, not a page. Rows come from the
database in chunks (``iterator(chunk_size=...)``, topics prefetched per chunk) and go out as they
are written, so memory stays flat however large the result. JSON Lines carries each excerpt exactly
as the API shows it; CSV flattens the nested objects into columns and joins topic slugs with ``;``, and puts a
quote before a cell that a spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@``, tab, carriage return).

Every query of an export (its row count, each chunk of rows and of topics) reads one snapshot of the database, so
the ``Excerpt-Count`` header, counted before the first row is sent, is exactly the number of rows (CSV records
after the header, JSON Lines lines) in a complete body: a body with fewer was cut off. A HEAD gets the headers
without the count and runs no query at all. The bulk dumps (api/dumps.py) are written by these same renderers.
"""

import copy
import csv
import itertools
import json

import orjson
from django.http import StreamingHttpResponse
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request

from ..db.snapshot import ReadSnapshot
from ..excerpt_fields import CSV_COLUMNS, CSV_FIELDS, FLATTENED, TOPIC_SEPARATOR
from ..research import limits
from ..spreadsheets import BYTE_ORDER_MARK, neutralise


class FastJSONRenderer(JSONRenderer):
    """
    DRF's JSONRenderer, encoding with orjson: the same bytes for every answer the API gives, in a tenth of the time.

    Both write compact UTF-8 with the same escapes, and the line and paragraph separators are escaped afterwards as
    DRF does. Dates, times and what else orjson does not know go through DRF's own encoder; an answer orjson cannot
    encode at all (an integer past 64 bits, a lone surrogate) and an indented one (``; indent=``) are DRF's. The one
    difference left is in floats below 1e-4, written 0.00001 rather than 1e-05 (the same number): no answer has one.
    """

    options = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None or self.get_indent(accepted_media_type, renderer_context or {}) is not None:
            return super().render(data, accepted_media_type, renderer_context)
        try:
            body = orjson.dumps(data, default=self.encoder_class().default, option=self.options)
        except orjson.JSONEncodeError:
            return super().render(data, accepted_media_type, renderer_context)
        return body.replace("\u2028".encode(), b"\\u2028").replace("\u2029".encode(), b"\\u2029")


class JSONLDRenderer(FastJSONRenderer):
    """An excerpt as JSON-LD (api/linked_data.py), encoded as every JSON answer is."""

    media_type = "application/ld+json"
    format = "jsonld"


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
    """
    A header of CSV_COLUMNS, then a row for each excerpt, flattened. With ``byte_order_mark`` the file starts with a
    UTF-8 byte-order mark, by which Excel knows a CSV is UTF-8 (without one it reads it in the machine's legacy code
    page, and Chinese or Russian text comes out as mojibake); programs other than spreadsheets may not expect it.
    """

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"
    extension = "csv"

    def __init__(self, byte_order_mark=False):
        self.byte_order_mark = byte_order_mark

    def lines(self, items):
        writer = csv.writer(_Line())
        if self.byte_order_mark:
            yield BYTE_ORDER_MARK
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
            yield json_line(item)


class NDJSONRenderer(JSONLinesRenderer):
    """The older name of JSON Lines, which some clients ask for."""

    media_type = "application/x-ndjson"


EXPORT_RENDERERS = [CSVRenderer, JSONLinesRenderer, NDJSONRenderer]
LIST_RENDERERS = [FastJSONRenderer, *EXPORT_RENDERERS]
DETAIL_RENDERERS = [FastJSONRenderer, JSONLDRenderer]


def json_line(item):
    """One excerpt as a line of compact JSON, by orjson where it can (the same text as json.dumps here)."""
    try:
        return orjson.dumps(item).decode() + "\n"
    except orjson.JSONEncodeError:
        return json.dumps(item, ensure_ascii=False, separators=(",", ":")) + "\n"


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


def export_items(queryset, represent):
    """
    Every row of ``queryset`` as ``represent`` shows a list of them, EXPORT_CHUNK_SIZE rows at a time, without the
    highlight (a search's passage, which no export has).
    """
    rows = queryset.iterator(chunk_size=limits.EXPORT_CHUNK_SIZE)
    while chunk := list(itertools.islice(rows, limits.EXPORT_CHUNK_SIZE)):
        for item in represent(chunk):
            item.pop("highlight", None)  # the export's own dict: an export never reads the shared FRAGMENTS
            yield item


# The bytes an export streams at a time. A line a chunk was a write to the socket (and its chunked framing) per
# excerpt: with the rows' reading, a third of an export's CPU.
EXPORT_BLOCK_BYTES = 64 * 1024


def blocks(chunks, size=None):
    """
    The bytes of ``chunks`` (an iterator of lines) in blocks of at least ``size`` bytes (EXPORT_BLOCK_BYTES) but the
    last, each the lines that came whole. Closing it closes ``chunks``.
    """
    size = EXPORT_BLOCK_BYTES if size is None else size
    try:
        block, length = [], 0
        for chunk in chunks:
            block.append(chunk)
            length += len(chunk)
            if length >= size:
                yield b"".join(block)
                block, length = [], 0
        if block:
            yield b"".join(block)
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()


def without_format(request):
    """The request without ?format=, so that the exported links are the API's plain links."""
    plain = copy.copy(request._request)
    plain.GET = plain.GET.copy()
    plain.GET.pop("format", None)
    return Request(plain)


# The number of excerpts in a complete export body, read in the export's own snapshot.
COUNT_HEADER = "Excerpt-Count"


class SnapshotLines:
    """
    An export's lines, read in one snapshot that ends when the response is closed: sent, cut off, or never started
    (Django closes a response's content; a generator never started would not run its ``finally``).
    """

    def __init__(self, lines, snapshot):
        self.lines, self.snapshot = lines, snapshot

    def __iter__(self):
        return iter(self.lines)

    def close(self):
        try:
            self.lines.close()
        finally:
            self.snapshot.end()


def stream_export(queryset, renderer, represent, counted=None, head=False, disposition=None):
    """
    A streaming response with every excerpt of ``queryset`` as ``represent`` shows a list of them, in the renderer's
    format, and the number of them (``counted``, the same rows in the form cheapest to count) in COUNT_HEADER. A
    HEAD (``head``) has the same headers but that count, and reads nothing. ``disposition`` is its
    Content-Disposition (api/filenames.py); by default the file is ``excerpts.<extension>``.
    """
    content, count = (), None
    if not head:
        snapshot = ReadSnapshot().begin()
        try:
            count = (queryset if counted is None else counted).count()
        except BaseException:
            snapshot.end()
            raise
        content = SnapshotLines(blocks(renderer.render(export_items(queryset, represent))), snapshot)
    response = StreamingHttpResponse(content, content_type=renderer.content_type)
    response["Content-Disposition"] = disposition or f'attachment; filename="excerpts.{renderer.extension}"'
    if count is not None:
        response[COUNT_HEADER] = str(count)
    return response
