"""Cached facets and list totals: served from the cache until any write path changes the data version."""

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.urls import reverse

from excerpts.api.pagination import KeysetPagination
from excerpts.models import Excerpt
from excerpts.research import facets as facets_module
from excerpts.resources import COLUMNS
from tests.research_data import excerpt_fixture, make_excerpt, make_source, make_speaker, make_topic

pytestmark = pytest.mark.django_db


@pytest.fixture
def corpus():
    mao, zhou = make_speaker("mao-zedong", "Mao Zedong"), make_speaker("zhou-enlai", "Zhou Enlai")
    source = make_source("works", "Works")
    leap = make_topic("great-leap", "Great Leap Forward")
    return {
        "steel": make_excerpt("Steel.", mao, source, topics=[leap]),
        "grain": make_excerpt("Grain.", mao, source),
        "zhou": zhou,
        "source": source,
        "leap": leap,
    }


def facets(client):
    return client.get(reverse("excerpt-facets")).json()


def speakers(client):
    return {row["value"]: row["count"] for row in facets(client)["speaker"]}


def test_the_second_request_for_the_same_filtered_facets_is_answered_from_the_cache(client, corpus, monkeypatch):
    calls = []
    counts = facets_module.facet_counts
    monkeypatch.setattr(facets_module, "facet_counts", lambda queryset: calls.append(1) or counts(queryset))
    url, params = reverse("excerpt-facets"), {"speaker": "mao-zedong"}
    assert client.get(url, params).json()["count"] == 2
    assert client.get(url, params).json()["count"] == 2
    assert len(calls) == 1
    corpus["grain"].delete()
    assert client.get(url, params).json()["count"] == 1
    assert len(calls) == 2


def test_the_cache_key_tells_apart_roles_and_parameters(client, corpus, curator):
    draft = make_excerpt("A draft.", corpus["zhou"], corpus["source"], status=Excerpt.Status.DRAFT)
    assert facets(client)["count"] == 2
    assert client.get(reverse("excerpt-facets"), {"speaker": "zhou-enlai"}).json()["count"] == 0
    client.force_login(curator)
    assert facets(client)["count"] == 3
    assert client.get(reverse("excerpt-facets"), {"speaker": "zhou-enlai"}).json()["count"] == 1
    assert draft.pk


def rename_speaker(corpus):
    speaker = corpus["steel"].speaker
    speaker.slug = "mao"
    speaker.save()
    return {"mao": 2}


def save_with_new_speaker(corpus):
    corpus["steel"].speaker = corpus["zhou"]
    corpus["steel"].save()
    return {"mao-zedong": 1, "zhou-enlai": 1}


def delete(corpus):
    corpus["grain"].delete()
    return {"mao-zedong": 1}


def bulk_unpublish(corpus):
    # What the admin's bulk actions do: one UPDATE (or DELETE) for the selected rows, no save() per row.
    Excerpt.objects.filter(pk=corpus["grain"].pk).update(status=Excerpt.Status.DRAFT)
    return {"mao-zedong": 1}


def bulk_delete(corpus):
    Excerpt.objects.filter(pk=corpus["grain"].pk).delete()
    return {"mao-zedong": 1}


def raw_sql(corpus):
    with connection.cursor() as cursor:
        cursor.execute("UPDATE excerpts_excerpt SET speaker_id = %s", [corpus["zhou"].pk])
    return {"zhou-enlai": 2}


def import_csv(corpus, tmp_path):
    row = [""] * len(COLUMNS)
    values = {
        "text": "Imported.",
        "kind": "speech",
        "attribution": "direct",
        "speaker": "zhou-enlai",
        "date": "1958",
        "source": "works",
        "language": "en",
        "status": "published",
    }
    for name, value in values.items():
        row[COLUMNS.index(name)] = value
    path = tmp_path / "excerpts.csv"
    path.write_text(",".join(COLUMNS) + "\n" + ",".join(row) + "\n", encoding="utf-8")
    call_command("import_excerpts", str(path), stdout=StringIO())
    return {"mao-zedong": 2, "zhou-enlai": 1}


def loaddata(corpus, tmp_path):
    fixture = tmp_path / "more.json"
    excerpt = excerpt_fixture(9001, corpus["zhou"].pk, corpus["source"].pk)
    fixture.write_text(json.dumps([excerpt]))
    call_command("loaddata", str(fixture), verbosity=0)
    return {"mao-zedong": 2, "zhou-enlai": 1}


@pytest.mark.parametrize(
    "write",
    [rename_speaker, save_with_new_speaker, delete, bulk_unpublish, bulk_delete, raw_sql, import_csv, loaddata],
)
def test_every_write_path_invalidates_cached_facets(client, corpus, tmp_path, write):
    assert speakers(client) == {"mao-zedong": 2}
    expected = write(corpus, tmp_path) if write in (import_csv, loaddata) else write(corpus)
    assert speakers(client) == expected


def test_adding_a_topic_to_an_excerpt_invalidates_the_topic_facet(client, corpus):
    assert [row["count"] for row in facets(client)["topic"]] == [1]
    corpus["grain"].topics.add(corpus["leap"])
    assert [row["count"] for row in facets(client)["topic"]] == [2]


def test_a_list_total_is_counted_once_and_recounted_after_a_write(client, corpus, django_assert_num_queries):
    url = reverse("excerpt-list")
    assert client.get(url, {"page_size": 1}).json()["count"] == 2
    # The same filters on another page size or a later page: data version, page, topics; no count.
    with django_assert_num_queries(3):
        assert client.get(url, {"page_size": 2}).json()["count"] == 2
    corpus["grain"].delete()
    assert client.get(url, {"page_size": 2}).json()["count"] == 1


@pytest.mark.parametrize(("limit", "count", "exact"), [(3, 2, True), (2, 2, True), (1, 1, False)])
def test_a_list_counts_exactly_up_to_the_limit_and_says_when_more_match(
    client, corpus, monkeypatch, limit, count, exact
):
    monkeypatch.setattr(KeysetPagination, "count_limit", limit)
    body = client.get(reverse("excerpt-list"), {"page_size": 1}).json()
    assert (body["count"], body["count_exact"]) == (count, exact)
    assert body["next"] is not None  # the pages still reach every match


def test_a_capped_search_count_still_pages_through_every_match(client, corpus, monkeypatch):
    monkeypatch.setattr(KeysetPagination, "count_limit", 1)
    make_excerpt("Steel again.", corpus["zhou"], corpus["source"])
    url, params, seen = reverse("excerpt-list"), {"q": "steel", "page_size": 1}, []
    while url:
        body = client.get(url, params).json()
        assert (body["count"], body["count_exact"]) == (1, False)
        seen.extend(item["id"] for item in body["results"])
        url, params = body["next"], None
    assert len(set(seen)) == 2
