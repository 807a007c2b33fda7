"""Export every excerpt (drafts included) as CSV or JSON, in the columns import_excerpts reads."""

from pathlib import Path

from django.core.management.base import BaseCommand

from excerpts.imports import COLUMNS, FORMATS
from excerpts.resources import export_excerpts


class Command(BaseCommand):
    help = (
        f"Write every excerpt, drafts included, as CSV or JSON with the columns {', '.join(COLUMNS)}, to stdout "
        "or --output. import_excerpts reads the result back."
    )

    def add_arguments(self, parser):
        parser.add_argument("--format", choices=FORMATS, default="csv", help="csv (default) or json.")
        parser.add_argument("--output", type=Path, help="Write to this file instead of stdout.")

    def handle(self, *args, format, output, **options):
        text = export_excerpts(format)
        if output is None:
            self.stdout.write(text, ending="" if text.endswith("\n") else "\n")
        else:
            output.write_text(text, encoding="utf-8")
            self.stderr.write(f"Wrote {output}.")
