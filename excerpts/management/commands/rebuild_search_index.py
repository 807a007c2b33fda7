from django.core.management.base import BaseCommand
from django.db import connection, transaction

from excerpts import search
from excerpts.models import Excerpt


class Command(BaseCommand):
    help = (
        "Drop and re-create the full-text search index and its triggers, then index every excerpt. "
        "Run it after a bulk load that bypassed the triggers, or after a SQLite migration that remade the excerpt "
        "table (which drops the table's triggers)."
    )

    def handle(self, *args, **options):
        with transaction.atomic():
            search.rebuild(connection)
        self.stdout.write(f"Indexed {Excerpt.objects.count()} excerpts ({connection.vendor}).")
