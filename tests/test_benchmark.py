"""
seed_synthetic and benchmark on a small synthetic corpus: the rows reach every index and summary,
the same seed gives the same corpus, and every figure prints.
"""

import contextlib
import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction
from django.urls import reverse

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
