import datetime
import random
import time

from django.core.management.base import BaseCommand
from django.db import connection, transaction

from excerpts import search
from excerpts.dates import MONTHS
from excerpts.models import Event, Excerpt, Source, Speaker, Topic

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


class Command(BaseCommand):
    help = (
        "Add N deterministic synthetic published excerpts (Zipf-distributed vocabulary, 15-80 words each) "
        "for benchmarks. The search triggers are dropped during the load and the index rebuilt after it."
    )

    def add_arguments(self, parser):
        parser.add_argument("--count", type=int, required=True, help="How many excerpts to add.")
        parser.add_argument("--seed", type=int, default=1, help="Seed of the generator (default 1).")
        parser.add_argument("--batch", type=int, default=5000, help="Rows per bulk_create.")

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
        search.drop_triggers(connection)
        through = Excerpt.topics.through
        kinds, languages = list(Excerpt.Kind.values), ["zh", "ru", "en", "fr", "de"]
        made = 0
        while made < count:
            size = min(batch, count - made)
            rows = []
            for _ in range(size):
                day = datetime.date(1945, 1, 1) + datetime.timedelta(days=rng.randrange(31 * 365))
                text = " ".join(rng.choices(words, cum_weights=cumulative, k=rng.randint(15, 80)))
                context = " ".join(rng.choices(words, cum_weights=cumulative, k=rng.randint(0, 20)))
                rows.append(
                    Excerpt(
                        text=text[0].upper() + text[1:] + ".",
                        context=context,
                        kind=rng.choice(kinds),
                        speaker=rng.choice(speakers),
                        source=rng.choice(sources),
                        event=rng.choice(events) if rng.random() < 0.2 else None,
                        date=day.isoformat(),
                        date_start=day,
                        date_end=day,
                        date_display=f"{day.day} {MONTHS[day.month - 1]} {day.year}",
                        language=rng.choice(languages),
                        status=Excerpt.Status.PUBLISHED,
                    )
                )
            with transaction.atomic():
                created = Excerpt.objects.bulk_create(rows)
                through.objects.bulk_create(
                    through(excerpt_id=excerpt.pk, topic_id=topic.pk)
                    for excerpt in created
                    for topic in rng.sample(topics, rng.randint(0, 3))
                )
            made += size
            self.stdout.write(f"{made} excerpts ({time.monotonic() - started:.0f} s)")
        with transaction.atomic():
            search.rebuild(connection)
        with connection.cursor() as cursor:
            # Fresh statistics: without them SQLite drives a search from the status index, not the FTS table.
            cursor.execute("ANALYZE")
        self.stdout.write(
            f"Added {count} excerpts and rebuilt the search index in {time.monotonic() - started:.0f} s."
        )
