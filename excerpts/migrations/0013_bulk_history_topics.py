"""
Give history entries written by the admin's bulk publish and unpublish the topics their excerpts had.

Until this release those entries were recorded without their topic links, so each read as though every
topic had been removed, the next edit showed them added back, and the admin offered to revert to them
(which would have dropped the topics). Such an entry is recognised by its shape, which no other write
path left: a change ("~") with no topic links whose previous entry had some, that changed the status and
nothing else but the updated time. It gets the previous entry's links. Nothing else is touched.
"""

from django.db import migrations
from django.db.models import Q

UNCOMPARED = {"status", "updated"}  # what a bulk action changed


def restore_bulk_action_topics(apps, schema_editor):
    History = apps.get_model("excerpts", "HistoricalExcerpt")
    Links = apps.get_model("excerpts", "HistoricalExcerpt_topics")
    compared = [
        field.attname
        for field in History._meta.concrete_fields
        if not field.name.startswith("history_") and field.name not in UNCOMPARED
    ]
    without_links = (
        History.objects.filter(history_type="~")
        .exclude(history_id__in=Links.objects.values("history_id"))
        .order_by("id", "history_date", "history_id")
    )
    for record in without_links.iterator():
        previous = (
            History.objects.filter(id=record.id)
            .filter(
                Q(history_date__lt=record.history_date)
                | Q(history_date=record.history_date, history_id__lt=record.history_id)
            )
            .order_by("-history_date", "-history_id")
            .first()
        )
        if previous is None or previous.status == record.status:
            continue
        if any(getattr(previous, name) != getattr(record, name) for name in compared):
            continue
        # Earlier entries of the same excerpt were mended first (the order above), so a run of bulk actions
        # passes the topics along.
        Links.objects.bulk_create(
            Links(id=link.id, excerpt_id=link.excerpt_id, topic_id=link.topic_id, history_id=record.history_id)
            for link in Links.objects.filter(history_id=previous.history_id)
        )


class Migration(migrations.Migration):
    dependencies = [("excerpts", "0012_database_objects")]

    operations = [migrations.RunPython(restore_bulk_action_topics, migrations.RunPython.noop)]
