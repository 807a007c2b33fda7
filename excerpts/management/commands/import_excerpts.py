"""Import excerpts from a CSV or JSON file: every row or none."""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from excerpts.resources import COLUMNS, FORMATS, import_excerpts, load_dataset


class Command(BaseCommand):
    help = (
        f"Import excerpts from a CSV or JSON file with the columns {', '.join(COLUMNS)}. Speakers, events, "
        "sources and topics are named by slug and must exist. One bad row and nothing is written: each "
        "problem is reported as 'row N, column C: ...', rows counting from 1 after the header."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--dry-run", action="store_true", help="Check every row and write nothing.")
        parser.add_argument("--format", choices=FORMATS, help="File format (default: from the file's extension).")
        parser.add_argument("--user", help="Username recorded as the author of the changes in the history.")

    def handle(self, *args, file, dry_run, format, user, **options):
        format = format or file.suffix.lstrip(".").lower()
        if format not in FORMATS:
            raise CommandError(f"Cannot tell the format of {file}: name it .csv or .json, or pass --format.")
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise CommandError(f"Cannot read {file}: {error}") from None
        if user is not None:
            try:
                user = get_user_model().objects.get_by_natural_key(user)
            except get_user_model().DoesNotExist:
                raise CommandError(f"No user is called {user!r}.") from None
        try:
            dataset = load_dataset(text, format)
        except ValueError as error:
            raise CommandError(f"{file}: {error}") from None

        result, errors = import_excerpts(dataset, dry_run=dry_run, user=user, reason=f"import_excerpts {file.name}")
        if errors:
            raise CommandError(
                f"{file}: nothing was imported; {len(errors)} problem(s):\n" + "\n".join(f"  {e}" for e in errors)
            )
        totals = result.totals
        summary = f"{totals['new']} new, {totals['update']} updated, {totals['skip']} unchanged"
        if dry_run:
            self.stdout.write(f"Dry run of {file}: {summary}. Nothing was written.")
        else:
            self.stdout.write(self.style.SUCCESS(f"Imported {file}: {summary}."))
