"""
An index on the topic links by (topic, excerpt), so a topic's excerpts come in id order from the index.

A random draw from a topic probes for the first tagged excerpt at or after a point; with only the
single-column topic index PostgreSQL read every link of the topic from the table for each probe.
Django creates the through table itself, so the index is raw SQL (the same on both engines).
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("excerpts", "0009_speaker_name")]

    operations = [
        migrations.RunSQL(
            "CREATE INDEX IF NOT EXISTS excerpt_topics_topic_excerpt ON excerpts_excerpt_topics (topic_id, excerpt_id)",
            "DROP INDEX IF EXISTS excerpt_topics_topic_excerpt",
            elidable=False,
        )
    ]
