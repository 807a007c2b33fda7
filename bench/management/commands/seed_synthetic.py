import datetime
import random
import time

from django.core.management.base import BaseCommand
from django.core.management.color import no_style
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from excerpts import db
from excerpts.dates import MONTHS
from excerpts.db import facet_summary, search_index, speaker_name
from excerpts.models import Event, Excerpt, Source, Speaker, Topic
from excerpts.research import citations

COMMON = [
    "the",
    "of",
    "and",
    "to",
    "in",
    "a",
    "is",
    "that",
    "for",
    "it",
    "as",
    "was",
    "with",
    "be",
    "by",
    "on",
    "not",
    "he",
    "this",
    "are",
    "or",
    "his",
    "from",
    "at",
    "which",
    "but",
    "have",
    "an",
    "they",
    "you",
    "were",
    "their",
    "one",
    "all",
    "we",
    "can",
    "her",
    "has",
    "there",
    "been",
    "if",
    "more",
    "when",
    "will",
    "would",
    "who",
    "so",
    "no",
    "people",
    "party",
    "struggle",
    "revolution",
    "comrades",
    "state",
    "workers",
    "peasants",
    "masses",
    "socialism",
    "imperialism",
    "class",
    "war",
    "peace",
    "soviet",
    "union",
    "china",
    "congress",
    "committee",
    "policy",
    "line",
    "leadership",
    "unity",
    "capitalism",
    "production",
    "steel",
    "grain",
    "harvest",
    "commune",
    "movement",
    "criticism",
    "cult",
    "personality",
    "revisionism",
    "dogmatism",
    "marxism",
    "leninism",
    "communist",
]
SYLLABLES = [
    "ba",
    "ko",
    "ri",
    "sen",
    "ta",
    "lu",
    "mi",
    "do",
    "zha",
    "pe",
    "qin",
    "vol",
    "gra",
    "sho",
    "nek",
    "tar",
    "lin",
    "bu",
    "fe",
    "ch",
]


def vocabulary(rng, size):
    """COMMON words first (the most frequent), then deterministic pseudo-words, Zipf-weighted by rank."""
    words = list(COMMON)
    seen = set(words)
    while len(words) < size:
        word = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))
        if word not in seen:
            seen.add(word)
            words.append(word)
    weights = [1 / (rank + 1) ** 1.07 for rank in range(size)]
    cumulative, total = [], 0.0
    for weight in weights:
        total += weight
        cumulative.append(total)
    return words, cumulative


COLUMNS = (
    "id, text, context, kind, attribution, speaker_id, speaker_name, source_id, event_id, quoted_in_id, date, "
    "date_start, date_end, date_display, language, status, locator, quoted_in_locator, original_text, translator, "
    "created, updated"
)
# The trigger that copies the speaker's name into a new excerpt: the load writes the name itself, where the trigger
# would update every row again just after its insert (and both of the speaker order's indexes with it).
SPEAKER_NAME_INSERT = next(
    obj for obj in speaker_name.OBJECTS["sqlite"] if obj.name == "excerpts_excerpt_speaker_name_insert"
)
# Pages SQLite may keep in memory during the load (in KiB, as a negative cache_size): with its default 2 MB, the pages
# of the indexes that each row lands at random in were written out and read back again and again (9.2 GB written for
# a 1.7 GB database at 1M; 6.6 GB with this cache and the triggers above set aside).
LOAD_CACHE_KIB = 512 * 1024


def insert_rows(cursor, table, row, rows, per_statement=500):
    """INSERT ``rows`` into ``table`` (``name (columns)``), ``per_statement`` rows per statement."""
    for start in range(0, len(rows), per_statement):
        chunk = rows[start : start + per_statement]
        values = ", ".join([row] * len(chunk))
        cursor.execute(f"INSERT INTO {table} VALUES {values}", [value for item in chunk for value in item])


class Command(BaseCommand):
    help = (
        "Add N deterministic synthetic published excerpts (Zipf-distributed vocabulary, 15-80 words each) "
        "for benchmarks, in one transaction. On SQLite the search index and the facet summary are dropped with their "
        "triggers during the load and rebuilt after it; on PostgreSQL the triggers fill the tsvector and the GIN "
        "index is built after."
    )

    def add_arguments(self, parser):
        parser.add_argument("--count", type=int, required=True, help="How many excerpts to add.")
        parser.add_argument("--seed", type=int, default=1, help="Seed of the generator (default 1).")
        parser.add_argument("--batch", type=int, default=20000, help="Rows generated and written at a time.")

    def handle(self, *args, count, seed, batch, **options):
        rng = random.Random(seed)
        started = time.monotonic()
        words, cumulative = vocabulary(rng, 30000)
        with transaction.atomic():
            speakers = Speaker.objects.bulk_create(
                Speaker(slug=f"synthetic-speaker-{i}", name=f"Speaker {words[2000 + i].title()}") for i in range(300)
            )
            sources = Source.objects.bulk_create(
                Source(slug=f"synthetic-source-{i}", title=f"The {words[4000 + i].title()} Papers", kind="book")
                for i in range(1000)
            )
            topics = Topic.objects.bulk_create(
                Topic(slug=f"synthetic-topic-{i}", name=f"Topic {i}") for i in range(40)
            )
            events = Event.objects.bulk_create(
                Event(slug=f"synthetic-event-{i}", name=f"Event {i}") for i in range(100)
            )
            # The sources' renderings for the citations' notes, as the API and the admin store them (12 s for 1,000).
            citations.store_renderings(sources)
        speaker_names = {s.pk: s.name for s in speakers}
        speaker_ids, source_ids = list(speaker_names), [s.pk for s in sources]
        topic_ids, event_ids = [t.pk for t in topics], [e.pk for e in events]
        kinds, languages = list(Excerpt.Kind.values), ["zh", "ru", "en", "fr", "de"]
        ops = connection.ops
        now = ops.adapt_datetimefield_value(timezone.now())
        row = "(" + ", ".join(["%s"] * len(COLUMNS.split(","))) + ")"
        postgresql = connection.vendor == "postgresql"
        # Raw multi-row INSERTs in one transaction: the ORM's per-object work dominated the load, and one statement
        # per row fired PostgreSQL's statement-level data-version trigger a million times.
        with transaction.atomic(), connection.cursor() as cursor:
            if postgresql:
                # The trigger computes each tsvector on insert; the GIN index is built once, after the load.
                cursor.execute(search_index.GIN_INDEX.drop("postgresql"))
            else:
                # The FTS5 table, the facet summary and their triggers go, and come back filled once, after the load:
                # one pass over the table each, where the triggers did the work row by row.
                db.run(connection, db.uninstall_statements("sqlite", [search_index, facet_summary]))
                cursor.execute(SPEAKER_NAME_INSERT.drop("sqlite"))
                cursor.execute("PRAGMA cache_size")
                (cache_size,) = cursor.fetchone()
                cursor.execute(f"PRAGMA cache_size = -{LOAD_CACHE_KIB}")
            next_id = (Excerpt.objects.aggregate(top=Max("id"))["top"] or 0) + 1
            made = 0
            while made < count:
                size = min(batch, count - made)
                rows, tags = [], []
                for pk in range(next_id + made, next_id + made + size):
                    day = datetime.date(1945, 1, 1) + datetime.timedelta(days=rng.randrange(31 * 365))
                    text = " ".join(rng.choices(words, cum_weights=cumulative, k=rng.randint(15, 80)))
                    context = " ".join(rng.choices(words, cum_weights=cumulative, k=rng.randint(0, 20)))
                    iso = ops.adapt_datefield_value(day)
                    kind, speaker = rng.choice(kinds), rng.choice(speaker_ids)  # drawn in the order of the columns
                    rows.append(
                        (
                            pk,
                            text[0].upper() + text[1:] + ".",
                            context,
                            kind,
                            Excerpt.Attribution.DIRECT,
                            speaker,
                            speaker_names[speaker],
                            rng.choice(source_ids),
                            rng.choice(event_ids) if rng.random() < 0.2 else None,
                            None,
                            day.isoformat(),
                            iso,
                            iso,
                            f"{day.day} {MONTHS[day.month - 1]} {day.year}",
                            rng.choice(languages),
                            Excerpt.Status.PUBLISHED,
                            "",
                            "",
                            "",
                            "",
                            now,
                            now,
                        )
                    )
                    tags.extend((pk, topic) for topic in rng.sample(topic_ids, rng.randint(0, 3)))
                insert_rows(cursor, f"excerpts_excerpt ({COLUMNS})", row, rows)
                insert_rows(cursor, "excerpts_excerpt_topics (excerpt_id, topic_id)", "(%s, %s)", tags)
                made += size
                self.stdout.write(f"{made} excerpts ({time.monotonic() - started:.0f} s)")
            if postgresql:
                for statement in connection.ops.sequence_reset_sql(no_style(), [Excerpt]):
                    cursor.execute(statement)
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # CREATE INDEX refuses pending foreign-key checks
                db.run(connection, search_index.GIN_INDEX.create_statements("postgresql"))
                # Each statement appended its facet changes as rows; one row per value is what readers want.
                db.run(connection, facet_summary.RECOUNT["postgresql"])
            else:
                cursor.execute(f"PRAGMA cache_size = {cache_size}")
                db.run(connection, SPEAKER_NAME_INSERT.create_statements("sqlite"))
                db.run(connection, db.install_statements("sqlite", [search_index, facet_summary]))
        with connection.cursor() as cursor:
            # Fresh statistics: without them SQLite drives a search from the status index, not the FTS table.
            # PostgreSQL is also vacuumed (outside a transaction only), so index-only scans need not visit rows.
            vacuum = postgresql and not connection.in_atomic_block
            cursor.execute("VACUUM ANALYZE" if vacuum else "ANALYZE")
        self.stdout.write(
            f"Added {count} excerpts and rebuilt the search index in {time.monotonic() - started:.0f} s."
        )
