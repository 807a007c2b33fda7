import os
import random
import resource
import statistics
import time

from django.conf import settings
from django.core.cache import cache
from django.core.management.base import BaseCommand
from django.db import connection
from django.test import Client, override_settings
from django.urls import reverse

from bench import configuration, throughput
from bench.management.commands.seed_synthetic import vocabulary
from excerpts.models import Excerpt
from excerpts.research import caching


def timed(client, url, params=None, cold=False, **headers):
    """
    Milliseconds for one GET; ``cold`` empties the cache first, and what the process keeps per data version (whole
    answers, representations, filtered querysets: every ``ProcessMemo``), as the first request after a write finds
    them.
    """
    if cold:
        cache.clear()
        caching.ProcessMemo.clear_every()
    started = time.perf_counter()
    # Over HTTPS, as production is served: with production's settings a plain-HTTP request is a redirect.
    response = client.get(url, params or {}, secure=True, **headers)
    if response.streaming:
        for _ in response.streaming_content:
            pass
    elapsed = (time.perf_counter() - started) * 1000
    assert response.status_code == 200, response.content[:500]
    return elapsed, response


class Command(BaseCommand):
    help = (
        "Time the research endpoints through the whole Django stack on the current database (after seed_synthetic) "
        "and print the figures: search p50/p95 for rare terms, the slowest queries, facets, a sweep over every kind "
        "of request, and export peak memory."
    )

    def add_arguments(self, parser):
        parser.add_argument("--terms", type=int, default=40, help="How many rare terms to search for.")
        parser.add_argument("--export", action="store_true", help="Also export the whole corpus as CSV (slow).")
        throughput.add_arguments(parser)

    def handle(self, *args, **options):
        if options["throughput"]:
            throughput.run(self.stdout, self.style, **options)
            return
        # The figures are the stack's, not the rate limits': thousands of requests from one address would be refused.
        unlimited = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {}}
        self.load_average("at the start")
        with override_settings(REST_FRAMEWORK=unlimited):
            self.measure(**options)
        self.load_average("at the end")

    def load_average(self, when):
        """
        Print the machine's load average: on a shared machine the figures mean little without it (a load of twice
        the cores roughly doubles each request's time).
        """
        one, five, fifteen = os.getloadavg()
        self.stdout.write(
            f"load average {when}: {one:.2f}, {five:.2f}, {fifteen:.2f} (1, 5, 15 min; {os.cpu_count()} cores)"
        )

    def measure(self, *, terms, export, **options):
        client = Client(HTTP_HOST="localhost")
        total = Excerpt.objects.count()
        self.stdout.write(f"{connection.vendor}, {total} excerpts")
        self.stdout.write(configuration.describe())
        words, _ = vocabulary(random.Random(1), 30000)
        url = reverse("excerpt-list")
        client.get(url, {"q": words[0]}, secure=True)  # warm the connection and caches

        rare_terms = words[600 : 600 + terms * 25 : 25]  # each in 0.3-1% of the excerpts
        # The first search for a term may read its pages from disk; a running server has them in memory. Both
        # passes empty Django's cache first.
        first = [timed(client, url, {"q": word}, cold=True)[0] for word in rare_terms]
        self.report("search, rare term, first touch of its pages", first)
        rare, matched = [], []
        for word in rare_terms:
            elapsed, response = timed(client, url, {"q": word}, cold=True)
            rare.append(elapsed)
            matched.append(response.json()["count"])
        self.report(f"search, rare term (matches {min(matched)}-{max(matched)}, top 20 + highlights)", rare)

        for word in words[:3]:
            elapsed, response = timed(client, url, {"q": word}, cold=True)
            self.stdout.write(f"search {word!r} ({response.json()['count']} matches): {elapsed:.0f} ms")
        elapsed, _ = timed(client, url, {"q": f'"{words[0]} {words[1]}" -{words[2]}'}, cold=True)
        self.stdout.write(f"search phrase + exclusion of common words: {elapsed:.0f} ms")
        common = words[48]  # "people", in about one excerpt in ten
        page = timed(client, url, {"q": common}, cold=True)[1].json()
        self.report(
            f"search {common!r}, page 1 ({page['count']} matches)",
            [timed(client, url, {"q": common}, cold=True)[0] for _ in range(5)],
        )
        if page["next"]:  # a small corpus may have one page only
            self.report(f"search {common!r}, page 2", [timed(client, page["next"], cold=True)[0] for _ in range(5)])

        for label, params in [
            ("list, first page", {}),
            ("list, speaker filter", {"speaker": "synthetic-speaker-7"}),
            ("list, date range", {"date_after": "1960", "date_before": "1961-06"}),
            ("random, 50", {"count": 50, "seed": 3}),
        ]:
            target = reverse("excerpt-random") if label.startswith("random") else url
            self.report(f"{label}, uncached", [timed(client, target, params, cold=True)[0] for _ in range(3)])
            if not label.startswith("random"):
                self.report(f"{label}, count cached", [timed(client, target, params)[0] for _ in range(3)])
        page = client.get(url, {"page_size": 100}, secure=True).json()
        following = []
        for _ in range(5):
            if not page["next"]:
                break
            elapsed, response = timed(client, page["next"])
            following.append(elapsed)
            page = response.json()
        if following:
            self.report("list, following pages (100 a page)", following)
        facets = reverse("excerpt-facets")
        self.report("facets, whole corpus, uncached", [timed(client, facets, cold=True)[0] for _ in range(3)])
        self.report("facets, whole corpus, cached", [timed(client, facets)[0] for _ in range(5)])
        self.report(
            "facets, rare term, uncached", [timed(client, facets, {"q": words[600]}, cold=True)[0] for _ in range(3)]
        )
        self.report(
            "facets, common term, uncached", [timed(client, facets, {"q": common}, cold=True)[0] for _ in range(3)]
        )
        self.sweep(client)
        if export:
            before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            elapsed, _ = timed(client, url, {"format": "csv"})
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            self.stdout.write(
                f"export CSV of all {total}: {elapsed / 1000:.0f} s, peak RSS {peak:.0f} MB (before: {before:.0f} MB)"
            )

    def sweep(self, client):
        """Every endpoint, ordering and kind of filter, uncached (median of 3): the slowest, how many over 300 ms."""
        speaker, topic, event = "synthetic-speaker-7", "synthetic-topic-3", "synthetic-event-3"
        newest = Excerpt.objects.order_by("-id").values_list("id", flat=True).first()
        excerpts, random, facets = reverse("excerpt-list"), reverse("excerpt-random"), reverse("excerpt-facets")
        filters = [
            {},
            {"speaker": speaker},
            {"topic": topic},
            {"event": event},
            {"kind": "letter"},
            {"language": "ru"},
            {"source": "5"},
            {"date_after": "1960", "date_before": "1961-06"},
            {"date_after": "1950", "date_before": "1960"},
            {"date_before": "1946"},
            {"topic": topic, "speaker": speaker},
            {"kind": "letter", "language": "en", "date_after": "1965"},
            {"attribution": "paraphrase"},  # no synthetic excerpt is a paraphrase
            {"q": "people"},
            {"q": "the"},
            {"q": '"people party"'},
            {"q": '"the of" -and'},
            {"q": "the of and to in"},
            {"q": "people", "speaker": speaker},
            {"q": "people", "date_after": "1960", "date_before": "1961"},
        ]
        requests = []
        for params in filters:
            for ordering in ("relevance" if "q" in params else "date", "-date", "speaker", "-speaker"):
                requests.append((excerpts, {**params, "ordering": ordering}))
            requests += [(facets, params), (random, {**params, "count": 50, "seed": 1})]
        requests += [
            (reverse("excerpt-detail", args=[newest]), {}),
            (reverse("excerpt-cite", args=[newest]), {"style": "bibtex"}),
            (reverse("excerpt-cite-list"), {"speaker": speaker, "date_after": "1970-06", "style": "ris"}),
            (reverse("speaker-list"), {"page_size": 100}),
            (reverse("speaker-detail", args=[speaker]), {}),
            (reverse("topic-list"), {}),
            (reverse("source-list"), {"page_size": 100}),
            (reverse("event-list"), {"page_size": 100}),
        ]

        def median_of_three(url, params):
            # One stall of this shared machine (a checkpoint, another process) is not the request's cost.
            return statistics.median(timed(client, url, params, cold=True)[0] for _ in range(3))

        timings = sorted(
            ((median_of_three(url, params), url, params) for url, params in requests),
            key=lambda row: -row[0],
        )
        over = [row for row in timings if row[0] > 300]
        median = statistics.median(elapsed for elapsed, _, _ in timings)
        self.stdout.write(
            f"sweep of {len(timings)} kinds of request, uncached, median of 3 each: median {median:.0f} ms, "
            f"{len(over)} over 300 ms; the slowest (every one over 300 ms, and at least 8):"
        )
        for elapsed, url, params in timings[: max(8, len(over))]:
            self.stdout.write(f"  {elapsed:5.0f} ms  {url} {params}")

    def report(self, label, times):
        times = sorted(times)
        p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
        self.stdout.write(
            f"{label}: p50 {statistics.median(times):.0f} ms, p95 {p95:.0f} ms, max {times[-1]:.0f} ms "
            f"(n={len(times)})"
        )
