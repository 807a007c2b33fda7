"""
The bulk dumps over HTTP: their listing, each immutable file, and a stable URL for the newest file of each format.

A file is fixed bytes, served the way archive APIs serve theirs: Content-Length, a strong ETag and a ``Repr-Digest``
(RFC 9530) from its SHA-256, Last-Modified, ``Accept-Ranges: bytes``; one byte range per request (206 with
Content-Range; 416 past the end), honouring If-Range; If-None-Match answered 304. A transfer cut off short of
Content-Length, or whose bytes do not hash to the digest, cannot pass for the whole file. The bytes go out through
FileResponse, which gunicorn sends with sendfile(); a HEAD opens no file. Django has no byte ranges, and WhiteNoise's
(a static-file server, scanning its files at start) know neither If-Range nor digests, so the ranges are served here.
"""

import base64
import datetime
import hashlib
import json
import re

from django.http import FileResponse, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.cache import get_conditional_response
from django.utils.http import http_date, parse_http_date_safe
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from . import dumps
from .openapi import (
    DUMP_FILE_PARAMETERS,
    DUMP_FILE_RESPONSES,
    DUMP_LATEST_RESPONSES,
    JSON,
    DumpListingSerializer,
)
from .problems import PROBLEM_CONTENT_TYPE, PROBLEM_TYPE_BASE, problem

# Seconds a client is asked to wait when no dump has been built yet.
FIRST_BUILD_RETRY_AFTER = 60
RANGE = re.compile(r"bytes=(?P<first>[0-9]*)-(?P<last>[0-9]*)")
UNSATISFIABLE = "unsatisfiable"


class FirstMatchNegotiation(BaseContentNegotiation):
    """The view's first renderer whatever Accept says: a file is answered as what it is (errors as problem JSON)."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


def dump_url(request, name):
    return request.build_absolute_uri(reverse("dump-file", kwargs={"name": name}))


def latest_urls(request):
    return {
        format: request.build_absolute_uri(reverse("dump-latest", kwargs={"format": format}))
        for format in dumps.FORMATS
    }


def freshness(files):
    """The current data version and whether the newest dump is of it; start a rebuild in the background if not."""
    version = dumps.current_version()
    current = bool(files) and files[0]["data_version"] == version
    if not current:
        dumps.rebuild_in_background()
    return version, current


class PublicFileView(APIView):
    """
    A view of the public dumps: no credentials are read, so no response varies with a cookie and a shared cache may
    keep the immutable files.
    """

    authentication_classes = []
    permission_classes = [AllowAny]


class DumpListView(PublicFileView):
    """The bulk dumps of the whole public corpus: gzipped CSV and JSON Lines, rebuilt when the data changes."""

    @extend_schema(
        summary="List the bulk dumps of the whole corpus",
        operation_id="v1_dumps_list",
        tags=["dumps"],
        responses={(200, JSON): DumpListingSerializer},
    )
    def get(self, request):
        """
        Every published excerpt as one gzipped CSV file and one gzipped JSON Lines file, with the same columns and
        fields as `format=csv` and `format=jsonl` on the excerpt list, read in one snapshot of the data. Each file is
        listed with its size, SHA-256 and row count. When the data has changed since the newest build, `current` is
        false and a rebuild is started; the newest complete dump is served meanwhile.
        """
        files = dumps.manifest()
        version, current = freshness(files)
        listing = {
            "data_version": version,
            "current": current,
            "building": dumps.building(),
            "latest": latest_urls(request),
            "files": [
                {**entry, "url": dump_url(request, entry["name"]), "current": entry["data_version"] == version}
                for entry in files
            ],
        }
        etag = f'"{hashlib.sha256(json.dumps(listing, sort_keys=True).encode()).hexdigest()}"'
        response = get_conditional_response(request, etag=etag) or Response(listing)
        response["Cache-Control"] = "no-cache"
        response["ETag"] = etag
        return response


class DumpFileView(PublicFileView):
    """One dump file, by its immutable name."""

    content_negotiation_class = FirstMatchNegotiation

    @extend_schema(
        summary="Download one bulk dump file (resumable with Range)",
        operation_id="v1_dumps_file",
        tags=["dumps"],
        parameters=DUMP_FILE_PARAMETERS,
        responses=DUMP_FILE_RESPONSES,
    )
    def get(self, request, name):
        """
        The file's bytes, with Content-Length, a strong ETag and Repr-Digest from its SHA-256 and Last-Modified.
        A file's name never changes its content; older files are kept until a second newer build replaces them.
        """
        entry = next((entry for entry in dumps.manifest() if entry["name"] == name), None)
        if entry is None:
            raise NotFound(f"There is no dump file {name}. The listing at {reverse('dump-list')} names those kept.")
        return file_response(request, entry)


class DumpLatestView(PublicFileView):
    """A stable URL for the newest dump of a format."""

    # A redirect, never a 304: the schema documents no If-None-Match here (openapi.ExcerptsAutoSchema).
    conditional = False

    content_negotiation_class = FirstMatchNegotiation

    @extend_schema(
        summary="Redirect to the newest bulk dump of a format",
        operation_id="v1_dumps_latest",
        tags=["dumps"],
        parameters=[
            OpenApiParameter(
                "format", str, OpenApiParameter.PATH, enum=list(dumps.FORMATS), description="csv or jsonl."
            )
        ],
        responses=DUMP_LATEST_RESPONSES,
    )
    def get(self, request, format):
        """Redirect to the newest file of the format; follow it (curl -L) to download."""
        files = dumps.manifest()
        _version, current = freshness(files)
        entry = next((entry for entry in files if entry["format"] == format), None)
        if entry is None:
            body = problem(
                503, "No dump has been built yet. One is being built: try again in a minute.", None, request.path
            )
            body["type"] = PROBLEM_TYPE_BASE + "dump-not-built"
            response = Response(body, status=503, content_type=PROBLEM_CONTENT_TYPE)
            response["Retry-After"] = str(FIRST_BUILD_RETRY_AFTER)
            return response
        response = HttpResponseRedirect(dump_url(request, entry["name"]))
        response["Cache-Control"] = "no-cache"
        response["Dump-Current"] = "true" if current else "false"
        return response


class FileRange:
    """
    ``length`` bytes of an open file from its current position, for FileResponse. It keeps the file's descriptor
    (``fileno``), so gunicorn sends the range with sendfile() from that position, for Content-Length bytes.
    """

    def __init__(self, file, length):
        self.file, self.left = file, length

    def fileno(self):
        return self.file.fileno()

    def read(self, size=-1):
        size = self.left if size is None or size < 0 else min(size, self.left)
        data = self.file.read(size)
        self.left -= len(data)
        return data

    def close(self):
        self.file.close()


def requested_range(request, size, etag, last_modified):
    """
    The (first, last) bytes a Range header asks for, UNSATISFIABLE, or None for the whole file: no Range, one we do
    not take (several ranges, another unit: RFC 9110 lets a server ignore it), or an If-Range that no longer holds.
    """
    header = request.headers.get("Range")
    if not header:
        return None
    condition = request.headers.get("If-Range")
    if condition is not None:
        if condition.startswith(('"', "W/")):
            if condition != etag:  # strong comparison: a weak tag never matches
                return None
        elif parse_http_date_safe(condition) != last_modified:
            return None
    match = RANGE.fullmatch(header.strip())
    if match is None or not (match["first"] or match["last"]):
        return None
    if not match["first"]:  # the last N bytes
        suffix = int(match["last"])
        return (max(0, size - suffix), size - 1) if suffix else UNSATISFIABLE
    first = int(match["first"])
    if first >= size:
        return UNSATISFIABLE
    last = min(int(match["last"]), size - 1) if match["last"] else size - 1
    return (first, last) if first <= last else None


def file_response(request, entry):
    """A dump file's response to a GET or HEAD: 200, 206, 304 or 416."""
    size = entry["bytes"]
    etag = f'"{entry["sha256"]}"'
    built = datetime.datetime.fromisoformat(entry["built_at"].replace("Z", "+00:00"))
    last_modified = int(built.timestamp())
    headers = {
        "ETag": etag,
        "Last-Modified": http_date(last_modified),
        "Repr-Digest": f"sha-256=:{base64.b64encode(bytes.fromhex(entry['sha256'])).decode()}:",
        "Accept-Ranges": "bytes",
        # The name is immutable: the same URL always has the same bytes.
        "Cache-Control": "public, max-age=31536000, immutable",
    }
    # Django's own handling of If-None-Match, If-Modified-Since, If-Match and If-Unmodified-Since: it answers 304
    # or 412, or hands back the response it was given when the request may go on.
    unconditional = HttpResponse(headers=headers)
    answer = get_conditional_response(request, etag=etag, last_modified=last_modified, response=unconditional)
    if answer is not unconditional:
        return answer
    span = requested_range(request, size, etag, last_modified)
    if span == UNSATISFIABLE:
        body = problem(416, f"The range {request.headers['Range']} starts past the end of the {size}-byte file.")
        body["type"], body["title"] = PROBLEM_TYPE_BASE + "range-not-satisfiable", "Range not satisfiable"
        response = HttpResponse(json.dumps(body), status=416, content_type=PROBLEM_CONTENT_TYPE, headers=headers)
        response["Content-Range"] = f"bytes */{size}"
        return response
    first, last = span or (0, size - 1)
    length = last - first + 1
    status = 206 if span else 200
    if request.method == "HEAD":
        response = HttpResponse(status=status, headers=headers)
    else:
        try:
            file = (dumps.directory() / entry["name"]).open("rb")
        except FileNotFoundError:
            raise NotFound(f"The dump file {entry['name']} has just been pruned. Ask the listing again.") from None
        file.seek(first)
        response = FileResponse(
            FileRange(file, length), status=status, headers=headers, as_attachment=True, filename=entry["name"]
        )
    response["Content-Type"] = dumps.MEDIA_TYPE
    response["Content-Disposition"] = f'attachment; filename="{entry["name"]}"'
    response["Content-Length"] = str(length)
    if span:
        response["Content-Range"] = f"bytes {first}-{last}/{size}"
    return response
