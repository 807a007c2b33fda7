"""Import excerpts from a CSV or JSON file: every row or none."""

import time
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import OperationalError

from excerpts.db import failures
from excerpts.imports import COLUMNS, FORMATS, ExcerptImport, ImportConflict, count_rows, open_rows


class Progress:
    """A progress line on stderr, rewritten in place, when stderr is a terminal; silent otherwise."""

    def __init__(self, stream, shown):
        self.stream, self.shown, self.total = stream, shown, None

    def __call__(self, verb, done):
        if self.shown:
            of = f" / {self.total:,}" if self.total is not None else ""
            self.stream.write(f"\r{verb} {done:,}{of} rows", style_func=str, ending="")
            self.stream.flush()

    def end(self):
        if self.shown:
            self.stream.write("", style_func=str)


class Command(BaseCommand):
    help = (
        f"Import excerpts from a CSV or JSON file with the columns {', '.join(COLUMNS)} (a CSV exported by the API, "
        "?format=csv, imports too). Speakers, events, sources and topics are named by slug and must exist. One bad "
        "row and nothing is written: each problem is reported as 'row N, column C: ...', rows counting from 1 after "
        "the header. Every row is checked first, reading only; then all are written in one short transaction."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--dry-run", action="store_true", help="Check every row and write nothing.")
        parser.add_argument("--format", choices=FORMATS, help="File format (default: from the file's extension).")
        parser.add_argument("--user", help="Username recorded as the author of the changes in the history.")

    def handle(self, *args, file, dry_run, format, user, verbosity, **options):
        format = format or file.suffix.lstrip(".").lower()
        if format not in FORMATS:
            raise CommandError(f"Cannot tell the format of {file}: name it .csv or .json, or pass --format.")
        if user is not None:
            try:
                user = get_user_model().objects.get_by_natural_key(user)
            except get_user_model().DoesNotExist:
                raise CommandError(f"No user is called {user!r}.") from None
        progress = Progress(self.stderr, shown=verbosity > 0 and self.stderr.isatty())
        if progress.shown:
            progress.total = count_rows(file, format)
        started = time.monotonic()

        importer = ExcerptImport(user=user, reason=f"import_excerpts {file.name}")
        try:
            try:
                with open_rows(file, format) as rows:
                    importer.check(rows, progress=lambda done: progress("Checked", done))
            except OSError as error:
                raise CommandError(f"Cannot read {file}: {error}") from None
            except ValueError as error:
                raise CommandError(f"{file}: {error}") from None
            finally:
                progress.end()
            if importer.problem_count:
                raise CommandError(self.problems(file, importer))
            if verbosity >= 2:
                self.stderr.write(f"Checked {importer.checked:,} rows in {time.monotonic() - started:.1f} s.")
            if dry_run:
                self.stdout.write(f"Dry run of {file}: {importer.totals}. Nothing was written.")
                return
            progress.total = importer.totals.new + importer.totals.update
            writing = time.monotonic()
            try:
                importer.write(progress=lambda done: progress("Written", done))
            except ImportConflict as conflict:
                raise CommandError(
                    f"{file}: nothing was imported; the data changed while the file was being checked:\n"
                    + "\n".join(f"  {problem}" for problem in conflict.problems)
                    + "\nRun the import again."
                ) from None
            except OperationalError as error:
                if failures.database_failure(error) != failures.BUSY:
                    raise
                raise CommandError(
                    f"{file}: nothing was imported; the database stayed locked by another writer: {error}. "
                    "Run the import again."
                ) from None
            finally:
                progress.end()
            if verbosity >= 2:
                self.stderr.write(f"Wrote them in {time.monotonic() - writing:.1f} s.")
        finally:
            importer.close()
        self.stdout.write(self.style.SUCCESS(f"Imported {file}: {importer.totals}."))

    @staticmethod
    def problems(file, importer):
        lines = [f"  {message}" for message in importer.messages()]
        hidden = importer.problem_count - len(lines)
        if hidden:
            lines.append(f"  ... and {hidden} more.")
        return f"{file}: nothing was imported; {importer.problem_count} problem(s):\n" + "\n".join(lines)
