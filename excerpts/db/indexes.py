"""
Indexes Django cannot declare on its own.

- ``excerpt_date_span``: the span of each excerpt's possible dates (date_end - date_start), so the
  longest span is one index seek; date-range filters use it as a lower bound on date_start
  (``ExcerptQuerySet.overlapping``). Django compiles the difference to a Python function on SQLite.
- ``excerpt_topics_topic_excerpt``: the topic links by (topic, excerpt), so a topic's excerpts come in
  id order; Django creates the many-to-many table itself, without a place to declare it.
"""

from .objects import DatabaseObject

TOPIC_LINKS = DatabaseObject(
    "index",
    "excerpt_topics_topic_excerpt",
    "CREATE INDEX excerpt_topics_topic_excerpt ON excerpts_excerpt_topics (topic_id, excerpt_id)",
    table="excerpts_excerpt_topics",
)
OBJECTS = {
    "sqlite": [
        DatabaseObject(
            "index",
            "excerpt_date_span",
            "CREATE INDEX excerpt_date_span ON excerpts_excerpt ((julianday(date_end) - julianday(date_start)))",
            table="excerpts_excerpt",
        ),
        TOPIC_LINKS,
    ],
    "postgresql": [
        DatabaseObject(
            "index",
            "excerpt_date_span",
            "CREATE INDEX excerpt_date_span ON excerpts_excerpt ((date_end - date_start))",
            table="excerpts_excerpt",
        ),
        TOPIC_LINKS,
    ],
}
FILL: dict[str, list[str]] = {}  # nothing to fill: an index is built from the table
