"""Facet counts against a hand-computed expectation, and seeded random excerpts."""

import pytest
from django.urls import reverse

from excerpts.models import Excerpt
from excerpts.research import limits, sampling
from tests import factories

pytestmark = pytest.mark.django_db


def test_facets_count_the_published_excerpts_per_value(client, facet_corpus):
    body = client.get(reverse("excerpt-facets")).json()
    assert body["count"] == 3
    assert body["speaker"] == [
        {"value": "mao-zedong", "label": "Mao Zedong", "count": 2},
        {"value": "zhou-enlai", "label": "Zhou Enlai", "count": 1},
    ]
    assert body["topic"] == [
        {"value": "great-leap", "label": "Great Leap Forward", "count": 2},
        {"value": "communes", "label": "Communes", "count": 1},
    ]
    assert body["kind"] == [
        {"value": "speech", "label": "Speech", "count": 2},
        {"value": "letter", "label": "Letter", "count": 1},
    ]
    assert body["attribution"][0] == {"value": "direct", "label": "Direct (verbatim, in translation)", "count": 2}
    assert body["language"] == [{"value": "en", "label": "en", "count": 2}, {"value": "zh", "label": "zh", "count": 1}]
    assert body["event"] == [{"value": "lushan", "label": "Lushan Conference", "count": 1}]
    # The interval 1959/1961 counts once, in the year of its earliest day.
    assert body["year"] == [
        {"value": "1949", "label": "1949", "count": 1},
        {"value": "1958", "label": "1958", "count": 1},
        {"value": "1959", "label": "1959", "count": 1},
    ]
    assert body["decade"] == [
        {"value": "1940", "label": "1940s", "count": 1},
        {"value": "1950", "label": "1950s", "count": 2},
    ]


def test_facets_take_every_excerpt_filter_including_a_search(client, facet_corpus):
    # The search finds the speaker's name: Mao's two excerpts, both of the topic.
    body = client.get(reverse("excerpt-facets"), {"q": "zedong", "topic": "great-leap"}).json()
    assert body["count"] == 2
    assert body["speaker"] == [{"value": "mao-zedong", "label": "Mao Zedong", "count": 2}]
    assert body["topic"] == [
        {"value": "great-leap", "label": "Great Leap Forward", "count": 2},
        {"value": "communes", "label": "Communes", "count": 1},
    ]


def test_facets_refuse_unknown_parameters(client, facet_corpus):
    response = client.get(reverse("excerpt-facets"), {"speakr": "mao-zedong"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["name"] == "speakr"


def random_ids(client, **params):
    response = client.get(reverse("excerpt-random"), params)
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["results"]]


def test_the_same_seed_gives_the_same_excerpts(client, facet_corpus):
    first = random_ids(client, count=2, seed=42)
    assert first == random_ids(client, count=2, seed=42)
    assert len(set(first)) == 2
    assert set(first) <= {facet_corpus[name].pk for name in ("steel", "grain", "unity")}


def test_random_respects_the_filters_and_says_its_seed(client, facet_corpus):
    response = client.get(reverse("excerpt-random"), {"count": 5, "speaker": "zhou-enlai"})
    body = response.json()
    assert [item["id"] for item in body["results"]] == [facet_corpus["unity"].pk]
    assert random_ids(client, count=5, seed=body["seed"], speaker="zhou-enlai") == [facet_corpus["unity"].pk]


@pytest.mark.parametrize(
    "params", [{}, {"q": "filler"}, {"date_after": "1958", "speaker": "mao-zedong"}, {"topic": "great-leap"}]
)
def test_a_large_set_is_drawn_from_seeded_stretches_deterministically(facet_corpus, monkeypatch, params):
    from django.http import QueryDict

    from excerpts.api.filters import ExcerptFilterSet

    for i in range(40):
        factories.excerpt(
            f"Filler {i}.",
            speaker=facet_corpus["mao"],
            source=facet_corpus["works"],
            topics=[facet_corpus["leap"]],
            date="1960",
        )
    monkeypatch.setattr(limits, "SAMPLE_ALL", 10)
    queryset = ExcerptFilterSet(QueryDict(mutable=True) | params, queryset=Excerpt.objects.published()).qs
    matching = set(queryset.values_list("id", flat=True))
    assert len(matching) > 10  # so the set is drawn from stretches, not read whole
    drawn = sampling.random_ids(queryset, 5, seed=7)
    assert drawn == sampling.random_ids(queryset, 5, seed=7)
    assert len(set(drawn)) == 5
    assert set(drawn) <= matching
    assert drawn != sampling.random_ids(queryset, 5, seed=8)


@pytest.mark.parametrize(
    ("params", "name"),
    [({"count": 0}, "count"), ({"count": 51}, "count"), ({"seed": -1}, "seed"), ({"seed": "x"}, "seed")],
)
def test_random_refuses_a_count_or_seed_out_of_bounds(client, facet_corpus, params, name):
    response = client.get(reverse("excerpt-random"), params)
    assert response.status_code == 400
    assert response.json()["errors"][0]["name"] == name
