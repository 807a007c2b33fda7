"""
One import, in two steps: ``ExcerptImport.check`` checks every row with reads only and keeps the rows to write in
temporary files; ``ExcerptImport.write`` writes them all in one short transaction, or nothing.
"""

import pickle
import tempfile
from collections import defaultdict
from dataclasses import dataclass

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.management.color import no_style
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from ..bulk import allocate_ids, insert_rows, update_rows, zip_ids
from ..history import record_versions
from ..models import Excerpt
from .checking import NEW, UPDATE, RowChecker
from .columns import WRITTEN_FIELDS

BATCH_SIZE = 1000  # rows checked, and written, at a time
MAX_PROBLEMS = 200  # problems reported one by one; the rest are counted


class ImportConflict(Exception):
    """The data changed between the check and the write: nothing was written. ``problems`` says what changed."""

    def __init__(self, problems):
        super().__init__("; ".join(problems))
        self.problems = problems


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
    """How many rows an import adds, updates and leaves unchanged: a count named by each action's value."""

    new: int = 0
    update: int = 0
    unchanged: int = 0

    def __str__(self):
        return f"{self.new} new, {self.update} updated, {self.unchanged} unchanged"

    def add(self, action):
        setattr(self, action, getattr(self, action) + 1)


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
                continue
            if not self.problem_count:
                self._keep(checked)
            self.totals.add(checked.action)

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

    # The rows are written with plain INSERT and UPDATE statements (see excerpts/bulk.py).

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
        if retopic:
            Excerpt.topics.through.objects.filter(excerpt_id__in=retopic).delete()
            _link_topics([(pk, topic) for pk, topics in retopic.items() for topic in topics])
        # One history entry per excerpt, by the importer, with its topic links as they now are.
        record_versions(Excerpt, excerpts, user=self.user, reason=self.reason, date=now)
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
        _link_topics(
            [(excerpt.pk, topic) for excerpt, (*_, topics) in zip(excerpts, batch, strict=True) for topic in topics]
        )
        record_versions(Excerpt, excerpts, user=self.user, created=True, reason=self.reason, date=now)
        return excerpts

    def close(self):
        for spool in (self.updates, self.creates_with_id, self.creates):
            spool.close()


def _link_topics(pairs):
    """Link each (excerpt id, topic id) of ``pairs``."""
    links = Excerpt.topics.through
    insert_rows(links, ["id", "excerpt_id", "topic_id"], zip_ids(links, pairs))


def _row_number(message):
    head = message.split(",", 1)[0].split(":", 1)[0]
    return int(head[4:]) if head.startswith("row ") and head[4:].isdigit() else 0
