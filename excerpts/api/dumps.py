"""
The whole public corpus as versioned bulk downloads, the way archive APIs publish dumps.

A build writes every published excerpt, as an anonymous caller sees it, to ``excerpts-<version>.csv.gz`` and
``excerpts-<version>.jsonl.gz`` in ``settings.EXCERPTS_DUMPS_DIR``, where ``<version>`` is the data version
(``research.caching.data_version``) the rows were read at, all in one read snapshot. The rows go through the
export's own renderers (``renderers.CSVRenderer``, ``renderers.JSONLinesRenderer``) in the API's export order,
so a dump has exactly the columns and fields of ``?format=csv`` and ``?format=jsonl``, and any change to them
reaches the dumps too. The gzip header carries no time, so the same data gives the same bytes.

Each file is written under a temporary name, fsynced, and renamed into place; then ``manifest.json`` (name, format,
bytes, SHA-256, rows, data version, built-at of every file) is replaced the same way, and only then are the files
of older versions deleted. Readers therefore see either the old set or the new one, never a part-written file; a
build that fails removes its temporary files and leaves the previous dump as it was. The newest two versions are
kept, so that a download of the previous one that was cut off can still be resumed.

One build runs at a time on a machine: a build holds an exclusive lock on ``.build.lock`` in the directory, and a
second one that cannot take it at once does nothing. ``manage.py build_dumps`` builds when the data has changed
(for cron); the listing and the ``latest`` URLs start it in the background, at low priority, when they find the
newest dump older than the data, and serve that dump meanwhile, saying it is not current.
"""

import datetime
import fcntl
import gzip
import hashlib
import io
import itertools
import json
import logging
import os
import re
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.test import RequestFactory
from django.urls import reverse
from rest_framework.request import Request

from ..db.snapshot import ReadSnapshot
from ..models import Excerpt
from ..research.caching import data_version
from . import renderers, representations
from .ordering import ORDERINGS

logger = logging.getLogger(__name__)

FORMATS = {"csv": renderers.CSVRenderer, "jsonl": renderers.JSONLinesRenderer}
MEDIA_TYPE = "application/gzip"
MANIFEST = "manifest.json"
LOCK = ".build.lock"
TEMPORARY = ".partial-"
NAME = re.compile(r"excerpts-[0-9-]+\.(?:csv|jsonl)\.gz")
# Data versions kept: the newest, and the one before it so that a download of it that was cut off can be resumed.
KEEP = 2
# gzip level 6 (gzip's own default) compresses nearly as well as 9 in a third of the time.
COMPRESS_LEVEL = 6
WRITE_BUFFER = 1 << 18
# Temporary files are private to their owner; a dump is public (a proxy running as another user may serve it).
PUBLIC_FILE = 0o644


def directory() -> Path:
    return Path(settings.EXCERPTS_DUMPS_DIR)


def file_name(version: str, format: str) -> str:
    """The immutable name of a dump: PostgreSQL's data version ``a:b:c`` is written ``a-b-c``."""
    return f"excerpts-{version.replace(':', '-')}.{format}.gz"


def manifest() -> list[dict]:
    """Every dump file kept, newest build first, each as the manifest records it; empty before the first build."""
    try:
        return json.loads((directory() / MANIFEST).read_text(encoding="utf-8"))["files"]
    except FileNotFoundError:
        return []


def newest(format: str) -> dict | None:
    """The manifest entry of the newest dump in ``format``."""
    return next((entry for entry in manifest() if entry["format"] == format), None)


def current_version() -> str:
    return str(data_version())


# The build.


@contextmanager
def build_lock(blocking: bool = False) -> Iterator[bool]:
    """Hold the machine's build lock while the block runs; yield whether it was taken (False: another build has it)."""
    directory().mkdir(parents=True, exist_ok=True)
    with open(directory() / LOCK, "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def building() -> bool:
    """Whether a build holds the lock on this machine now."""
    with build_lock() as taken:
        return not taken


def public_request() -> Request:
    """An anonymous GET of the excerpt list at EXCERPTS_DUMPS_BASE_URL, so that a dump's links are the public API's."""
    base = urlsplit(settings.EXCERPTS_DUMPS_BASE_URL)
    request = RequestFactory().get(reverse("excerpt-list"), HTTP_HOST=base.netloc, secure=base.scheme == "https")
    return Request(request)


def public_rows():
    """The ids of every published excerpt, in date order: the anonymous export reads their rows a chunk at a time."""
    return Excerpt.objects.published().order_by(*ORDERINGS["date"]).values_list("id", flat=True)


def build(force: bool = False) -> list[dict] | None:
    """
    Build the dumps of the current data, unless the newest dump is of it already (``force`` builds anyway). Return
    the manifest's entries, or None when another build holds the lock.
    """
    with build_lock() as taken:
        if not taken:
            return None
        remove_partial_files()
        with ReadSnapshot():
            version = current_version()
            kept = manifest()
            if not force and kept and kept[0]["data_version"] == version:
                return kept
            built = write_files(version)
        names = {entry["name"] for entry in built}
        older = [entry for entry in kept if entry["name"] not in names]
        keep_versions = list(dict.fromkeys([version, *(entry["data_version"] for entry in older)]))[:KEEP]
        entries = built + [entry for entry in older if entry["data_version"] in keep_versions]
        replace_atomically(directory() / MANIFEST, json.dumps({"files": entries}, indent=2).encode() + b"\n")
        remove_unlisted_files(entries)
        return entries


def write_files(version: str) -> list[dict]:
    """
    Write every format's file of ``version`` in one pass over the rows (each excerpt serialized once, written by each
    format's renderer) and rename them into place; remove them all if anything fails.
    """
    built_at = datetime.datetime.now(datetime.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    links = representations.Links(public_request())
    rows = 0

    def counted(items):
        nonlocal rows
        for item in items:
            rows += 1
            yield item

    items = counted(renderers.export_items(public_rows(), lambda chunk: representations.excerpts(chunk, links)))
    outputs = {}
    try:
        for format, source in zip(FORMATS, itertools.tee(items, len(FORMATS)), strict=True):
            name = file_name(version, format)
            handle = tempfile.NamedTemporaryFile(dir=directory(), prefix=TEMPORARY, delete=False)  # noqa: SIM115
            compressed = gzip.GzipFile(
                filename=name.removesuffix(".gz"), fileobj=handle, mode="wb", compresslevel=COMPRESS_LEVEL, mtime=0
            )
            lines = FORMATS[format]().render(source)
            outputs[format] = (name, handle, compressed, io.BufferedWriter(compressed, WRITE_BUFFER), lines)
        # The formats take turns, a line each, so that the rows tee() holds for the slower one stay a handful.
        active = list(outputs.values())
        while active:
            for output in list(active):
                line = next(output[4], None)
                if line is None:
                    active.remove(output)
                else:
                    output[3].write(line)
        entries = []
        for format, (name, handle, compressed, buffered, _lines) in outputs.items():
            buffered.flush()
            compressed.close()  # writes the gzip trailer; the file itself stays open
            handle.flush()
            os.fchmod(handle.fileno(), PUBLIC_FILE)
            os.fsync(handle.fileno())
            handle.close()
            size, digest = measure(Path(handle.name))
            entries.append(
                {
                    "name": name,
                    "format": format,
                    "bytes": size,
                    "sha256": digest,
                    "rows": rows,
                    "data_version": version,
                    "built_at": built_at,
                }
            )
        for entry, (_name, handle, *_rest) in zip(entries, outputs.values(), strict=True):
            os.replace(handle.name, directory() / entry["name"])
        sync_directory()
        return entries
    except BaseException:
        for _name, handle, *_rest in outputs.values():
            handle.close()
            Path(handle.name).unlink(missing_ok=True)
        raise


def measure(path: Path) -> tuple[int, str]:
    """The size and SHA-256 (hex) of a file, read back from the disk."""
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
            size += len(block)
    return size, digest.hexdigest()


def replace_atomically(path: Path, content: bytes) -> None:
    """Write ``content`` to ``path`` through a temporary file, fsynced and renamed: ``path`` is never half-written."""
    with tempfile.NamedTemporaryFile(dir=path.parent, prefix=TEMPORARY, delete=False) as handle:
        try:
            handle.write(content)
            handle.flush()
            os.fchmod(handle.fileno(), PUBLIC_FILE)
            os.fsync(handle.fileno())
        except BaseException:
            Path(handle.name).unlink(missing_ok=True)
            raise
    os.replace(handle.name, path)
    sync_directory()


def sync_directory() -> None:
    """Make the renames in the directory durable."""
    descriptor = os.open(directory(), os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def remove_partial_files() -> None:
    """Temporary files of a build that was killed (a build that fails removes its own). Only under the build lock."""
    for path in directory().glob(TEMPORARY + "*"):
        path.unlink(missing_ok=True)


def remove_unlisted_files(entries: list[dict]) -> None:
    """Delete the dump files the manifest no longer lists (a download already under way keeps its open file)."""
    listed = {entry["name"] for entry in entries}
    for path in directory().glob("excerpts-*.gz"):
        if NAME.fullmatch(path.name) and path.name not in listed:
            path.unlink(missing_ok=True)


# Rebuilding when the data has changed.

_rebuild_guard = threading.Lock()
_rebuild: subprocess.Popen | None = None


def rebuild_in_background() -> bool:
    """
    Start ``manage.py build_dumps`` in a process of its own at low priority, unless EXCERPTS_DUMPS_AUTO_REBUILD is
    off or a build is under way on this machine. A process, not a thread: a build at full speed in a thread would
    take the serving worker's interpreter lock from its requests. Return whether one was started.
    """
    global _rebuild
    if not settings.EXCERPTS_DUMPS_AUTO_REBUILD or building():
        return False
    with _rebuild_guard:
        if _rebuild is not None and _rebuild.poll() is None:
            return False  # started by this process a moment ago, not holding the lock yet
        command = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), "build_dumps", "--nice", "10"]
        logger.info("The newest dump is older than the data: starting %s", " ".join(command))
        _rebuild = subprocess.Popen(command, stdin=subprocess.DEVNULL, start_new_session=True)
        return True
