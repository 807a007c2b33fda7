"""Export every excerpt (drafts included) as CSV or JSON, in the columns import_excerpts reads."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from excerpts.imports import COLUMNS, FORMATS
from excerpts.resources import write_excerpts
from excerpts.spreadsheets import BYTE_ORDER_MARK


class Command(BaseCommand):
    help = (
        f"Write every excerpt, drafts included, as CSV or JSON with the columns {', '.join(COLUMNS)}, to stdout "
        "or --output, as the rows are read (memory stays flat). import_excerpts reads the result back."
    )

    def add_arguments(self, parser):
        parser.add_argument("--format", choices=FORMATS, default="csv", help="csv (default) or json.")
        parser.add_argument("--output", type=Path, help="Write to this file instead of stdout.")
        parser.add_argument(
            "--bom",
            action="store_true",
            help="Start the CSV with a UTF-8 byte-order mark, so that Excel reads Chinese and Russian text correctly.",
        )

    def handle(self, *args, format, output, bom, **options):
        if bom and format != "csv":
            raise CommandError("--bom is for a CSV: a JSON file never starts with a byte-order mark.")
        if output is None:
            if bom:
                self.stdout.write(BYTE_ORDER_MARK, ending="")
            write_excerpts(format, Unterminated(self.stdout))
            if format == "json":
                self.stdout.write("")  # a final newline
        else:
            # newline="": the csv module writes its own line endings.
            with output.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="") as file:
                write_excerpts(format, file)
            self.stderr.write(f"Wrote {output}.")


class Unterminated:
    """The command's stdout for writers that end their own lines (OutputWrapper adds a newline to each write)."""

    def __init__(self, stdout):
        self.stdout = stdout

    def write(self, text):
        self.stdout.write(text, ending="")
