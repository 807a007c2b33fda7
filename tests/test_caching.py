"""Cached facets and list totals: served from the cache until any write path changes the data version."""

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.urls import reverse

from excerpts.api import filters, representations, response_cache
from excerpts.api.pagination import KeysetPagination
from excerpts.models import Excerpt
from excerpts.research import caching
from excerpts.research import facets as facets_module
from excerpts.resources import COLUMNS
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_excerpts():
    """Mao's two published excerpts, one with a topic; Zhou has none yet."""
    mao, zhou = factories.speaker("mao-zedong", "Mao Zedong"), factories.speaker("zhou-enlai", "Zhou Enlai")
    source = factories.source("works", "Works")
    leap = factories.topic("great-leap", "Great Leap Forward")
    return {
        "steel": factories.excerpt("Steel.", speaker=mao, source=source, topics=[leap]),
        "grain": factories.excerpt("Grain.", speaker=mao, source=source),
        "zhou": zhou,
        "source": source,
        "leap": leap,
    }


def facets(client):
    return client.get(reverse("excerpt-facets")).json()


def speakers(client):
    return {row["value"]: row["count"] for row in facets(client)["speaker"]}


def test_the_second_request_for_the_same_filtered_facets_is_answered_from_the_cache(client, two_excerpts, monkeypatch):
    calls = []
    counts = facets_module.facet_counts
    monkeypatch.setattr(
        facets_module, "facet_counts", lambda *args, **kwargs: calls.append(1) or counts(*args, **kwargs)
    )
    url, params = reverse("excerpt-facets"), {"speaker": "mao-zedong"}
    assert client.get(url, params).json()["count"] == 2
    assert client.get(url, params).json()["count"] == 2
    assert len(calls) == 1
    two_excerpts["grain"].delete()
    assert client.get(url, params).json()["count"] == 1
    assert len(calls) == 2


def test_the_cache_key_tells_apart_roles_and_parameters(client, two_excerpts, curator):
    factories.excerpt("A draft.", speaker=two_excerpts["zhou"], source=two_excerpts["source"], status="draft")
    assert facets(client)["count"] == 2
    assert client.get(reverse("excerpt-facets"), {"speaker": "zhou-enlai"}).json()["count"] == 0
    client.force_login(curator)
    assert facets(client)["count"] == 3
    assert speakers(client) == {"mao-zedong": 2, "zhou-enlai": 1}
    assert client.get(reverse("excerpt-facets"), {"speaker": "zhou-enlai"}).json()["count"] == 1


def rename_speaker(two_excerpts):
    speaker = two_excerpts["steel"].speaker
    speaker.slug = "mao"
    speaker.save()
    return {"mao": 2}


def save_with_new_speaker(two_excerpts):
    two_excerpts["steel"].speaker = two_excerpts["zhou"]
    two_excerpts["steel"].save()
    return {"mao-zedong": 1, "zhou-enlai": 1}


def delete(two_excerpts):
    two_excerpts["grain"].delete()
    return {"mao-zedong": 1}


def bulk_unpublish(two_excerpts):
    # What the admin's bulk actions do: one UPDATE (or DELETE) for the selected rows, no save() per row.
    Excerpt.objects.filter(pk=two_excerpts["grain"].pk).update(status=Excerpt.Status.DRAFT)
    return {"mao-zedong": 1}


def bulk_delete(two_excerpts):
    Excerpt.objects.filter(pk=two_excerpts["grain"].pk).delete()
    return {"mao-zedong": 1}


def raw_sql(two_excerpts):
    with connection.cursor() as cursor:
        cursor.execute("UPDATE excerpts_excerpt SET speaker_id = %s", [two_excerpts["zhou"].pk])
    return {"zhou-enlai": 2}


def import_csv(two_excerpts, tmp_path):
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


def loaddata(two_excerpts, tmp_path):
    fixture = tmp_path / "more.json"
    excerpt = factories.excerpt_fixture(9001, two_excerpts["zhou"].pk, two_excerpts["source"].pk)
    fixture.write_text(json.dumps([excerpt]))
    call_command("loaddata", str(fixture), verbosity=0)
    return {"mao-zedong": 2, "zhou-enlai": 1}


@pytest.mark.parametrize(
    "write",
    [rename_speaker, save_with_new_speaker, delete, bulk_unpublish, bulk_delete, raw_sql, import_csv, loaddata],
)
def test_every_write_path_invalidates_cached_facets(client, two_excerpts, tmp_path, write):
    assert speakers(client) == {"mao-zedong": 2}
    expected = write(two_excerpts, tmp_path) if write in (import_csv, loaddata) else write(two_excerpts)
    assert speakers(client) == expected


def test_adding_a_topic_to_an_excerpt_invalidates_the_topic_facet(client, two_excerpts):
    assert [row["count"] for row in facets(client)["topic"]] == [1]
    two_excerpts["grain"].topics.add(two_excerpts["leap"])
    assert [row["count"] for row in facets(client)["topic"]] == [2]


def test_a_list_total_is_counted_once_and_recounted_after_a_write(client, two_excerpts, django_assert_num_queries):
    url = reverse("excerpt-list")
    assert client.get(url, {"page_size": 1}).json()["count"] == 2
    # The same filters on another page size or a later page: data version, page, its rows, their topics; no count.
    with django_assert_num_queries(4):
        assert client.get(url, {"page_size": 2}).json()["count"] == 2
    two_excerpts["grain"].delete()
    assert client.get(url, {"page_size": 2}).json()["count"] == 1


@pytest.mark.parametrize(("limit", "count", "exact"), [(3, 2, True), (2, 2, True), (1, 1, False)])
def test_a_list_counts_exactly_up_to_the_limit_and_says_when_more_match(
    client, two_excerpts, monkeypatch, limit, count, exact
):
    monkeypatch.setattr(KeysetPagination, "count_limit", limit)
    body = client.get(reverse("excerpt-list"), {"page_size": 1}).json()
    assert (body["count"], body["count_exact"]) == (count, exact)
    assert body["next"] is not None  # the pages still reach every match


def test_a_capped_search_count_still_pages_through_every_match(client, two_excerpts, monkeypatch):
    monkeypatch.setattr(KeysetPagination, "count_limit", 1)
    factories.excerpt("Steel again.", speaker=two_excerpts["zhou"], source=two_excerpts["source"])
    url, params, seen = reverse("excerpt-list"), {"q": "steel", "page_size": 1}, []
    while url:
        body = client.get(url, params).json()
        assert (body["count"], body["count_exact"]) == (1, False)
        seen.extend(item["id"] for item in body["results"])
        url, params = body["next"], None
    assert len(set(seen)) == 2


def test_a_process_memo_keeps_the_newest_within_its_bound_and_nothing_at_zero(settings):
    settings.TEST_MEMO_LIMIT = 10
    memo = caching.ProcessMemo("TEST_MEMO_LIMIT", weight=len)
    for key, value in [("a", "xxxx"), ("b", "yyyy"), ("c", "zzzz"), ("big", "w" * 11)]:
        memo.put(key, value)
    assert memo.entries == {"b": "yyyy", "c": "zzzz"} and memo.total == 8
    memo.put("b", "other")  # a key once kept keeps its value
    assert memo.get("b") == "yyyy" and memo.get("a") is None
    settings.TEST_MEMO_LIMIT = 0
    memo.put("empty", "")
    assert memo.get("empty") is None and memo.total == 8
    memo.clear()
    assert memo.entries == {} and memo.total == 0


def test_a_process_memo_computes_once_per_data_version_keeps_none_and_not_what_raised(two_excerpts):
    memo, calls = caching.ProcessMemo(2), []

    def compute():
        calls.append(caching.data_version())
        return None if len(calls) == 1 else len(calls)

    assert memo.kept(("span",), compute) is None
    assert memo.kept(("span",), compute) is None and len(calls) == 1  # None is a value kept like any other
    factories.excerpt("Iron.", speaker=two_excerpts["zhou"], source=two_excerpts["source"])
    assert memo.kept(("span",), compute) == 2  # a write moved the version on
    assert calls[0] != calls[1]

    def fail():
        raise ValueError("unknown slug")

    with pytest.raises(ValueError, match="unknown slug"):
        memo.kept(("slug",), fail)
    assert memo.kept(("slug",), compute) == 3
    # A bound given as a number, the oldest going first: the first version's value is gone.
    assert list(memo.entries) == [("span", calls[1]), ("slug", calls[2])]


def test_clearing_every_process_memo_empties_the_filters_and_the_kept_answers(client, two_excerpts):
    client.get(reverse("excerpt-list"), {"speaker": "mao-zedong", "date_after": "1950"})
    client.get(reverse("excerpt-detail", args=[two_excerpts["steel"].pk]))
    memos = [filters.KNOWN_OBJECTS, filters.KNOWN_SPANS, filters.FILTERED_QUERYSETS, representations.FRAGMENTS]
    assert all(memo.entries for memo in memos) and response_cache.RECENT.entries
    caching.ProcessMemo.clear_every()
    assert not any(memo.entries for memo in [*memos, response_cache.RECENT])
