"""Build the bulk dumps of the public corpus (gzipped CSV and JSON Lines) when the data has changed."""

import os
import time

from django.core.exceptions import DisallowedHost
from django.core.management.base import BaseCommand, CommandError

from excerpts.api import dumps


class Command(BaseCommand):
    help = (
        "Write every published excerpt to excerpts-<data version>.csv.gz and .jsonl.gz in EXCERPTS_DUMPS_DIR, with "
        "their manifest, unless the newest dump is of the current data already. One build runs at a time on a "
        "machine; run it from cron, or let the API start it when it finds the dump older than the data."
    )

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Build even if the newest dump is of this data.")
        parser.add_argument(
            "--nice", type=int, default=0, help="Lower the build's priority by this much (the API's builds use 10)."
        )

    def handle(self, *args, force, nice, **options):
        if nice:
            os.nice(nice)
        started = time.monotonic()
        try:
            entries = dumps.build(force=force)
        except DisallowedHost as error:
            raise CommandError(
                f"EXCERPTS_DUMPS_BASE_URL's host is not in ALLOWED_HOSTS ({error}): the dump's links would be wrong."
            ) from None
        if entries is None:
            self.stderr.write("Another build is under way on this machine; nothing done.")
            return
        seconds = time.monotonic() - started
        for entry in entries:
            if entry["data_version"] == entries[0]["data_version"]:
                self.stdout.write(
                    f"{entry['name']}: {entry['rows']} rows, {entry['bytes']} bytes, sha256 {entry['sha256']}"
                )
        self.stderr.write(f"Done in {seconds:.1f} s.")
