"""Reading an import file, CSV or JSON, a row at a time."""

import codecs
import contextlib
import csv

import ijson

from ..spreadsheets import restore
from .columns import FORMATS, check_columns


@contextlib.contextmanager
def open_rows(path, format):
    """
    The rows of a CSV or JSON file (a JSON array of objects), read one at a time, as (number, row dict) numbered
    from 1 after the header. Opening raises OSError; a bad CSV header raises ValueError at once, and a problem
    met while reading (a malformed line, bad JSON, text that is not UTF-8) raises ValueError when it is reached.
    """
    if format == "csv":
        with open(path, encoding="utf-8-sig", newline="") as handle:
            yield _csv_rows(handle)
    elif format == "json":
        with open(path, "rb") as handle:
            yield _json_rows(handle)
    else:
        raise ValueError(f"Unknown format {format!r}: use one of {', '.join(FORMATS)}.")


def count_rows(path, format):
    """How many rows a file has, in one pass over it (for a progress display); None when it cannot be read."""
    try:
        with open_rows(path, format) as rows:
            return sum(1 for _ in rows)
    except (OSError, ValueError):
        return None


def _csv_rows(handle):
    reader = csv.DictReader(handle)
    try:
        header = reader.fieldnames or []
    except (csv.Error, UnicodeDecodeError) as error:
        raise ValueError(f"The file is not valid CSV: {error}") from None
    check_columns(header)
    return _csv_records(reader, header)


def _csv_records(reader, header):
    number = 0
    try:
        for number, row in enumerate(reader, 1):
            if None in row or None in row.values():
                cells = len(header) + len(row.get(None, ())) - sum(value is None for value in row.values())
                row = {None: f"{cells} cell(s), where the header has {len(header)}."}
            else:
                # An exported CSV puts a quote before a cell a spreadsheet would run as a formula: take it off.
                row = {column: restore(value) for column, value in row.items()}
            yield number, row
    except (csv.Error, UnicodeDecodeError) as error:
        raise ValueError(f"The file is not valid CSV after row {number}: {error}") from None


def _json_rows(handle):
    head = handle.read(64)
    bom = len(codecs.BOM_UTF8) if head.startswith(codecs.BOM_UTF8) else 0
    if not head[bom:].lstrip().startswith(b"["):
        raise ValueError("The file is not a JSON array of rows: it must start with [.")
    handle.seek(bom)
    return _json_records(handle)


def _json_records(handle):
    number = 0
    try:
        # One object at a time, however long the file; numbers stay ints and floats, as json.load reads them.
        for number, row in enumerate(ijson.items(handle, "item", use_float=True), 1):
            yield number, row
    except ijson.JSONError as error:
        reason = str(error).strip().splitlines()[0]  # the parser adds a drawing of where, over more lines
        raise ValueError(f"The file is not valid JSON after row {number}: {reason}") from None
