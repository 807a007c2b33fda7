from django.core.management.base import BaseCommand
from django.db import connection, transaction

from excerpts import caching, facets, ordering, search
from excerpts.models import Excerpt


class Command(BaseCommand):
    help = (
        "Drop and re-create the full-text search index and its triggers, then index every excerpt. "
        "Run it after a bulk load that bypassed the triggers, or after a SQLite migration that remade the excerpt "
        "table (which drops the table's triggers); the data-version triggers of the cache, the facet summary "
        "(counted afresh) and the speaker-name copies (copied afresh) are re-created too."
    )

    def handle(self, *args, **options):
        with transaction.atomic():
            search.rebuild(connection)
            # A SQLite migration that remakes the excerpt table drops these triggers too.
            caching.install(connection)
            facets.install(connection)
            ordering.install(connection)
        self.stdout.write(f"Indexed {Excerpt.objects.count()} excerpts ({connection.vendor}).")
