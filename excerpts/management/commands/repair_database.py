from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from excerpts import db
from excerpts.db.checks import problems
from excerpts.models import Excerpt, Source
from excerpts.research import citations


class Command(BaseCommand):
    help = (
        "Drop and re-create every trigger, function, table, column and index the database keeps for the API (the "
        "search index, the data version, the facet summary, the speaker-name copies), filled afresh from the "
        "excerpts, in one transaction; and store the citations' rendering of every source that lacks one or whose "
        "fields changed since (research/citations.py). Run it when `manage.py check` reports one missing or "
        "different, or after a bulk load that bypassed the triggers."
    )
    # The check this command answers would otherwise stop it from running.
    requires_system_checks = []

    def handle(self, *args, **options):
        if connection.vendor not in db.VENDORS:
            self.stderr.write(f"Nothing to repair on {connection.vendor}.")
            return
        before = problems(connection)
        with transaction.atomic():
            db.run(connection, db.install_statements(connection.vendor))
            if connection.vendor == "sqlite":
                _refresh_statistics(connection)
        for obj, problem in before:
            self.stdout.write(f"Re-created the {obj.label} (it was {problem}).")
        left = problems(connection)
        if left:  # the declarations and the check disagree: a bug, not something to hide
            raise CommandError(f"Still wrong after the repair: {left}")
        self.stdout.write(
            f"Re-created {len(db.declared(connection.vendor))} database objects and indexed "
            f"{Excerpt.objects.count()} excerpts ({connection.vendor})."
        )
        rendered = citations.refresh_renderings(Source.objects.all())
        self.stdout.write(f"Rendered the citations of {rendered} source{'' if rendered == 1 else 's'} afresh.")


def _refresh_statistics(connection):
    # A SQLite database with planner statistics has none for re-created indexes, and the planner then takes
    # them for the most selective.
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'")
        if cursor.fetchone()[0]:
            cursor.execute("ANALYZE")
