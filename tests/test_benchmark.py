"""
seed_synthetic and benchmark on a small synthetic corpus: the rows reach every index and summary,
the same seed gives the same corpus, and every figure prints.
"""

import contextlib
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
    word = max(Excerpt.objects.order_by("id").first().text.strip(".").split(), key=len)
    found = client.get(reverse("excerpt-list"), {"q": word}).json()
    assert found["count"] >= 1


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
    for figure in ("search, rare term", "list, first page", "random, 50", "facets, whole corpus", "sweep of"):
        assert figure in text, figure
    assert "0 over 300 ms" in text  # 120 excerpts
