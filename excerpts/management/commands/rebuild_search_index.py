from django.core.management.base import BaseCommand
from django.db import connection, transaction

from excerpts import caching, facets, search
from excerpts.models import Excerpt


class Command(BaseCommand):
    help = (
        "Drop and re-create the full-text search index and its triggers, then index every excerpt. "
        "Run it after a bulk load that bypassed the triggers, or after a SQLite migration that remade the excerpt "
        "table (which drops the table's triggers); the data-version triggers of the cache and the facet summary "
        "(with its triggers, counted afresh) are re-created too."
    )

    def handle(self, *args, **options):
        with transaction.atomic():
            search.rebuild(connection)
            # A SQLite migration that remakes the excerpt table drops the data-version and facet triggers too.
            caching.install(connection)
            facets.install(connection)
        self.stdout.write(f"Indexed {Excerpt.objects.count()} excerpts ({connection.vendor}).")
