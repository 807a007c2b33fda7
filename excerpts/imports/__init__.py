"""
Importing excerpts from CSV and JSON files: the engine of the import_excerpts command and the admin's Import button.

The columns are those of ``COLUMNS``. Speakers, events and sources (``source``, ``quoted_in``) are
named by slug and topics by slugs joined with ``;``. They must already exist: an unknown slug is an
error naming the row and the column, never a new, duplicate speaker or source made up from a typo.
Reference data travels as a fixture (``manage.py dumpdata excerpts.speaker excerpts.source
excerpts.topic excerpts.event --natural-primary``). A row with an ``id`` updates that excerpt (or
creates it with that id); a row without one creates a new excerpt. An import is all-or-nothing.

The API's CSV export (``?format=csv``) imports too: its ``speaker_slug``, ``event_slug``, ``source_id`` and
``quoted_in_id`` give the related objects, and the columns it derives from the others (``url``,
``speaker_name``, ``date_display``, ``citation``, ...) are ignored.

An import runs in two steps so that on SQLite it never holds the write lock for long:

1. ``ExcerptImport.check`` reads the rows a batch at a time, outside any transaction (on SQLite every
   transaction takes the write lock when it begins), with reads only: the slugs of a batch are looked up
   in one query per model and remembered, the excerpts it names in one query. Each row is checked as the
   model's ``full_clean`` would; the rows to write are pickled to a temporary file, so memory stays flat
   however long the file.
2. ``ExcerptImport.write`` writes them in one transaction, in bulk, with a history entry per row that names
   the importer and the topic links, after checking that nothing it relies on changed since step 1
   (a speaker deleted, an excerpt edited meanwhile): then nothing is written, and each change is named.

The modules, from the file to the database: ``columns`` (which columns a file may have), ``files`` (reading
CSV and JSON a row at a time), ``cells`` (reading one cell), ``checking`` (a row checked against the data) and
``engine`` (the two steps). The statements that write are in excerpts/bulk.py, the history entries are
excerpts/history.py's.
"""

from .checking import NEW, UNCHANGED, UPDATE, CheckedRow, RowChecker
from .columns import COLUMNS, FORMATS, RELATED, check_columns
from .engine import ExcerptImport, ImportConflict, Totals
from .files import count_rows, open_rows

__all__ = [
    "COLUMNS",
    "FORMATS",
    "NEW",
    "RELATED",
    "UNCHANGED",
    "UPDATE",
    "CheckedRow",
    "ExcerptImport",
    "ImportConflict",
    "RowChecker",
    "Totals",
    "check_columns",
    "count_rows",
    "open_rows",
]
