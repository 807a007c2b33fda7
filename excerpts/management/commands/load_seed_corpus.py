"""Load the seed corpus into an empty database, and leave a database that already holds data alone."""

import json

from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils.text import get_text_list

from excerpts.models import Excerpt, Source
from excerpts.research import citations

SEED_CORPUS = settings.BASE_DIR / "fixtures" / "sino_soviet_split.json"


def counted(model, count):
    """ "32 excerpts", "1 source": a row count with the model's name."""
    name = model._meta.verbose_name if count == 1 else model._meta.verbose_name_plural
    return f"{count} {name}"


class Command(BaseCommand):
    help = (
        f"Load the seed corpus ({SEED_CORPUS.relative_to(settings.BASE_DIR)}) into an empty database. When the "
        "database already has excerpts, speakers, sources, topics or events it loads nothing and says so: loaddata "
        "would overwrite every seed row a curator has edited since."
    )

    @transaction.atomic
    def handle(self, *args, verbosity, **options):
        # The check and the load are one transaction, so the corpus lands whole or not at all and a
        # row written between the two cannot be overwritten.
        labels = dict.fromkeys(item["model"] for item in json.loads(SEED_CORPUS.read_text()))
        # Excerpts first: they are what a curator edits, and what the message should name first.
        models = sorted((apps.get_model(label) for label in labels), key=lambda model: model is not Excerpt)
        held = [counted(model, count) for model in models if (count := model._default_manager.count())]
        if held:
            if verbosity:
                self.stdout.write(
                    f"The database already has {get_text_list(held, 'and')}; the seed corpus was not loaded."
                )
            return
        call_command("loaddata", str(SEED_CORPUS), verbosity=0)
        # Each source's rendering for the citations' notes (research/citations.py).
        citations.store_renderings(Source.objects.all())
        if verbosity:
            loaded = get_text_list([counted(model, model._default_manager.count()) for model in models], "and")
            self.stdout.write(f"Loaded the seed corpus: {loaded}.")
