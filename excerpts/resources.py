"""
Excerpts as rows, for import and export in CSV and JSON: the import_excerpts command and the admin's buttons.

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
"""

import codecs
import contextlib
import csv
import datetime
import functools
import pickle
import re
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field

import ijson
from django.apps import apps
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.management.color import no_style
from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone
from edtf import Date
from import_export import fields, resources, widgets
from import_export.results import RowResult

from .dates import DateBounds, display, parse_bounds, validate_edtf
from .models import Event, Excerpt, Source, Speaker, Topic

COLUMNS = [
    "id",
    "text",
    "kind",
    "attribution",
    "speaker",
    "date",
    "event",
    "source",
    "locator",
    "quoted_in",
    "quoted_in_locator",
    "topics",
    "language",
    "original_text",
    "translator",
    "context",
    "status",
]
FORMATS = ("csv", "json")

# Each related field, its model and the columns that may name it: by slug (the import's own columns, and the
# API's CSV for speakers and events) or by id (the API's CSV for sources).
RELATED = {
    "speaker": (Speaker, {"speaker": "slug", "speaker_slug": "slug"}),
    "event": (Event, {"event": "slug", "event_slug": "slug"}),
    "source": (Source, {"source": "slug", "source_id": "id"}),
    "quoted_in": (Source, {"quoted_in": "slug", "quoted_in_id": "id"}),
}
TEXT_COLUMNS = [
    "text",
    "kind",
    "attribution",
    "date",
    "locator",
    "quoted_in_locator",
    "language",
    "original_text",
    "translator",
    "context",
    "status",
]
# Columns of the API's CSV (renderers.CSV_COLUMNS) that are derived from the others: read and ignored.
DERIVED_COLUMNS = {
    "url",
    "speaker_name",
    "date_start",
    "date_end",
    "date_display",
    "event_name",
    "source_title",
    "source_author",
    "quoted_in_title",
    "citation",
}
READ_COLUMNS = {*COLUMNS, *(column for _, columns in RELATED.values() for column in columns)}
KNOWN_COLUMNS = READ_COLUMNS | DERIVED_COLUMNS
# What an import writes of each excerpt (created and updated are the database's; speaker_name its triggers').
WRITTEN_FIELDS = [
    "text",
    "kind",
    "attribution",
    "speaker_id",
    "date",
    "date_start",
    "date_end",
    "date_display",
    "event_id",
    "source_id",
    "locator",
    "quoted_in_id",
    "quoted_in_locator",
    "language",
    "original_text",
    "translator",
    "context",
    "status",
]
# The model's validation, less what the import checks itself: related objects (looked up by slug, not one query
# per row), the date (its EDTF parse cached) and the check constraints (a query each per row, and implied by
# the text and date checks; the database enforces them anyway).
CHECKED_APART = {"date", *RELATED}

BATCH_SIZE = 1000  # rows checked, and written, at a time
MAX_PROBLEMS = 200  # problems reported one by one; the rest are counted
# Rows a PostgreSQL statement writes: its statement-level facet triggers cost more a row as statements grow
# (20,000 rows changed took 28 s to write at 1,000 a statement, 6.5 s at 100).
ROWS_PER_STATEMENT = 100

NEW, UPDATE, UNCHANGED = "new", "update", "unchanged"


class ImportConflict(Exception):
    """The data changed between the check and the write: nothing was written. ``problems`` says what changed."""

    def __init__(self, problems):
        super().__init__("; ".join(problems))
        self.problems = problems


# Reading files.


def check_columns(columns):
    """Raise ValueError naming repeated or unknown columns, or two columns that give one field."""
    columns = list(columns)
    repeated = sorted({column for column in columns if columns.count(column) > 1})
    if repeated:
        raise ValueError(f"Column(s) {', '.join(repeated)} appear more than once.")
    unknown = sorted(set(columns) - KNOWN_COLUMNS, key=str)
    if unknown:
        raise ValueError(
            f"Unknown column(s) {', '.join(map(str, unknown))}. The columns are: {', '.join(COLUMNS)} "
            "(or those of the API's CSV export)."
        )
    for name, (_, names) in RELATED.items():
        given = [column for column in names if column in columns]
        if len(given) > 1:
            raise ValueError(f"Columns {' and '.join(given)} both give the {name}: keep one.")


@functools.lru_cache(maxsize=64)
def columns_problem(columns):
    """What check_columns says of a tuple of columns, or None; remembered, since every row of a file repeats it."""
    try:
        check_columns(columns)
    except ValueError as error:
        return str(error)
    return None


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


def count_rows(path, format):
    """How many rows a file has, in one pass over it (for a progress display); None when it cannot be read."""
    try:
        with open_rows(path, format) as rows:
            return sum(1 for _ in rows)
    except (OSError, ValueError):
        return None


# Cells.


def parse_text(value):
    """Text columns take text: an empty cell or JSON null is empty, and a JSON number or boolean is refused."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValueError(f"Must be text, not {type(value).__name__} {value!r}.")
    return value


ID_PATTERN = re.compile(r"[0-9]{1,18}(?:\.0*)?")


def parse_id(value):
    """An id cell as an int, None when empty; ValueError when it is not a whole number from 1."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    text = str(value).strip()
    if isinstance(value, bool) or not ID_PATTERN.fullmatch(text) or int(text.split(".")[0]) < 1:
        raise ValueError(f"{value!r} is not an id: ids are whole numbers from 1.")
    return int(text.split(".")[0])


def parse_slugs(value):
    """The slugs of a topics cell, ``;``-separated."""
    return {slug.strip() for slug in str(value or "").split(";") if slug.strip()}


PLAIN_DATE = re.compile(r"([0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2}))?)?")


@functools.lru_cache(maxsize=8192)
def _bounds_or_messages(text):
    # A real calendar day, month or year is built directly: the EDTF grammar costs ~5 ms a parse, and a file of
    # 20,000 rows has that many dates. Anything else, and any refusal, is parse_bounds' own.
    match = PLAIN_DATE.fullmatch(text.strip())
    if match:
        parsed = Date(*match.groups())
        try:
            start = datetime.date(*parsed.lower_strict()[:3])
            end = datetime.date(*parsed.upper_strict()[:3])
        except (ValueError, OverflowError):
            pass
        else:
            return DateBounds(start=start, end=end, display=display(parsed)), None
    try:
        return parse_bounds(text), None
    except ValidationError as error:
        return None, error.messages


def date_bounds(value):
    """parse_bounds(value), fast for plain dates and remembered: the same DateBounds or ValidationError."""
    bounds, messages = _bounds_or_messages(value or "")
    if messages:
        raise ValidationError(messages)
    return bounds


DATE_FIELD = Excerpt._meta.get_field("date")


def date_problems(value):
    """What the date field's own validation (Field.clean) says of ``value``, with the EDTF check cached."""
    try:
        DATE_FIELD.validate(value, None)
    except ValidationError as error:
        return error.messages
    problems = []
    for validator in DATE_FIELD.validators:
        try:
            (date_bounds if validator is validate_edtf else validator)(value)
        except ValidationError as error:
            problems.extend(error.messages)
    return problems


# Checking rows.


class References:
    """
    Speakers, events, sources and topics looked up by slug (sources also by id), a batch of rows at a time and
    once each: a slug that names nothing is remembered too. At write time ``changes()`` says which of those
    found no longer name the same object.
    """

    def __init__(self):
        self.slugs = defaultdict(dict)  # model -> {slug: id or None}
        self.ids = defaultdict(dict)  # model -> {id: found}

    def fetch(self, slugs, ids):
        """Look up the slugs and ids not seen yet: ``slugs`` and ``ids`` map each model to a set."""
        for model, wanted in slugs.items():
            known = self.slugs[model]
            missing = [slug for slug in wanted if slug not in known]
            if missing:
                found = dict(model.objects.filter(slug__in=missing).values_list("slug", "pk"))
                known.update({slug: found.get(slug) for slug in missing})
        for model, wanted in ids.items():
            known = self.ids[model]
            missing = [pk for pk in wanted if pk not in known]
            if missing:
                found = set(model.objects.filter(pk__in=missing).values_list("pk", flat=True))
                known.update({pk: pk in found for pk in missing})

    def by_slug(self, model, slug):
        return self.slugs[model].get(slug)

    def exists(self, model, pk):
        return self.ids[model].get(pk, False)

    def changes(self):
        """A message for each slug or id found before that no longer names the same object."""
        problems = []
        for model, known in self.slugs.items():
            found = {slug: pk for slug, pk in known.items() if pk is not None}
            now = {}
            for part in chunks(list(found)):
                now.update(model.objects.filter(slug__in=part).values_list("slug", "pk"))
            problems.extend(
                f"The {model._meta.verbose_name} {slug!r} was deleted or given another slug after the file was "
                "checked."
                for slug, pk in sorted(found.items())
                if now.get(slug) != pk
            )
        for model, known in self.ids.items():
            found = [pk for pk, exists in known.items() if exists]
            now = set()
            for part in chunks(found):
                now.update(model.objects.filter(pk__in=part).values_list("pk", flat=True))
            problems.extend(
                f"The {model._meta.verbose_name} with the id {pk} was deleted after the file was checked."
                for pk in sorted(found)
                if pk not in now
            )
        return problems


def chunks(items, size=BATCH_SIZE):
    """``items`` (a list) in lists of at most ``size``, for IN (...) lists that stay well within SQLite's limit."""
    return [items[start : start + size] for start in range(0, len(items), size)]


@dataclass
class CheckedRow:
    """One row checked: the excerpt it makes (unsaved), its topic ids, what to do with it, or its errors."""

    number: int
    instance: Excerpt
    action: str = None  # NEW, UPDATE or UNCHANGED; None when the row has errors
    topic_ids: list = None  # sorted; None when the row leaves the topics as they are
    topics_changed: bool = False
    changed: tuple = ()  # of an update, the WRITTEN_FIELDS that change
    errors: dict = field(default_factory=dict)  # column -> [messages]; NON_FIELD_ERRORS for the row


class RowChecker:
    """
    Turns import rows into unsaved excerpts, checking each as the model's full_clean would and naming each problem
    by the file's column. ``prepare(rows)`` looks up what a batch of rows names, ``check(number, row)`` checks one
    of them. The command and the admin's preview share it.
    """

    def __init__(self):
        self.references = References()
        self.excerpts = {}  # id -> (the excerpt as stored, its topic ids), for the prepared rows

    def prepare(self, rows):
        """Look up the slugs, ids and excerpts that ``rows`` (row dicts) name, replacing the last batch's excerpts."""
        slugs, ids, excerpt_ids = defaultdict(set), defaultdict(set), set()
        for row in rows:
            if not isinstance(row, dict):
                continue
            for model, columns in RELATED.values():
                for column, kind in columns.items():
                    value = row.get(column)
                    if value in (None, ""):
                        continue
                    if kind == "slug":
                        slugs[model].add(str(value).strip())
                    else:
                        with contextlib.suppress(ValueError):
                            ids[model].add(parse_id(value))
            if row.get("topics"):
                slugs[Topic].update(parse_slugs(row["topics"]))
            try:
                pk = parse_id(row.get("id"))
            except ValueError:
                pk = None
            if pk is not None:
                excerpt_ids.add(pk)
        self.references.fetch(slugs, ids)
        stored = Excerpt.objects.in_bulk(excerpt_ids)
        topics = defaultdict(set)
        for excerpt_id, topic_id in Excerpt.topics.through.objects.filter(excerpt_id__in=excerpt_ids).values_list(
            "excerpt_id", "topic_id"
        ):
            topics[excerpt_id].add(topic_id)
        self.excerpts = {pk: (excerpt, topics[pk]) for pk, excerpt in stored.items()}

    def stored(self, row):
        """The stored excerpt a prepared row names by id, or None (no id, a bad one, or a new id)."""
        try:
            pk = parse_id(row.get("id"))
        except ValueError:
            return None
        found = self.excerpts.get(pk)
        return found[0] if found else None

    def check(self, number, row, instance=None):
        """
        Check one prepared row and return a CheckedRow. ``instance`` is the excerpt to fill (the stored one, or a
        new one); by default the row's stored excerpt or a new one.
        """
        if not isinstance(row, dict):
            return CheckedRow(
                number, Excerpt(), errors={NON_FIELD_ERRORS: [f"A row must be an object, not {type(row).__name__}."]}
            )
        if None in row:  # a CSV line with too many or too few cells
            return CheckedRow(number, Excerpt(), errors={NON_FIELD_ERRORS: [row[None]]})
        problem = columns_problem(tuple(row))
        if problem:  # a JSON object's keys (a CSV file's header was checked at once)
            return CheckedRow(number, Excerpt(), errors={NON_FIELD_ERRORS: [problem]})
        errors = defaultdict(list)

        pk = None
        try:
            pk = parse_id(row.get("id"))
        except ValueError as error:
            errors["id"].append(str(error))
        stored = self.excerpts.get(pk)
        if instance is None:
            instance = stored[0] if stored else Excerpt()
        if pk is not None and not stored:
            instance.pk = pk

        values, columns = {}, {}  # attname -> value read; field name -> the column that gave it
        for column in TEXT_COLUMNS:
            if column in row:
                columns[column] = column
                try:
                    values[column] = parse_text(row[column])
                except ValueError as error:
                    errors[column].append(str(error))
        for name, (model, names) in RELATED.items():
            for column, kind in names.items():
                if column not in row:
                    continue
                columns[name] = column
                try:
                    values[f"{name}_id"] = self._related(model, kind, row[column])
                except ValueError as error:
                    errors[column].append(str(error))
        topic_ids = None
        if "topics" in row:
            slugs = parse_slugs(row["topics"])
            missing = sorted(slug for slug in slugs if self.references.by_slug(Topic, slug) is None)
            if missing:
                errors["topics"].append(f"No topic has the slug {', '.join(repr(slug) for slug in missing)}.")
            else:
                topic_ids = sorted(self.references.by_slug(Topic, slug) for slug in slugs)

        topics_changed = topic_ids is not None and set(topic_ids) != (stored[1] if stored else set())
        changed = {attname for attname, value in values.items() if getattr(instance, attname) != value}
        if stored and not errors and not topics_changed and not changed:
            # An unchanged row is not validated again, as django-import-export skipped it.
            return CheckedRow(number, instance, UNCHANGED, topic_ids)

        for attname, value in values.items():
            setattr(instance, attname, value)
        self._validate(instance, columns, errors)
        if errors:
            return CheckedRow(number, instance, errors=dict(errors))
        bounds = date_bounds(instance.date)
        instance.date_start, instance.date_end, instance.date_display = bounds.start, bounds.end, bounds.display
        if "date" in changed:
            changed.update(("date_start", "date_end", "date_display"))
        return CheckedRow(
            number,
            instance,
            UPDATE if stored else NEW,
            topic_ids,
            topics_changed,
            changed=tuple(name for name in WRITTEN_FIELDS if name in changed),
        )

    def _related(self, model, kind, value):
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if kind == "id":
            pk = parse_id(value)
            if not self.references.exists(model, pk):
                raise ValueError(f"No {model._meta.verbose_name} has the id {value!r}.")
            return pk
        slug = str(value).strip()
        pk = self.references.by_slug(model, slug)
        if pk is None:
            raise ValueError(f"No {model._meta.verbose_name} has the slug {slug!r}.")
        return pk

    @staticmethod
    def _validate(instance, columns, errors):
        """Add the model's validation errors to ``errors``, under the columns that gave the fields."""
        found = {}
        try:
            instance.full_clean(exclude={*CHECKED_APART, *errors}, validate_unique=False, validate_constraints=False)
        except ValidationError as error:
            found = error.message_dict
        if "date" not in errors:
            problems = date_problems(instance.date)
            if problems:
                found.setdefault("date", []).extend(problems)
        for name in RELATED:
            column = columns.get(name, name)
            if column not in errors and getattr(instance, f"{name}_id") is None:
                try:
                    instance._meta.get_field(name).validate(None, instance)  # "This field cannot be null."
                except ValidationError as error:
                    found.setdefault(name, []).extend(error.messages)
        for name, messages in found.items():
            errors[columns.get(name, name)].extend(messages)


# Importing.


class Spool:
    """Checked rows waiting to be written, pickled to a temporary file a batch at a time (made for a second batch)."""

    def __init__(self):
        self.file = None
        self.pending = []
        self.count = 0

    def add(self, record):
        self.pending.append(record)
        self.count += 1
        if len(self.pending) >= BATCH_SIZE:
            self._flush()

    def _flush(self):
        if self.file is None:
            self.file = tempfile.TemporaryFile()  # noqa: SIM115 - open until close(), after the write
        pickle.dump(self.pending, self.file, protocol=pickle.HIGHEST_PROTOCOL)
        self.pending = []

    def batches(self):
        """Every batch added, in order; may be read more than once."""
        if self.file is not None:
            self.file.seek(0)
            while True:
                try:
                    yield pickle.load(self.file)
                except EOFError:
                    break
        if self.pending:
            yield self.pending

    def close(self):
        if self.file is not None:
            self.file.close()


@dataclass
class Totals:
    new: int = 0
    update: int = 0
    unchanged: int = 0

    def __str__(self):
        return f"{self.new} new, {self.update} updated, {self.unchanged} unchanged"


class ExcerptImport:
    """
    One import: ``check(rows)`` checks every row with reads only, ``write()`` writes them all in one short
    transaction, or nothing (ImportConflict when the data changed in between).
    """

    def __init__(self, user=None, reason=None):
        self.user = user
        length = Excerpt.history.model._meta.get_field("history_change_reason").max_length
        self.reason = reason[:length] if reason else reason
        self.checker = RowChecker()
        self.totals = Totals()
        self.problems = []  # up to MAX_PROBLEMS (row number, column or None, message)
        self.problem_count = 0
        self.checked = 0
        self.ids = {}  # id -> number of the row that names it, to refuse a second row for one excerpt
        # Updates, new excerpts with an id, new excerpts without: written in that order (see write()).
        self.updates, self.creates_with_id, self.creates = Spool(), Spool(), Spool()

    def check(self, rows, progress=None):
        """Check ``rows`` ((number, row dict) pairs) a batch at a time; ``progress(rows checked)`` after each."""
        batch = []
        for number, row in rows:
            batch.append((number, row))
            if len(batch) == BATCH_SIZE:
                self._check_batch(batch)
                batch = []
                if progress:
                    progress(self.checked)
        if batch:
            self._check_batch(batch)
        if progress and (batch or not self.checked):
            progress(self.checked)

    def _check_batch(self, batch):
        self.checker.prepare(row for _, row in batch)
        for number, row in batch:
            checked = self.checker.check(number, row)
            self.checked += 1
            pk = checked.instance.pk
            if pk is not None and "id" not in checked.errors:
                if pk in self.ids:
                    checked.errors.setdefault("id", []).append(f"Row {self.ids[pk]} has the same id.")
                else:
                    self.ids[pk] = number
            if checked.errors:
                self._problems(checked)
            elif not self.problem_count:
                self._keep(checked)
            if checked.action == UNCHANGED and not checked.errors:
                self.totals.unchanged += 1
            elif checked.action == UPDATE and not checked.errors:
                self.totals.update += 1
            elif checked.action == NEW and not checked.errors:
                self.totals.new += 1

    def _problems(self, checked):
        for column, messages in sorted(checked.errors.items(), key=lambda item: str(item[0])):
            for message in messages:
                self.problem_count += 1
                if len(self.problems) < MAX_PROBLEMS:
                    self.problems.append((checked.number, None if column == NON_FIELD_ERRORS else column, message))

    def _keep(self, checked):
        excerpt = checked.instance
        values = tuple(getattr(excerpt, name) for name in WRITTEN_FIELDS)
        if checked.action == UPDATE:
            topics = checked.topic_ids if checked.topics_changed else None
            record = (checked.number, excerpt.pk, excerpt.updated, excerpt.created, values, topics, checked.changed)
            self.updates.add(record)
        elif checked.action == NEW:
            spool = self.creates if excerpt.pk is None else self.creates_with_id
            spool.add((checked.number, excerpt.pk, values, checked.topic_ids or []))

    def messages(self):
        """Each problem as 'row N, column C: message' (or 'row N: message'), in row order."""
        return [
            f"row {number}, column {column}: {message}" if column else f"row {number}: {message}"
            for number, column, message in self.problems
        ]

    def write(self, progress=None, written=None):
        """
        Write every checked row in one transaction, or nothing: raise ImportConflict if an excerpt to update was
        changed or deleted, or a speaker, source, event or topic deleted, since check(). ``progress(rows written)``
        after each batch; ``written(action, excerpts)`` with each batch written (NEW or UPDATE).
        """
        if self.problem_count:
            raise ValueError("The rows have problems: nothing can be written.")
        if connection.vendor not in ("sqlite", "postgresql"):
            raise NotImplementedError(f"Imports write to SQLite and PostgreSQL, not {connection.vendor}.")
        try:
            return self._write(progress, written)
        except IntegrityError as error:
            # On PostgreSQL a speaker deleted (say) after _write's checks and before its insert is caught here.
            raise ImportConflict([f"The database refused the rows, as the data changed meanwhile: {error}"]) from error

    def _write(self, progress, written):
        now = timezone.now()
        done = 0
        with transaction.atomic():
            # On SQLite the transaction holds the write lock from here: nothing changes under the checks below.
            # PostgreSQL checks each foreign key as it is written, not at the commit, so the refusal is ours to report.
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            problems = self.checker.references.changes() + self._conflicts()
            if problems:
                raise ImportConflict(problems)
            for batch in self.updates.batches():
                excerpts = self._update(batch, now)
                done += len(batch)
                self._report(progress, done, written, UPDATE, excerpts)
            for batch in self.creates_with_id.batches():
                excerpts = self._create(batch, now)
                done += len(batch)
                self._report(progress, done, written, NEW, excerpts)
            if self.creates_with_id.count:
                # New ids must start after those the file gave (PostgreSQL's sequence does not see them).
                with connection.cursor() as cursor:
                    for statement in connection.ops.sequence_reset_sql(no_style(), [Excerpt]):
                        cursor.execute(statement)
            for batch in self.creates.batches():
                excerpts = self._create(batch, now)
                done += len(batch)
                self._report(progress, done, written, NEW, excerpts)
        return self.totals

    @staticmethod
    def _report(progress, done, written, action, excerpts):
        if progress:
            progress(done)
        if written:
            written(action, excerpts)

    def _conflicts(self):
        """A message for each excerpt to update that changed since it was checked, and each new id now taken."""
        problems = []
        for batch in self.updates.batches():
            seen = {record[1]: (record[0], record[2]) for record in batch}
            # FOR UPDATE: on PostgreSQL nobody changes them until the import commits (SQLite has the whole file).
            now = dict(Excerpt.objects.select_for_update().filter(pk__in=seen).values_list("pk", "updated"))
            for pk, (number, updated) in seen.items():
                if pk not in now:
                    problems.append(f"row {number}, column id: Excerpt {pk} was deleted after the file was checked.")
                elif now[pk] != updated:
                    problems.append(
                        f"row {number}, column id: Excerpt {pk} was changed by someone else after the file was "
                        "checked."
                    )
        for batch in self.creates_with_id.batches():
            wanted = {record[1]: record[0] for record in batch}
            for pk in Excerpt.objects.filter(pk__in=wanted).values_list("pk", flat=True):
                problems.append(f"row {wanted[pk]}, column id: Excerpt {pk} was added after the file was checked.")
        return sorted(problems, key=_row_number)

    # The rows are written with plain INSERT and UPDATE statements, executemany'd: bulk_create and bulk_update
    # cost Django more time per row to compile than the database takes to write it, and on SQLite that time is
    # spent holding the write lock that the API's writers wait for.

    def _update(self, batch, now):
        excerpts, by_columns, retopic = [], defaultdict(list), {}
        for _, pk, _, created, values, topics, changed in batch:
            excerpt = Excerpt(pk=pk, created=created, updated=now, **dict(zip(WRITTEN_FIELDS, values, strict=True)))
            excerpts.append(excerpt)
            # Only the columns that change: SQLite's triggers on the others (the search index) need not run.
            by_columns[(*changed, "updated")].append(excerpt)
            if topics is not None:
                retopic[pk] = topics
        for names, group in by_columns.items():
            update_rows(Excerpt, names, group)
        links = Excerpt.topics.through
        if retopic:
            links.objects.filter(excerpt_id__in=retopic).delete()
            insert_rows(
                links,
                ["id", "excerpt_id", "topic_id"],
                zip_ids(links, [(pk, topic) for pk, topics in retopic.items() for topic in topics]),
            )
        current = links.objects.filter(excerpt_id__in=[excerpt.pk for excerpt in excerpts])
        self._history(excerpts, list(current.values_list("id", "excerpt_id", "topic_id")), now, "~")
        return excerpts

    def _create(self, batch, now):
        excerpts = [Excerpt(pk=pk, **dict(zip(WRITTEN_FIELDS, values, strict=True))) for _, pk, values, _ in batch]
        missing = [excerpt for excerpt in excerpts if excerpt.pk is None]
        for excerpt, pk in zip(missing, allocate_ids(Excerpt, len(missing)), strict=True):
            excerpt.pk = pk
        for excerpt in excerpts:
            excerpt.created = excerpt.updated = now
        names = ["id", *WRITTEN_FIELDS, "speaker_name", "created", "updated"]
        insert_rows(Excerpt, names, [[getattr(excerpt, name) for name in names] for excerpt in excerpts])
        links = Excerpt.topics.through
        made = zip_ids(
            links,
            [(excerpt.pk, topic) for excerpt, record in zip(excerpts, batch, strict=True) for topic in record[3]],
        )
        insert_rows(links, ["id", "excerpt_id", "topic_id"], made)
        self._history(excerpts, made, now, "+")
        return excerpts

    def _history(self, excerpts, links, now, history_type):
        """One history entry per excerpt, by the importer, with its topic links as they now are."""
        history = Excerpt.history.model
        tracked = [field.attname for field in history.tracked_fields]
        ids = allocate_ids(history, len(excerpts))
        user = self.user.pk if self.user is not None else None
        entries = [
            [*(getattr(excerpt, name) for name in tracked), pk, now, self.reason, history_type, user]
            for excerpt, pk in zip(excerpts, ids, strict=True)
        ]
        insert_rows(
            history,
            [*tracked, "history_id", "history_date", "history_change_reason", "history_type", "history_user_id"],
            entries,
        )
        entry = {excerpt.pk: pk for excerpt, pk in zip(excerpts, ids, strict=True)}
        snapshot = apps.get_model("excerpts", "HistoricalExcerpt_topics")
        insert_rows(
            snapshot,
            ["history_id", "id", "excerpt_id", "topic_id"],
            [(entry[excerpt_id], pk, excerpt_id, topic_id) for pk, excerpt_id, topic_id in links],
        )

    def close(self):
        for spool in (self.updates, self.creates_with_id, self.creates):
            spool.close()


def allocate_ids(model, count):
    """
    ``count`` new primary keys of ``model``'s table, for rows this transaction inserts with them: PostgreSQL's
    sequence hands them out; on SQLite the transaction holds the write lock, so the next ones are free.
    """
    if not count:
        return []
    table, column = model._meta.db_table, model._meta.pk.column
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)", [table, column, count]
            )
            return [row[0] for row in cursor.fetchall()]
        quote = connection.ops.quote_name
        cursor.execute(
            f"SELECT max(coalesce((SELECT max({quote(column)}) FROM {quote(table)}), 0), "
            "coalesce((SELECT seq FROM sqlite_sequence WHERE name = %s), 0))",
            [table],
        )
        start = cursor.fetchone()[0] + 1
    return list(range(start, start + count))


def zip_ids(model, rows):
    """``rows`` (tuples) each with a new primary key of ``model`` in front."""
    return [(pk, *row) for pk, row in zip(allocate_ids(model, len(rows)), rows, strict=True)]


@contextlib.contextmanager
def unlogged_cursor():
    """
    A cursor whose statements DEBUG's query log does not keep: each of the import's holds a thousand rows, and the
    log would keep the last 9,000 of them. Errors are Django's, as from any cursor.
    """
    with connection.cursor() as cursor, connection.wrap_database_errors:
        yield cursor.cursor


def _prepared(fields, rows):
    """``rows`` with each value as the database takes it: only dates and times need converting (text, ids do not)."""
    converted = [index for index, field in enumerate(fields) if isinstance(field, models.DateField)]
    if not converted:
        return rows
    prepared = []
    for row in rows:
        row = list(row)
        for index in converted:
            row[index] = fields[index].get_db_prep_save(row[index], connection)
        prepared.append(row)
    return prepared


def insert_rows(model, names, rows):
    """INSERT ``rows`` (sequences of values, in the order of the fields ``names``) into ``model``'s table."""
    if not rows:
        return
    fields = [model._meta.get_field(name) for name in names]
    quote = connection.ops.quote_name
    head = f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(field.column) for field in fields)}) VALUES "
    row = f"({', '.join(['%s'] * len(fields))})"
    with unlogged_cursor() as cursor:
        if connection.vendor == "sqlite":
            # One prepared statement run per row: SQLite's triggers are per row whatever the statement.
            cursor.executemany(head + row, _prepared(fields, rows))
            return
        # Many rows a statement: PostgreSQL's statement-level triggers (facet counts, data version) run per statement.
        for part in chunks(rows, ROWS_PER_STATEMENT):
            cursor.execute(
                head + ", ".join([row] * len(part)), [value for values in _prepared(fields, part) for value in values]
            )


def update_rows(model, names, instances):
    """UPDATE the columns ``names`` of each of ``instances`` to its values."""
    fields = [model._meta.get_field(name) for name in names]
    quote = connection.ops.quote_name
    table, pk = quote(model._meta.db_table), quote(model._meta.pk.column)
    rows = [[instance.pk, *(getattr(instance, field.attname) for field in fields)] for instance in instances]
    fields = [model._meta.pk, *fields]
    with unlogged_cursor() as cursor:
        if connection.vendor == "sqlite":
            sets = ", ".join(f"{quote(field.column)} = %s" for field in fields[1:])
            cursor.executemany(
                f"UPDATE {table} SET {sets} WHERE {pk} = %s", [[*row[1:], row[0]] for row in _prepared(fields, rows)]
            )
            return
        # One statement for many rows (see insert_rows), from a typed VALUES list.
        columns = [quote(field.column) for field in fields]
        typed = "(" + ", ".join(f"CAST(%s AS {field.db_type(connection)})" for field in fields) + ")"
        sets = ", ".join(f"{column} = v.{column}" for column in columns[1:])
        for part in chunks(rows, ROWS_PER_STATEMENT):
            source = f"(VALUES {', '.join([typed] * len(part))}) AS v ({', '.join(columns)})"
            cursor.execute(
                f"UPDATE {table} SET {sets} FROM {source} WHERE {table}.{pk} = v.{pk}",
                [value for values in _prepared(fields, part) for value in values],
            )


def _row_number(message):
    head = message.split(",", 1)[0].split(":", 1)[0]
    return int(head[4:]) if head.startswith("row ") and head[4:].isdigit() else 0


# The admin's Import and Export buttons (django-import-export).


class TopicsField(fields.Field):
    """The topics column; in an import preview, the row's topics (which are not saved)."""

    def get_value(self, instance):
        checked = getattr(instance, "_import_checked", None)
        if checked is not None and checked.topic_ids is not None:
            return Topic.objects.filter(pk__in=checked.topic_ids)
        return super().get_value(instance)


def slug_field(name, model):
    return fields.Field(attribute=name, column_name=name, widget=widgets.ForeignKeyWidget(model, field="slug"))


class ExcerptResource(resources.ModelResource):
    """
    One excerpt per row, in the columns of COLUMNS. The preview checks each row with RowChecker, reading only;
    the import itself is an ExcerptImport.
    """

    speaker = slug_field("speaker", Speaker)
    event = slug_field("event", Event)
    source = slug_field("source", Source)
    quoted_in = slug_field("quoted_in", Source)
    topics = TopicsField(
        attribute="topics", column_name="topics", widget=widgets.ManyToManyWidget(Topic, separator=";", field="slug")
    )

    class Meta:
        model = Excerpt
        fields = COLUMNS
        export_order = COLUMNS
        import_id_fields = ["id"]
        skip_unchanged = True
        widgets = {"id": {"coerce_to_string": False}}

    def __init__(self, user=None, reason=None, **kwargs):
        super().__init__(**kwargs)
        self.user, self.reason = user, reason
        self.checker = RowChecker()

    def get_queryset(self):
        return Excerpt.objects.with_related().order_by("id")

    def import_data(
        self,
        dataset,
        dry_run=False,
        raise_errors=False,
        use_transactions=None,
        collect_failed_rows=False,
        rollback_on_validation_errors=False,
        **kwargs,
    ):
        if dry_run:
            # The preview reads only, outside any transaction: on SQLite a transaction takes the write lock.
            return self.import_data_inner(dataset, True, raise_errors, False, collect_failed_rows, **kwargs)
        return self.import_rows(dataset, user=kwargs.get("user"), file_name=kwargs.get("file_name"))

    def import_rows(self, dataset, user=None, file_name=None):
        """Import the dataset with ExcerptImport; the Result the admin reports, with each excerpt written."""
        result = self.get_result_class()()
        result.diff_headers = self.get_diff_headers()
        result.total_rows = len(dataset)
        headers = dataset.headers or []
        reason = self.reason or (f"admin import {file_name}" if file_name else None)
        importer = ExcerptImport(user=self.user or user, reason=reason)
        try:
            check_columns(headers)
            rows = (dict(zip(headers, values, strict=True)) for values in dataset)
            importer.check(enumerate(rows, 1))
            if not importer.problem_count:
                importer.write(written=lambda action, excerpts: self._row_results(result, action, excerpts))
        except (ValueError, ImportConflict) as error:
            result.append_base_error(self.get_error_result_class()(error))
        finally:
            importer.close()
        by_row = defaultdict(lambda: defaultdict(list))
        for number, column, message in importer.problems:
            by_row[number][column or NON_FIELD_ERRORS].append(message)
        for number, errors in by_row.items():
            row = dict(zip(headers, dataset[number - 1], strict=True))
            result.append_invalid_row(number, row, ValidationError(errors))
        totals = importer.totals if not (result.base_errors or by_row) else Totals()
        result.totals[RowResult.IMPORT_TYPE_NEW] = totals.new
        result.totals[RowResult.IMPORT_TYPE_UPDATE] = totals.update
        result.totals[RowResult.IMPORT_TYPE_SKIP] = totals.unchanged
        result.totals[RowResult.IMPORT_TYPE_INVALID] = len(by_row)
        return result

    @staticmethod
    def _row_results(result, action, excerpts):
        speakers = Speaker.objects.in_bulk({excerpt.speaker_id for excerpt in excerpts})
        for excerpt in excerpts:
            excerpt.speaker = speakers[excerpt.speaker_id]
            row = RowResult()
            row.import_type = RowResult.IMPORT_TYPE_NEW if action == NEW else RowResult.IMPORT_TYPE_UPDATE
            row.add_instance_info(excerpt)
            row.instance = excerpt
            result.append_row_result(row)

    def before_import(self, dataset, **kwargs):
        headers = dataset.headers or []
        self.checker.prepare(dict(zip(headers, values, strict=True)) for values in dataset)
        check_columns(headers)

    def get_instance(self, instance_loader, row):
        return self.checker.stored(row)

    def import_instance(self, instance, row, **kwargs):
        checked = self.checker.check(kwargs.get("row_number"), row, instance=instance)
        instance._import_checked = checked
        if checked.errors:
            raise ValidationError(checked.errors)

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        # import_instance validated the row as the command does; nothing is left to check.
        if import_validation_errors:
            raise ValidationError(import_validation_errors)

    def skip_row(self, instance, original, row, import_validation_errors=None):
        checked = getattr(instance, "_import_checked", None)
        return not import_validation_errors and checked is not None and checked.action == UNCHANGED


def export_excerpts(format):
    """Every excerpt (drafts included) as CSV or JSON text, in the COLUMNS."""
    dataset = ExcerptResource().export()
    return dataset.export(format)
