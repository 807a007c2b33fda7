"""
Time import_excerpts on the current database and print the figures: wall time and peak memory (RSS) of a dry
run and an import of N new rows, then of a dry run and an import of the same N rows changed.

Each run is its own ``manage.py import_excerpts`` process, so its peak RSS is its own. The rows name reference data
that the benchmark adds once (``bench-*`` slugs) and are added for good: run it on a throwaway database
(``DATABASE_URL=sqlite:////tmp/bench.sqlite3`` after ``migrate``, or a scratch PostgreSQL database).
"""

import csv
import datetime
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from bench.management.commands.seed_synthetic import vocabulary
from excerpts.models import Event, Excerpt, Source, Speaker, Topic
from excerpts.resources import COLUMNS

USERNAME = "benchmark-importer"
KINDS = list(Excerpt.Kind.values)
LANGUAGES = ["zh", "ru", "en", "fr", "de"]


def reference_data():
    """The benchmark's speakers, sources, topics and events (made once), as lists of slugs."""
    made = {}
    for model, count, extra in (
        (Speaker, 50, {}),
        (Source, 200, {"kind": Source.Kind.BOOK}),
        (Topic, 30, {}),
        (Event, 20, {}),
    ):
        name = model._meta.model_name
        slugs = [f"bench-{name}-{number}" for number in range(count)]
        existing = set(model.objects.filter(slug__in=slugs).values_list("slug", flat=True))
        label = "title" if model is Source else "name"
        model.objects.bulk_create(
            model(slug=slug, **{label: slug.replace("-", " ").title()}, **extra)
            for slug in slugs
            if slug not in existing
        )
        made[name] = slugs
    return made


def edtf(rng):
    """A date in one of the EDTF forms curators use: a day, a month, a year, uncertain, a season, an interval."""
    day = datetime.date(1945, 1, 1) + datetime.timedelta(days=rng.randrange(31 * 365))
    form = rng.randrange(6)
    if form == 0:
        return day.strftime("%Y-%m")
    if form == 1:
        return str(day.year)
    if form == 2:
        return f"{day.year}?"
    if form == 3:
        return f"{day.year}-{rng.choice(['21', '22', '23', '24'])}"
    if form == 4:
        return f"{day.year}/{day.year + 1}"
    return day.isoformat()


def write_rows(path, rows, seed, ids=None, reference=None):
    """A CSV of ``rows`` rows in the import's columns; with ``ids``, rows that change those excerpts."""
    rng = random.Random(seed)
    words, cumulative = vocabulary(random.Random(1), 30000)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for number in range(rows):
            text = " ".join(rng.choices(words, cum_weights=cumulative, k=rng.randint(15, 80)))
            topics = rng.sample(reference["topic"], rng.randint(0, 3))
            values = {
                "id": ids[number] if ids else "",
                "text": text[0].upper() + text[1:] + ".",
                "kind": rng.choice(KINDS),
                "attribution": "direct",
                "speaker": rng.choice(reference["speaker"]),
                "date": edtf(rng),
                "event": rng.choice(reference["event"]) if rng.random() < 0.2 else "",
                "source": rng.choice(reference["source"]),
                "locator": f"p. {rng.randint(1, 600)}",
                "quoted_in": "",
                "quoted_in_locator": "",
                "topics": ";".join(topics),
                "language": rng.choice(LANGUAGES),
                "original_text": "",
                "translator": "",
                "context": "",
                "status": "published",
            }
            writer.writerow([values[column] for column in COLUMNS])


def run(arguments):
    """Run manage.py with ``arguments``; return (seconds, peak RSS in MB, output)."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), *arguments],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise CommandError(f"manage.py {' '.join(arguments)} failed:\n{output}")
    return elapsed, usage.ru_maxrss / 1024, output.strip().splitlines()[-1]


class Command(BaseCommand):
    help = (
        "Time import_excerpts (dry run and import, new rows then changed rows) on the current database and print "
        "wall time and peak RSS of each run. Adds the rows for good: use a throwaway database."
    )

    def add_arguments(self, parser):
        parser.add_argument("--rows", type=int, default=20000, help="Rows in each file (default 20,000).")
        parser.add_argument("--seed", type=int, default=1, help="Seed of the generated rows (default 1).")

    def handle(self, *args, rows, seed, **options):
        reference = reference_data()
        get_user_model().objects.get_or_create(username=USERNAME)
        self.stdout.write(f"{connection.vendor}, {Excerpt.objects.count()} excerpts before, {rows} rows a file")
        with tempfile.TemporaryDirectory() as directory:
            new = Path(directory) / "new.csv"
            write_rows(new, rows, seed, reference=reference)
            self.report("dry run, new rows", run(["import_excerpts", str(new), "--dry-run"]))
            before = Excerpt.objects.order_by("-id").values_list("id", flat=True).first() or 0
            self.report("import, new rows", run(["import_excerpts", str(new), "--user", USERNAME]))
            ids = list(Excerpt.objects.filter(id__gt=before).order_by("id").values_list("id", flat=True))
            if len(ids) != rows:
                raise CommandError(f"The import added {len(ids)} excerpts, not {rows}.")
            changed = Path(directory) / "changed.csv"
            write_rows(changed, rows, seed + 1, ids=ids, reference=reference)
            self.report("dry run, changed rows", run(["import_excerpts", str(changed), "--dry-run"]))
            self.report("import, changed rows", run(["import_excerpts", str(changed), "--user", USERNAME]))

    def report(self, label, figures):
        seconds, megabytes, summary = figures
        self.stdout.write(f"{label:<24} {seconds:7.1f} s  peak RSS {megabytes:6.0f} MB  ({summary})")
