"""
seed_synthetic and benchmark on a small synthetic corpus: the rows reach every index and summary,
the same seed gives the same corpus, and every figure prints.
"""

import contextlib
import re
import sqlite3
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.urls import reverse

from bench.management.commands.benchmark import timed
from excerpts.api import representations, response_cache
from excerpts.models import Excerpt
from excerpts.research import facets

pytestmark = pytest.mark.django_db


@pytest.fixture
def synthetic():
    call_command("seed_synthetic", "--count", "120", "--batch", "50", stdout=StringIO())


def test_seed_synthetic_adds_rows_that_the_search_the_facet_summary_and_the_speaker_ordering_see(client, synthetic):
    assert Excerpt.objects.published().count() == 120
    assert facets.summary_counts([Excerpt.Status.PUBLISHED]) == facets.facet_counts(Excerpt.objects.published())
    assert not Excerpt.objects.filter(speaker_name="").exists()
    # The longest word of the first excerpt: a pseudo-word, never one of PostgreSQL's stop words.
    first = Excerpt.objects.order_by("id").first()
    word = max(first.text.strip(".").split(), key=len)
    found = client.get(reverse("excerpt-list"), {"q": word, "page_size": 100}).json()
    assert first.pk in [item["id"] for item in found["results"]]


def test_an_uncached_timing_finds_nothing_kept_before_it(client, synthetic):
    url = reverse("excerpt-list")
    timed(client, url, {"ordering": "-date", "page_size": 5})  # the newest five
    before = (set(response_cache.RECENT.entries), set(representations.FRAGMENTS.entries))
    assert before[0] and len(before[1]) == 5
    timed(client, url, {"page_size": 5}, cold=True)  # the oldest five
    after = (set(response_cache.RECENT.entries), set(representations.FRAGMENTS.entries))
    # What the timed request kept itself, and nothing the one before it did.
    assert after[0] and not after[0] & before[0]
    assert len(after[1]) == 5 and not after[1] & before[1]


def seeded(seed):
    """The first rows seed_synthetic adds with ``seed``, then rolled back."""
    with contextlib.suppress(RolledBack), transaction.atomic():
        call_command("seed_synthetic", "--count", "30", "--seed", str(seed), stdout=StringIO())
        rows = list(Excerpt.objects.order_by("id").values_list("text", "date", "speaker__slug", "kind"))
        raise RolledBack
    return rows


class RolledBack(Exception):
    pass


def test_the_same_seed_gives_the_same_corpus_and_another_seed_another():
    assert seeded(1) == seeded(1)
    assert seeded(1) != seeded(2)
    assert not Excerpt.objects.exists()


def test_benchmark_prints_every_figure(synthetic):
    out = StringIO()
    call_command("benchmark", "--terms", "2", stdout=out)
    text = out.getvalue()
    for figure in ("search, rare term", "list, first page", "random, 50", "facets, whole corpus"):
        line = rf"^{re.escape(figure)}[^:]*: p50 \d+ ms, p95 \d+ ms, max \d+ ms \(n=\d+\)$"
        assert re.search(line, text, re.MULTILINE), figure
    # How many requests were slow depends on the machine: the figure is printed, never judged here.
    sweep = re.search(r"^sweep of (\d+) kinds of request, .*, (\d+) over 300 ms; the slowest .*:$", text, re.MULTILINE)
    assert sweep, text
    kinds, slow = map(int, sweep.groups())
    assert kinds == 128
    assert 0 <= slow <= kinds
    # Every request over 300 ms is named, and never fewer than the 8 slowest.
    assert len(re.findall(r"^  +\d+ ms  /api/", text, re.MULTILINE)) == max(8, slow)
    # The load the figures were measured under, before and after them.
    load = r"^load average at the {}: \d+\.\d\d, \d+\.\d\d, \d+\.\d\d \(1, 5, 15 min; \d+ cores\)$"
    assert re.search(load.format("start"), text.splitlines()[0])
    assert re.search(load.format("end"), text.splitlines()[-1])


def test_benchmark_names_the_database_it_measured_and_the_memory_it_was_given(synthetic):
    out = StringIO()
    call_command("benchmark", "--terms", "1", stdout=out)
    line = out.getvalue().splitlines()[2]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT current_setting('shared_buffers'), pg_size_bytes(current_setting('shared_buffers'))"
            )
            setting, buffers = cursor.fetchone()
            found = re.fullmatch(
                rf"PostgreSQL 1\d\.\d+ .*, database \d+ [kMG]B; shared_buffers {re.escape(setting)} "
                r"\([\d.]+% of the database, ([\d.]+)% of this machine's ([\d.]+) GB of memory\), "
                r"effective_cache_size \S+, work_mem \S+",
                line,
            )
            assert found, line
            memory = 1024 * int(re.search(r"MemTotal:\s+(\d+) kB", Path("/proc/meminfo").read_text()).group(1))
            assert float(found.group(1)) == pytest.approx(100 * buffers / memory, abs=0.1)
            assert float(found.group(2)) == pytest.approx(memory / 2**30, abs=0.2)
        else:
            cursor.execute("PRAGMA page_count")
            pages = cursor.fetchone()[0]
            cursor.execute("PRAGMA page_size")
            size = pages * cursor.fetchone()[0]
            found = re.fullmatch(
                r"SQLite (\S+), database ([\d,]+) MB \((\w+) journal\); page cache (\d+) MB a connection", line
            )
            assert found, line
            assert found.group(1) == sqlite3.sqlite_version
            assert int(found.group(2).replace(",", "")) == round(size / 2**20)
            # Django's SQLite default: SQLite's own page cache of 2,000 KiB.
            assert found.group(4) == "2"
