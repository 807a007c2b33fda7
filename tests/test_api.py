"""The read API over HTTP: representations, filters, ordering, traversal, errors and query counts."""

import base64
import json
import re
from contextlib import nullcontext
from unittest import mock

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APITestCase

from excerpts.api.views import ExcerptViewSet
from excerpts.models import Excerpt
from tests import factories

LIST = "excerpt-list"


def ids(response):
    return [item["id"] for item in response.json()["results"]]


class ExcerptRepresentationTests(APITestCase):
    @classmethod
    def setUpTestData(cls):
        cls.khrushchev = factories.speaker("nikita-khrushchev", "Nikita Khrushchev", aliases=["N. S. Khrushchev"])
        cls.congress = factories.event(
            "twentieth-party-congress", "Twentieth Congress of the CPSU", date="1956-02-14/1956-02-25"
        )
        cls.speech = factories.source("secret-speech", "On the Cult of Personality", author="Khrushchev", date="1956")
        cls.essay = factories.source("brothers-no-more", "Brothers No More", kind="article")
        cls.cult = factories.topic("cult-of-personality", "Cult of personality")
        cls.excerpt = factories.excerpt(
            "the cult of the individual",
            speaker=cls.khrushchev,
            source=cls.speech,
            date="1956-02-25",
            event=cls.congress,
            topics=[cls.cult],
            language="ru",
            locator="p. 286",
            quoted_in=cls.essay,
            context="Closed session.",
        )
        cls.draft = factories.excerpt("not yet checked", status=Excerpt.Status.DRAFT)

    def test_detail_has_every_documented_field_with_nested_summaries(self):
        response = self.client.get(reverse("excerpt-detail", args=[self.excerpt.id]))
        assert response.status_code == 200
        body = response.json()
        assert body["id"] == self.excerpt.id
        assert body["url"] == "http://testserver" + reverse("excerpt-detail", args=[self.excerpt.id])
        assert body["text"] == "the cult of the individual"
        assert (body["kind"], body["attribution"], body["language"]) == ("speech", "direct", "ru")
        assert body["speaker"] == {
            "slug": "nikita-khrushchev",
            "name": "Nikita Khrushchev",
            "url": "http://testserver" + reverse("speaker-detail", args=["nikita-khrushchev"]),
        }
        assert (body["date"], body["date_start"], body["date_end"]) == ("1956-02-25", "1956-02-25", "1956-02-25")
        assert body["date_display"] == "25 February 1956"
        assert body["event"]["slug"] == "twentieth-party-congress"
        assert body["event"]["date"] == "1956-02-14/1956-02-25"
        assert body["source"] == {
            "id": self.speech.id,
            "title": "On the Cult of Personality",
            "author": "Khrushchev",
            "date": "1956",
            "url": None,
        }
        assert body["locator"] == "p. 286"
        assert body["quoted_in"]["title"] == "Brothers No More"
        assert body["topics"] == [{"slug": "cult-of-personality", "name": "Cult of personality"}]
        assert (body["original_text"], body["translator"], body["context"]) == ("", "", "Closed session.")
        assert "status" not in body

    def test_list_wraps_results_with_count_its_exactness_next_and_previous(self):
        response = self.client.get(reverse(LIST))
        assert response.status_code == 200
        body = response.json()
        assert set(body) == {"count", "count_exact", "next", "previous", "results"}
        assert (body["count"], body["count_exact"], body["next"], body["previous"]) == (1, True, None, None)
        assert body["results"][0]["event"]["name"] == "Twentieth Congress of the CPSU"

    def test_a_draft_is_neither_listed_nor_retrievable(self):
        assert self.draft.id not in ids(self.client.get(reverse(LIST)))
        response = self.client.get(reverse("excerpt-detail", args=[self.draft.id]))
        assert response.status_code == 404
        assert response["Content-Type"] == "application/problem+json"

    def test_speaker_detail_has_aliases_and_published_excerpt_count(self):
        response = self.client.get(reverse("speaker-detail", args=["nikita-khrushchev"]))
        body = response.json()
        assert body["aliases"] == ["N. S. Khrushchev"]
        assert body["excerpt_count"] == 1
        assert body["kind"] == "person"

    def test_reference_lists_search_with_q(self):
        assert [s["slug"] for s in self.client.get(reverse("speaker-list"), {"q": "n. s."}).json()["results"]] == [
            "nikita-khrushchev"
        ]
        assert [t["slug"] for t in self.client.get(reverse("topic-list"), {"q": "CULT"}).json()["results"]] == [
            "cult-of-personality"
        ]
        sources = self.client.get(reverse("source-list"), {"q": "brothers"}).json()["results"]
        assert [s["id"] for s in sources] == [self.essay.id]
        events = self.client.get(reverse("event-list"), {"q": "twentieth"}).json()["results"]
        assert [e["slug"] for e in events] == ["twentieth-party-congress"]

    def test_reference_details_are_found_by_slug_or_id(self):
        assert self.client.get(reverse("topic-detail", args=["cult-of-personality"])).json()["name"] == (
            "Cult of personality"
        )
        assert self.client.get(reverse("source-detail", args=[self.speech.id])).json()["slug"] == "secret-speech"
        assert self.client.get(reverse("event-detail", args=["twentieth-party-congress"])).json()["date"] == (
            "1956-02-14/1956-02-25"
        )


class ExcerptFilterHttpTests(APITestCase):
    @classmethod
    def setUpTestData(cls):
        cls.mao = factories.speaker("mao-zedong", "Mao Zedong", aliases=["Mao Tse-tung"])
        cls.peng = factories.speaker("peng-dehuai", "Peng Dehuai")
        cls.leap = factories.topic("great-leap-forward", "Great Leap Forward")
        cls.year = factories.excerpt("words of 1958", speaker=cls.mao, date="1958", topics=[cls.leap])
        cls.july = factories.excerpt("words of July", speaker=cls.peng, date="1959-07", kind="letter")
        cls.day = factories.excerpt("words of a day", speaker=cls.mao, date="1956-04-05", kind="editorial")

    def test_an_excerpt_dated_only_1958_is_found_in_july_1958(self):
        response = self.client.get(reverse(LIST), {"date_after": "1958-07-01", "date_before": "1958-07-31"})
        assert ids(response) == [self.year.id]

    def test_filters_combine_over_http(self):
        response = self.client.get(reverse(LIST), {"speaker": "mao-zedong", "date_after": "1958"})
        assert ids(response) == [self.year.id]
        response = self.client.get(reverse(LIST) + "?kind=letter&kind=editorial")
        assert ids(response) == [self.day.id, self.july.id]
        assert ids(self.client.get(reverse(LIST), {"topic": "great-leap-forward"})) == [self.year.id]
        assert ids(self.client.get(reverse(LIST), {"q": "Tse-Tung", "ordering": "-date"})) == [
            self.year.id,
            self.day.id,
        ]

    def test_ordering_defaults_to_date_and_accepts_the_documented_values(self):
        assert ids(self.client.get(reverse(LIST))) == [self.day.id, self.year.id, self.july.id]
        assert ids(self.client.get(reverse(LIST), {"ordering": "-date"})) == [self.july.id, self.year.id, self.day.id]
        assert ids(self.client.get(reverse(LIST), {"ordering": "speaker"})) == [
            self.day.id,
            self.year.id,
            self.july.id,
        ]
        assert ids(self.client.get(reverse(LIST), {"ordering": "-speaker"})) == [
            self.july.id,
            self.year.id,
            self.day.id,
        ]


class TraversalTests(APITestCase):
    @classmethod
    def setUpTestData(cls):
        speakers = [factories.speaker(name=name) for name in ("Zhou Enlai", "Mao Zedong", "Liu Shaoqi")]
        source = factories.source()
        # Many ties on the date and on the speaker, so the cursor must break them by id.
        dates = ["1958", "1958", "1958-07", "1956", "1958", "1959?", "1958-22", "1956", "1958", "1960"]
        cls.excerpts = [
            factories.excerpt(f"words {i}", speaker=speakers[i % 3], source=source, date=date)
            for i, date in enumerate(dates * 3)
        ]
        factories.excerpt("a draft", status=Excerpt.Status.DRAFT, date="1958")

    def walk(self, params, link="next"):
        response = self.client.get(reverse(LIST), params)
        pages = [ids(response)]
        body = response.json()
        while body[link]:
            response = self.client.get(body[link])
            assert response.status_code == 200
            body = response.json()
            pages.append(ids(response))
        return pages, body

    def test_following_next_visits_every_excerpt_exactly_once_in_order(self):
        for ordering in ("date", "-date", "speaker", "-speaker"):
            pages, _ = self.walk({"page_size": 4, "ordering": ordering})
            visited = [excerpt_id for page in pages for excerpt_id in page]
            expected = ids(self.client.get(reverse(LIST), {"page_size": 100, "ordering": ordering}))
            assert visited == expected, ordering
            assert len(visited) == len(set(visited)) == 30
            assert all(len(page) == 4 for page in pages[:-1])

    def test_following_previous_from_the_last_page_walks_back_to_the_first(self):
        pages, last = self.walk({"page_size": 7})
        assert len(pages) == 5
        back, body = [], last
        while body["previous"]:
            body = self.client.get(body["previous"]).json()
            back.insert(0, [item["id"] for item in body["results"]])
        assert back == pages[:-1]

    def test_compiled_pages_are_the_pages_the_orm_reads(self):
        # The public's lists read their pages from statements compiled once (pagination.CompiledPages): the plain
        # list under one name, a filtered one (here a filter that excludes nothing) under its filters. Without them
        # the ORM reads each page. All three must give the same rows and the same links, both ways.
        everything = {"date_before": "9999"}
        cursor = re.compile(r"cursor=([^&]+)")
        for ordering in ("date", "-date", "speaker", "-speaker"):
            plain, plain_last = self.walk({"page_size": 4, "ordering": ordering})
            filtered, filtered_last = self.walk({"page_size": 4, "ordering": ordering, **everything})
            with mock.patch.object(ExcerptViewSet, "compiled_pages", return_value=None):
                by_orm, orm_last = self.walk({"page_size": 4, "ordering": ordering, **everything})
                back_by_orm = self.client.get(orm_last["previous"]).json()
            assert plain == filtered == by_orm and len(plain) == 8, ordering
            previous = {cursor.search(last["previous"])[1] for last in (plain_last, filtered_last, orm_last)}
            assert len(previous) == 1, ordering
            back = self.client.get(plain_last["previous"]).json()
            back_filtered = self.client.get(filtered_last["previous"]).json()
            assert back["results"] == back_filtered["results"] == back_by_orm["results"], ordering
            assert len(back["results"]) == 4, ordering

    def test_a_compiled_page_refuses_a_forged_cursor_as_the_orm_does(self):
        body = self.client.get(reverse(LIST), {"page_size": 2}).json()
        cursor = body["next"].split("cursor=")[1].split("&")[0]
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        forged = base64.urlsafe_b64encode(json.dumps({**data, "v": ["1958-02-31", 1]}).encode()).decode()
        for extra in ({}, {"date_before": "9999"}):
            for compiled in (True, False):
                with (
                    mock.patch.object(ExcerptViewSet, "compiled_pages", return_value=None)
                    if not compiled
                    else nullcontext()
                ):
                    response = self.client.get(reverse(LIST), {"cursor": forged, "page_size": 2, **extra})
                assert response.status_code == 400, (extra, compiled)
                assert response.json()["errors"][0]["name"] == "cursor"

    def test_a_page_after_a_cursor_is_one_range_of_its_sort_keys(self):
        # A row value comparison, which both engines answer from one range of an index; the equivalent OR of
        # comparisons made SQLite read from the start of the range.
        columns = ", ".join(f'"excerpts_excerpt"."{name}"' for name in ("speaker_name", "date_start", "id"))
        for extra in ({}, {"date_before": "9999"}):  # compiled once, and by the ORM
            body = self.client.get(reverse(LIST), {"page_size": 4, "ordering": "-speaker", **extra}).json()
            with CaptureQueriesContext(connection) as queries:
                self.client.get(body["next"])
            assert [q for q in queries if f"({columns}) < (" in q["sql"]], [q["sql"] for q in queries]

    def test_the_date_ordering_breaks_ties_by_id(self):
        results = self.client.get(reverse(LIST), {"page_size": 100}).json()["results"]
        keys = [(item["date_start"], item["id"]) for item in results]
        assert keys == sorted(keys)

    def test_next_links_keep_the_filters(self):
        body = self.client.get(reverse(LIST), {"page_size": 2, "date_after": "1958-07-01"}).json()
        assert "date_after=1958-07-01" in body["next"]
        second = self.client.get(body["next"]).json()
        assert second["count"] == body["count"]

    def test_a_tampered_cursor_is_a_400_naming_the_cursor(self):
        body = self.client.get(reverse(LIST), {"page_size": 2}).json()
        cursor = body["next"].split("cursor=")[1].split("&")[0]
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        for forged in (
            {**data, "v": ["not a date", 1]},
            {**data, "o": ["-date_start", "-id"]},
            {**data, "v": [data["v"][0], 2**70]},
            {**data, "d": "x"},
        ):
            raw = base64.urlsafe_b64encode(json.dumps(forged).encode()).decode()
            response = self.client.get(reverse(LIST), {"cursor": raw, "page_size": 2})
            assert response.status_code == 400, forged
            assert response.json()["errors"][0]["name"] == "cursor"

    def test_a_cursor_from_another_ordering_is_refused(self):
        body = self.client.get(reverse(LIST), {"page_size": 2}).json()
        cursor = body["next"].split("cursor=")[1].split("&")[0]
        response = self.client.get(reverse(LIST), {"cursor": cursor, "ordering": "speaker"})
        assert response.status_code == 400


class QueryCountTests(APITestCase):
    def list_queries(self, rows):
        speaker = factories.speaker()
        topics = [factories.topic(), factories.topic()]
        event = factories.event()
        source, essay = factories.source(), factories.source()
        for i in range(rows):
            factories.excerpt(f"w{i}", speaker=speaker, source=source, topics=topics, event=event, quoted_in=essay)
        with CaptureQueriesContext(connection) as queries:
            response = self.client.get(
                reverse(LIST), {"page_size": 100, "speaker": speaker.slug, "topic": topics[0].slug}
            )
        assert len(response.json()["results"]) == rows
        return len(queries)

    def test_a_list_costs_the_same_number_of_queries_for_1_and_100_rows(self):
        one = self.list_queries(1)
        Excerpt.objects.all().delete()
        hundred = self.list_queries(100)
        assert one == hundred
        # validate speaker slug + validate topic slug + data version + count + page + its rows + their topics
        assert hundred == 7

    def test_a_list_that_matches_nothing_reads_no_page_but_still_checks_a_cursor(self):
        factories.excerpt("direct words")
        for client in (self.client, factories.api_client(factories.curator())):
            for ordering in ("date", "-speaker"):
                with CaptureQueriesContext(connection) as queries:
                    response = client.get(reverse(LIST), {"attribution": "paraphrase", "ordering": ordering})
                assert response.status_code == 200
                body = response.json()
                assert (body["count"], body["results"], body["next"], body["previous"]) == (0, [], None, None)
                # The count, but no page query: no walk down the order's index for a first match.
                statements = [query["sql"] for query in queries]
                assert sum("COUNT(" in sql for sql in statements) == 1, statements
                assert not any("ORDER BY" in sql for sql in statements), statements
        forged = self.client.get(reverse(LIST), {"attribution": "paraphrase", "cursor": "not-a-cursor"})
        assert forged.status_code == 400

    def test_speaker_list_costs_one_query_per_page_plus_the_data_version_and_the_count(self):
        speakers = [factories.excerpt().speaker for _ in range(30)]
        with self.assertNumQueries(3):
            response = self.client.get(reverse("speaker-list"), {"page_size": 100})
        body = response.json()
        assert body["count"] == 30
        assert sorted(item["slug"] for item in body["results"]) == sorted(speaker.slug for speaker in speakers)
