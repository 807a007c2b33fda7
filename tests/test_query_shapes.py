"""
The faster forms of a filtered search, of filtered facets and of random draws answer exactly what the plain forms
answer: the same rows in the same order, the same counts, the same draws, on both engines.

Each form is chosen by a cheap look at the data (how many of the newest excerpts pass the filters, match the search);
here each is forced on and off in turn and the whole response compared, page 2 included.
"""

import re
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.db.models import Q
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from excerpts.api.filters import ExcerptFilterSet
from excerpts.models import Excerpt
from excerpts.research import facets, limits, sampling, search
from excerpts.research.search_engines import SQLiteSearch
from tests import factories

pytestmark = pytest.mark.django_db

# How the SQL of a search led by the filters begins: each excerpt looked up in the list of the query's matches.
LISTED = '+"excerpts_excerpt"."id" IN (SELECT'
SPEAKERS = ("mao-zedong", "zhou-enlai", "liu-shaoqi")


@pytest.fixture
def corpus():
    """60 published excerpts (one in three says "people") over three speakers, two topics, twenty years; a draft."""
    speakers = [factories.speaker(slug, slug.replace("-", " ").title()) for slug in SPEAKERS]
    source = factories.source("works", "Works")
    topics = [factories.topic("communes", "Communes"), factories.topic("steel", "Steel")]
    rows = []
    for i in range(60):
        words = "the people and the party" if i % 3 == 0 else "the party and the plan"
        rows.append(
            factories.excerpt(
                f"{words.capitalize()} in year {i}.",
                # Mao says one in five (four of them with "people"), the others share the rest: the narrow filter.
                speaker=speakers[0 if i % 5 == 1 else 1 + i % 2],
                source=source,
                date=f"{1950 + i % 20}-0{1 + i % 9}",
                kind="speech" if i % 2 else "letter",
                language="en" if i % 4 else "ru",
                topics=[topics[i % 2]] if i % 5 else topics,
            )
        )
    factories.excerpt("The people in a draft.", speaker=speakers[0], source=source, status=Excerpt.Status.DRAFT)
    return rows


def filters(params):
    """The excerpts the list's filters (all but q and ordering) pass."""
    return ExcerptFilterSet(QueryDict(urlencode(params, doseq=True)), queryset=Excerpt.objects.published()).qs


def pages(client, url, params):
    """The response body, and page 2's when there is one: the cursor must lead to the same rows."""
    response = client.get(url, params)
    assert response.status_code == 200, response.content
    body = response.json()
    following = body.get("next") if isinstance(body, dict) else None
    return [body, client.get(following).json()] if following else [body]


SEARCHES = [
    {"q": "people", "speaker": "mao-zedong"},
    {"q": "people", "date_after": "1955", "date_before": "1958"},
    {"q": "people", "topic": "steel"},
    {"q": '"the people" -plan', "speaker": "zhou-enlai"},
    {"q": "party", "language": "ru"},
    {"q": "people"},
]


@pytest.mark.parametrize("params", SEARCHES)
def test_a_search_led_by_its_filters_answers_what_the_search_led_answers(client, corpus, monkeypatch, params):
    def responses(narrower):
        monkeypatch.setattr(SQLiteSearch, "narrower", lambda self, queryset: narrower)
        found = {}
        for ordering in ("relevance", "date", "-date", "speaker", "-speaker"):
            found[ordering] = pages(client, reverse("excerpt-list"), {**params, "ordering": ordering, "page_size": 4})
        found["facets"] = pages(client, reverse("excerpt-facets"), params)
        found["random"] = pages(client, reverse("excerpt-random"), {**params, "count": 5, "seed": 11})
        return found

    led_by_filters = responses(True)
    assert led_by_filters == responses(False)
    # The expected rows, computed here: published, passing the filters, saying the words.
    expected = filters(params)
    words = params["q"].split('"')[1] if '"' in params["q"] else params["q"]
    excluded = params["q"].rsplit("-", 1)[1] if " -" in params["q"] else None
    matching = [e for e in expected if words in e.text.lower() and not (excluded and excluded in e.text.lower())]
    assert led_by_filters["date"][0]["count"] == len(matching) > 0
    by_date = sorted(matching, key=lambda e: (e.date_start, e.pk))
    listed = [item["id"] for body in led_by_filters["date"] for item in body["results"]]
    assert listed == [e.pk for e in by_date][: len(listed)]


def test_filters_narrower_than_the_search_lead_the_count_and_the_page(client, corpus, django_assert_max_num_queries):
    # Mao's 12 excerpts, of which 4 say "people"; 20 say "people" in all: Mao's filter is narrower (on SQLite).
    with django_assert_max_num_queries(12) as captured:
        params = {"q": "people", "speaker": "mao-zedong", "ordering": "-date"}
        body = client.get(reverse("excerpt-list"), params).json()
    assert body["count"] == 4
    count = next(q["sql"] for q in captured if q["sql"].startswith("SELECT COUNT(*) FROM ("))
    assert (LISTED in count) == (connection.vendor == "sqlite")
    # The whole corpus is not narrower than a search: the search leads.
    with django_assert_max_num_queries(12) as captured:
        assert client.get(reverse("excerpt-list"), {"q": "people", "ordering": "-date"}).json()["count"] == 20
    assert not any(LISTED in q["sql"] for q in captured)


def test_a_searched_queryset_led_by_its_filters_is_a_plain_filter_of_the_same_rows(corpus):
    filtered = Excerpt.objects.published().filter(speaker__slug="mao-zedong")
    query = search.parse_query("people")
    plan = search.plan(query, ["-date_start", "-id"])
    listed = plan.engine.listed(filtered).order_by("-date_start", "-id")
    assert list(listed) == list(plan.engine.matching(filtered).order_by("-date_start", "-id"))
    assert len(listed) == 4


FILTERS = [
    {"language": "en"},
    {"kind": "letter", "language": "en", "date_after": "1960"},
    {"date_after": "1955", "date_before": "1956-06"},
    {"topic": "steel"},
    {"speaker": "mao-zedong", "topic": "communes"},
    {"attribution": "paraphrase"},
]


@pytest.mark.parametrize("params", FILTERS)
@pytest.mark.parametrize("limit", [5, 100])
def test_filtered_facets_count_the_same_newest_matches_whichever_way_they_are_read(corpus, monkeypatch, params, limit):
    queryset = filters(params)
    answers = []
    for is_dense, on_id in ((True, False), (False, False), (False, True)):  # walked, through an index, planner's
        monkeypatch.setattr(facets, "dense", lambda queryset, is_dense=is_dense: is_dense)
        monkeypatch.setattr(facets, "filters_on_id", lambda queryset, on_id=on_id: on_id)
        answers.append(facets.facet_counts(queryset, limit=limit))
    assert answers[0] == answers[1] == answers[2]
    newest = list(queryset.order_by("-id")[:limit])
    assert answers[0]["count"] == len(newest) and answers[0]["count_exact"] == (queryset.count() <= limit)
    kinds = {row["value"]: row["count"] for row in answers[0]["kind"]}
    assert kinds == {kind: sum(e.kind == kind for e in newest) for kind in {e.kind for e in newest}}


def test_a_sparse_set_is_read_through_an_index_and_a_topic_from_its_links(corpus):
    # Only SQLite's facets take this form, but it is plain SQL that either engine answers alike.
    sparse = Excerpt.objects.published().filter(kind="letter", language="en")
    read = facets.through_index(sparse, 10)
    assert re.search(r'ORDER BY \+\S*"id" DESC LIMIT 10\)$', str(read.query))
    assert sorted(row["id"] for row in read) == sorted(sparse.order_by("-id").values_list("id", flat=True)[:10])
    assert facets.filters_on_id(Excerpt.objects.filter(id__in=Excerpt.topics.through.objects.values("excerpt_id")))
    assert not facets.filters_on_id(sparse)


@pytest.mark.parametrize(
    "params", [{}, {"speaker": "mao-zedong"}, {"topic": "steel"}, {"q": "party"}, {"language": "en", "kind": "speech"}]
)
def test_a_draw_takes_the_same_stretches_whether_they_are_walked_or_cut_from_the_list_of_ids(
    corpus, monkeypatch, params
):
    monkeypatch.setattr(limits, "SAMPLE_ALL", 10)  # stretches of 2, from any set of more than 10
    queryset = filters(params)
    if "q" in params:
        queryset = search.matching(queryset, search.parse_query(params["q"]))
    assert queryset.count() > 10
    draws = []
    for is_sparse, most in ((False, 100_000), (True, 100_000), (True, 1)):  # walked, listed, read one by one
        monkeypatch.setattr(sampling, "sparse", lambda queryset, is_sparse=is_sparse: is_sparse)
        monkeypatch.setattr(sampling, "filters_on_id", lambda queryset, is_sparse=is_sparse: is_sparse)
        monkeypatch.setattr(limits, "SAMPLE_IDS", most)
        draws.append([sampling.random_ids(queryset, 6, seed) for seed in (1, 2, 3)])
    assert draws[0] == draws[1] == draws[2]
    assert set().union(*draws[0]) <= set(queryset.values_list("id", flat=True))
    assert all(len(set(draw)) == len(draw) > 0 for draw in draws[0])


def test_a_dense_topics_draw_probes_each_excerpts_links_instead_of_building_the_topics_list(corpus, monkeypatch):
    # SQLite builds a topic's whole list of ids for every statement that reads `id IN (the topic's links)`, however
    # few rows it reads: a draw from three topics of a million (108,000 excerpts) took 1.1 s. A topic's set dense
    # among the newest excerpts is walked instead, each excerpt's links probed, and gives the very same draws.
    monkeypatch.setattr(limits, "SAMPLE_ALL", 10)
    for params in ({"topic": "steel"}, {"topic": ["steel", "communes"], "date_after": "1962"}):
        queryset = filters(params)
        assert queryset.count() > 10, params
        listed = [sampling.random_ids(queryset, 6, seed) for seed in (1, 2, 3)]
        with monkeypatch.context() as dense:
            dense.setattr(limits, "DENSITY_SAMPLE", 30)  # the newest 30 excerpts: the set is dense among them
            with CaptureQueriesContext(connection) as queries:
                tested = [sampling.random_ids(queryset, 6, seed) for seed in (1, 2, 3)]
        assert tested == listed, params
        assert all(len(set(draw)) == len(draw) > 0 for draw in tested)
        if connection.vendor == "sqlite":
            read = [query["sql"] for query in queries if "excerpts_excerpt_topics" in query["sql"]]
            assert read and all("EXISTS" in sql and " IN (SELECT" not in sql for sql in read), read


def test_a_topics_list_is_tested_per_excerpt_only_where_every_row_must_pass_it(corpus):
    topic = filters({"topic": "steel", "speaker": "mao-zedong"})
    tested = facets.tested_per_excerpt(topic)
    assert tested is not None and not facets.filters_on_id(tested)
    assert "EXISTS" in str(tested.query)
    assert set(tested.values_list("id", flat=True)) == set(topic.values_list("id", flat=True)) != set()
    # A list inside an OR, or none at all: left as it is.
    either = Excerpt.objects.published().filter(
        Q(id__in=Excerpt.topics.through.objects.filter(topic__slug="steel").values("excerpt_id")) | Q(kind="letter")
    )
    assert facets.tested_per_excerpt(either) is None
    assert facets.tested_per_excerpt(filters({"speaker": "mao-zedong"})) is None


def test_a_topics_draw_cuts_its_stretches_from_its_list_of_ids_unless_it_is_dense(corpus, monkeypatch):
    # SQLite reads a topic's list of ids from its start up to each point a walk starts from (80 ms a stretch at a
    # million): the list is read once instead, and the stretches cut from it. (Not dense among the newest 4,000:
    # a dense topic's set is walked with each excerpt's links probed, above.)
    monkeypatch.setattr(limits, "SAMPLE_ALL", 10)
    monkeypatch.setattr(sampling, "sparse", lambda queryset: False)
    queryset = filters({"topic": "steel"})
    assert queryset.count() > 10
    with CaptureQueriesContext(connection) as queries:
        drawn = sampling.random_ids(queryset, 6, 1)
    assert len(set(drawn)) == 6 and set(drawn) <= set(queryset.values_list("id", flat=True))
    # On SQLite whether it is dense among the newest (the newest id, then a walk of those); then whether the set is
    # small enough to read whole, then all its ids: no bounds, no stretch read by a query.
    assert len(queries) == (4 if connection.vendor == "sqlite" else 2), [query["sql"] for query in queries]
