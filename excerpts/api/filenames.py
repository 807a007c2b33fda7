"""
The name an export is saved under: what was exported, with which filters, on which day.

``excerpts_speaker-mao-zedong_date_after-1958_2026-12-04.csv``: the resource, each query parameter that chose the rows
(a filter, ``q``, ``ordering``) as ``name-value`` in the order asked, and the day of the export (UTC). Filter values
are free text (``q`` takes quotes, slashes, any script), so the header carries the name twice, as RFC 6266 advises:
``filename*`` (RFC 8187: UTF-8, percent-encoded) for clients that read it, which every current browser, curl -J
and wget do, and a plain ``filename`` of ASCII letters, digits, ``.``, ``_`` and ``-`` for those that do not. Neither
can hold a path separator, a control character or a leading dot, so a saved export lands where it was asked to.
"""

import datetime
import re
import unicodedata
from urllib.parse import quote

from .filters import CACHE_BUSTER

# The parameters that say how, not what: the format, a CSV's byte-order mark, the list's page position and size, and
# the cache-buster (api/filters.py), which changes nothing.
NOT_IN_NAME = frozenset({"format", "bom", "cursor", "page_size", CACHE_BUSTER})
# Most file systems take 255 bytes a name; a long query is cut short (the date and the extension are always kept).
MAX_NAME_BYTES = 200
UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\]+")  # control characters and path separators: never in a name
NOT_PLAIN = re.compile(r"[^A-Za-z0-9._-]+")


def export_name(resource, params, extension, day=None):
    """
    The file name of an export of ``resource`` chosen by ``params`` (the query, as ``(name, value)`` pairs), in UTF-8
    and unsafe characters replaced by ``_``.
    """
    day = day or datetime.datetime.now(datetime.UTC).date()
    chosen = [f"{name}-{value}" for name, value in params if name not in NOT_IN_NAME]
    tail = f"_{day.isoformat()}.{extension}"
    stem = UNSAFE.sub("_", "_".join([resource, *chosen])).lstrip(".") or resource
    budget = MAX_NAME_BYTES - len(tail.encode())
    if len(stem.encode()) > budget:
        stem = stem.encode()[:budget].decode(errors="ignore")  # whole characters only
    return stem + tail


def ascii_fallback(name):
    """``name`` in the characters every client takes in a quoted ``filename``: accents dropped, others as ``_``."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return NOT_PLAIN.sub("_", plain).lstrip(".") or "export"


def content_disposition(name, disposition="attachment"):
    """A Content-Disposition header for ``name``: an ASCII ``filename`` and, if it differs, ``filename*``."""
    fallback = ascii_fallback(name)
    header = f'{disposition}; filename="{fallback}"'
    if fallback != name:
        header += f"; filename*=UTF-8''{quote(name, safe='')}"
    return header
