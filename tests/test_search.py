"""Full-text search: the query language, both engines' indexes and triggers, ranking, highlights, bad queries."""

import base64
import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection, router
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from excerpts.models import Excerpt, SearchEntry
from excerpts.research import limits, search
from excerpts.research.search_engines import PostgreSQLSearch, SQLiteSearch
from tests import factories

pytestmark = pytest.mark.django_db

# How the SQL of a search that tests each excerpt for a match begins (SQLite, a common term sorted by date).
PER_EXCERPT = 'EXISTS(SELECT 1 AS "a" FROM "excerpts_excerpt_search"'
LIST = "excerpt-list"


def ids_for(client, **params):
    response = client.get(reverse(LIST), params)
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["results"]]


def walked_back(client, last):
    """The ids of every page from the first to ``last``, read back from ``last`` by its previous links."""
    ids, url = [item["id"] for item in last["results"]], last["previous"]
    while url:
        page = client.get(url).json()
        ids = [item["id"] for item in page["results"]] + ids
        url = page["previous"]
    return ids


@pytest.fixture
def search_corpus():
    mao = factories.speaker("mao-zedong", "Mao Zedong", aliases=["Mao Tse-tung"])
    khrushchev = factories.speaker("nikita-khrushchev", "Nikita Khrushchev")
    book = factories.source("selected-works", "Selected Works of Mao Tse-tung")
    daily = factories.source("peoples-daily-1958", "People's Daily", kind="newspaper")
    report = factories.source("secret-speech", "On the Cult of Personality and Its Consequences")
    return {
        "commune": factories.excerpt(
            "The people's commune is the best form of organization.", speaker=mao, source=daily
        ),
        "tiger": factories.excerpt("All reactionaries are paper tigers.", speaker=mao, source=book, date="1946-08"),
        "reversed": factories.excerpt("A tiger made of paper frightens nobody.", speaker=khrushchev, source=report),
        "cult": factories.excerpt(
            "The cult of the individual brought grave harm.",
            speaker=khrushchev,
            source=report,
            context="Read to a closed session; the communes were not discussed.",
        ),
        "draft": factories.excerpt("A draft about communes.", speaker=mao, source=daily, status=Excerpt.Status.DRAFT),
    }


class TestParseQuery:
    def test_words_are_lowercased_terms_and_quoted_words_are_one_phrase_of_whole_words(self):
        query = search.parse_query('Paper "Grave HARM" tigers МИРНОЕ')
        assert query.terms == (
            search.Term(("paper",)),
            search.Term(("grave", "harm"), whole=True),
            search.Term(("tigers",)),
            search.Term(("мирное",)),
        )
        assert [term.prefix for term in query.terms] == [True, False, True, True]

    def test_a_word_of_one_character_is_no_prefix(self):
        assert [term.prefix for term in search.parse_query("a tse-t i").terms] == [False, False, False]

    def test_each_cjk_character_is_a_word_and_a_run_of_them_a_phrase(self):
        assert search.parse_query("东风压倒 Mao东风").terms == (
            search.Term(("东", "风", "压", "倒")),
            search.Term(("mao", "东", "风")),
        )

    def test_a_minus_excludes_a_word_or_a_phrase(self):
        query = search.parse_query('tiger -paper -"closed session"')
        assert [term.words for term in query.included] == [("tiger",)]
        assert [term.words for term in query.excluded] == [("paper",), ("closed", "session")]

    def test_punctuation_inside_a_word_makes_a_phrase(self):
        assert search.parse_query("Tse-tung").terms == (search.Term(("tse", "tung")),)

    @pytest.mark.parametrize(
        ("text", "message"),
        [
            ('"paper tiger', "unclosed quotation mark"),
            ("-paper", "no word to search for"),
            ("*** !!!", "no word to search for"),
            (" ".join(f"w{i}" for i in range(limits.MAX_TERMS + 1)), f"at most {limits.MAX_TERMS}"),
        ],
    )
    def test_a_query_with_nothing_searchable_is_refused_with_a_reason(self, text, message):
        with pytest.raises(search.QueryError, match=message):
            search.parse_query(text)

    def test_fts5_syntax_typed_by_a_user_reaches_match_only_as_quoted_words(self):
        query = search.parse_query('NEAR(paper tiger) OR col:x* ^start -"a NOT b"')
        assert SQLiteSearch(query).expression() == (
            '("near paper"* AND "tiger"* AND "or"* AND "col x" AND "start"*) NOT "a not b"'
        )

    def test_both_engines_compile_phrases_prefixes_and_exclusions_alike(self):
        query = search.parse_query('"paper tigers" commune tse-tung -"war" -a')
        assert SQLiteSearch(query).expression() == (
            '(("paper tigers" AND "commune"* AND "tse tung"*) NOT "war") NOT "a"'
        )
        assert PostgreSQLSearch.tsquery_text(query) == (
            # The exclusions first: PostgreSQL tests a row left to right, and they are the cheaper test.
            "!('war') & !('a') & ('paper' <-> 'tigers') & ('commune':*) & ('tse' <-> 'tung':*)"
        )


class TestSearchOverHttp:
    def test_a_word_finds_longer_words_it_begins_and_nothing_is_stemmed(self, client, search_corpus):
        assert ids_for(client, q="communes") == [search_corpus["cult"].pk]
        assert ids_for(client, q="commune") == [search_corpus["commune"].pk, search_corpus["cult"].pk]
        assert ids_for(client, q='"commune"') == [search_corpus["commune"].pk]
        assert ids_for(client, q="tig") == [search_corpus["reversed"].pk, search_corpus["tiger"].pk]

    def test_a_quoted_phrase_matches_only_words_in_that_order(self, client, search_corpus):
        assert ids_for(client, q='"paper tigers"') == [search_corpus["tiger"].pk]
        assert sorted(ids_for(client, q="paper tiger")) == sorted(
            [search_corpus["tiger"].pk, search_corpus["reversed"].pk]
        )

    def test_a_minus_word_excludes_excerpts_containing_it(self, client, search_corpus):
        assert ids_for(client, q="tiger -reactionaries") == [search_corpus["reversed"].pk]

    def test_every_word_must_match(self, client, search_corpus):
        assert ids_for(client, q="tiger frightens") == [search_corpus["reversed"].pk]
        assert ids_for(client, q="tiger commune") == []

    def test_speaker_aliases_and_source_titles_are_searchable(self, client, search_corpus):
        assert sorted(ids_for(client, q="Tse-tung")) == sorted(
            [search_corpus["commune"].pk, search_corpus["tiger"].pk]
        )
        assert sorted(ids_for(client, q="consequences")) == sorted(
            [search_corpus["reversed"].pk, search_corpus["cult"].pk]
        )

    def test_drafts_are_not_found(self, client, search_corpus):
        assert search_corpus["draft"].pk not in ids_for(client, q="draft")

    def test_a_match_in_the_words_ranks_above_a_match_in_the_context(self, client, search_corpus):
        assert ids_for(client, q="commune") == [search_corpus["commune"].pk, search_corpus["cult"].pk]
        assert ids_for(client, q="commune", ordering="-date") == [
            search_corpus["cult"].pk,
            search_corpus["commune"].pk,
        ]

    @pytest.mark.parametrize("common", [True, False])
    def test_a_search_sorted_by_date_or_speaker_finds_the_same_whether_the_term_is_common_or_rare(
        self, client, search_corpus, monkeypatch, django_assert_max_num_queries, common
    ):
        # Common: found in at least 1 in a billion excerpts. Rare: found in fewer than every excerpt.
        monkeypatch.setattr(limits, "COMMON_TERM", 10**9 if common else 1)
        with django_assert_max_num_queries(10) as captured:
            body = client.get(reverse(LIST), {"q": '"paper"', "ordering": "-date"}).json()
        assert [item["id"] for item in body["results"]] == [search_corpus["reversed"].pk, search_corpus["tiger"].pk]
        assert body["count"] == 2
        tested_per_excerpt = any(PER_EXCERPT in q["sql"] for q in captured)
        assert tested_per_excerpt == (common and connection.vendor == "sqlite")
        # The total is counted through the FTS5 join either way: testing each excerpt costs a probe per row.
        count = next(q["sql"] for q in captured if q["sql"].startswith("SELECT COUNT(*)"))
        assert PER_EXCERPT not in count
        # A prefix longer than FTS5's prefix indexes is merged word by word at each lookup: the list of matches, built
        # once, is tested instead of each excerpt.
        with django_assert_max_num_queries(10) as captured:
            assert ids_for(client, q="tiger", ordering="-date") == [
                search_corpus["reversed"].pk,
                search_corpus["tiger"].pk,
            ]
        assert not any(PER_EXCERPT in q["sql"] for q in captured)
        listed = any('+"excerpts_excerpt"."id" IN (SELECT' in q["sql"] for q in captured)
        assert listed == (common and connection.vendor == "sqlite")
        assert ids_for(client, q="tiger", ordering="speaker") == [
            search_corpus["tiger"].pk,
            search_corpus["reversed"].pk,
        ]
        assert ids_for(client, q="tiger -frightens", ordering="date") == [search_corpus["tiger"].pk]
        assert search_corpus["draft"].pk not in ids_for(client, q="draft communes", ordering="date")
        # No relevance is computed, and the passages are still marked.
        body = client.get(reverse(LIST), {"q": "tiger", "ordering": "date"}).json()
        assert "<mark>" in body["results"][0]["highlight"]
        # Facets and random draws ignore the ordering: they read the matches from the index, never per excerpt.
        with django_assert_max_num_queries(8) as captured:
            facets = client.get(reverse("excerpt-facets"), {"q": "tiger", "ordering": "-date"}).json()
            drawn = client.get(reverse("excerpt-random"), {"q": "tiger", "ordering": "-date", "count": 5}).json()
        assert not any(PER_EXCERPT in q["sql"] for q in captured)
        assert facets == client.get(reverse("excerpt-facets"), {"q": "tiger"}).json()
        assert sorted(item["id"] for item in drawn["results"]) == sorted(
            [search_corpus["tiger"].pk, search_corpus["reversed"].pk]
        )

    @pytest.mark.parametrize("rare", [True, False])
    def test_a_phrase_finds_the_same_whether_it_is_looked_up_first_or_tested_per_row(
        self, client, search_corpus, monkeypatch, django_assert_max_num_queries, rare
    ):
        if rare:  # fewer than a thousand matches in the sample make a phrase rare
            monkeypatch.setattr(limits, "RARE_PHRASE", 10**9)
            monkeypatch.setattr(limits, "PHRASE_SAMPLE", 10**12)
        else:  # an empty sample: no phrase is rare
            monkeypatch.setattr(limits, "PHRASE_SAMPLE", 0)
        with django_assert_max_num_queries(30) as captured:  # four requests
            assert ids_for(client, q='"paper tigers"') == [search_corpus["tiger"].pk]
            assert ids_for(client, q='"made of paper" -nobody') == []
            assert ids_for(client, q='"made of paper"', ordering="speaker") == [search_corpus["reversed"].pk]
            assert ids_for(client, q="tiger paper", ordering="-date") == [
                search_corpus["reversed"].pk,
                search_corpus["tiger"].pk,
            ]
        looked_up_first = any("ANY(ARRAY(SELECT" in q["sql"] for q in captured)
        assert looked_up_first == (rare and connection.vendor == "postgresql")

    def test_among_matches_equally_relevant_the_newest_comes_first(self, client, search_corpus):
        speaker, source = search_corpus["tiger"].speaker, search_corpus["tiger"].source
        thrice = factories.excerpt("Famine, famine and famine again.", speaker=speaker, source=source)
        once = factories.excerpt(
            "One word about famine here, among many other words of the speech.", speaker=speaker, source=source
        )
        noted = factories.excerpt("The harvest failed.", speaker=speaker, source=source, context="A famine followed.")
        assert ids_for(client, q="famine") == [once.pk, thrice.pk, noted.pk]

    def test_each_result_carries_its_passage_with_the_hits_marked(self, client, search_corpus):
        response = client.get(reverse(LIST), {"q": '"paper tigers"'})
        highlight = response.json()["results"][0]["highlight"]
        assert highlight == "All reactionaries are <mark>paper tigers</mark>."

    def test_the_highlight_escapes_html_in_the_text(self, client, search_corpus):
        speaker, source = search_corpus["tiger"].speaker, search_corpus["tiger"].source
        factories.excerpt("Beware <script>alert(1)</script> of imperialism.", speaker=speaker, source=source)
        response = client.get(reverse(LIST), {"q": "imperialism"})
        highlight = response.json()["results"][0]["highlight"]
        assert "<script>" not in highlight
        assert "<mark>imperialism</mark>" in highlight

    def test_a_passage_escapes_the_text_and_marks_only_the_query_hits(self):
        query = search.parse_query("tiger b")
        text = "a <b>&amp; \ue000tiger\ue001 tigers"
        assert search.passage((text, "", ""), query) == (
            "a &lt;<mark>b</mark>&gt;&amp;amp; \ue000<mark>tiger</mark>\ue001 <mark>tigers</mark>"
        )

    def test_a_long_passage_is_cut_around_the_most_hits_of_the_field_with_most(self):
        text = " ".join(f"w{i}" for i in range(100)) + "."
        context = "One tiger here."
        passage = search.passage((text, "", context), search.parse_query("w50 w52"))
        assert (
            passage
            == "…w46 w47 w48 w49 <mark>w50</mark> w51 <mark>w52</mark> "
            + " ".join(f"w{i}" for i in range(53, 78))
            + "…"
        )
        assert search.passage((text, "", context), search.parse_query("tiger")) == "One <mark>tiger</mark> here."
        # Found only through the speaker or the source: the beginning of the text.
        assert search.passage((text, "", context), search.parse_query("mao")).startswith("w0 w1 w2")

    def test_without_q_the_highlight_is_null(self, client, search_corpus):
        response = client.get(reverse(LIST))
        assert {item["highlight"] for item in response.json()["results"]} == {None}

    def test_a_query_matching_nothing_is_an_empty_list(self, client, search_corpus):
        response = client.get(reverse(LIST), {"q": "xylophone"})
        assert response.status_code == 200
        assert response.json() == {"count": 0, "count_exact": True, "next": None, "previous": None, "results": []}

    def test_following_next_in_relevance_order_visits_every_match_once(self, client, search_corpus):
        speaker, source = search_corpus["tiger"].speaker, search_corpus["tiger"].source
        made = [
            factories.excerpt(f"The harvest {'grain ' * (i % 3)}report number {i}.", speaker=speaker, source=source)
            for i in range(7)
        ]
        url, params, seen = reverse(LIST), {"q": "harvest", "page_size": 2}, []
        while url:
            page = client.get(url, params).json()
            seen.extend(item["id"] for item in page["results"])
            url, params = page["next"], None
        assert sorted(seen) == sorted(excerpt.pk for excerpt in made)
        assert len(seen) == len(set(seen))

    def test_with_more_matches_than_the_ranking_window_pages_visit_ranked_then_newest_matches_once(
        self, client, search_corpus, monkeypatch
    ):
        monkeypatch.setattr(limits, "RANK_WINDOW", 3)
        speaker, source = search_corpus["tiger"].speaker, search_corpus["tiger"].source
        made = [
            factories.excerpt(f"The harvest {'grain ' * (i % 4)}report {i}.", speaker=speaker, source=source)
            for i in range(9)
        ]
        newest = [excerpt.pk for excerpt in reversed(made)]
        url, params, pages = reverse(LIST), {"q": "harvest grain", "page_size": 2}, []
        while url:
            page = client.get(url, params).json()
            pages.append(page)
            url, params = page["next"], None
        seen = [item["id"] for page in pages for item in page["results"]]
        matches = [excerpt.pk for i, excerpt in enumerate(made) if i % 4]  # "grain" at least once
        ranked = [pk for pk in newest if pk in matches][:3]
        # The three newest matches first, by relevance (more "grain" ranks higher); then the rest, newest first.
        assert sorted(seen[:3]) == sorted(ranked)
        assert seen[3:] == [pk for pk in newest if pk in matches and pk not in ranked]
        # And back: previous from the last page returns the pages in reverse.
        assert walked_back(client, pages[-1]) == seen

    def test_a_search_costs_the_same_queries_for_one_result_and_for_many(
        self, client, search_corpus, django_assert_num_queries
    ):
        speaker, source = search_corpus["tiger"].speaker, search_corpus["tiger"].source
        for i in range(15):
            factories.excerpt(f"Steel output {i}.", speaker=speaker, source=source)
        # Data version, count, ranking window, page, its rows, their topics, highlights. (PostgreSQL reads the bounds
        # of the ids, to look for the window among the newest, and counts the matches as it finds the window.)
        with django_assert_num_queries(7):
            assert len(client.get(reverse(LIST), {"q": "steel"}).json()["results"]) == 15
        with django_assert_num_queries(7):
            assert len(client.get(reverse(LIST), {"q": "frightens"}).json()["results"]) == 1

    def test_a_later_page_looks_up_the_ranking_window_once_for_its_relevance_cursor_and_narrowing(
        self, client, search_corpus, django_assert_num_queries
    ):
        speaker, source = search_corpus["tiger"].speaker, search_corpus["tiger"].source
        for i in range(5):
            factories.excerpt(f"Steel output {i}.", speaker=speaker, source=source)
        first = client.get(reverse(LIST), {"q": "steel", "page_size": 2}).json()
        # Data version (the count is cached), where the ranking window starts, the window ranked, the page's excerpts
        # looked up, their rows, their topics, highlights. (SQLite finds the window's start and ranks it in two
        # statements, PostgreSQL reads the bounds of the ids and then finds and ranks the window in one.)
        with django_assert_num_queries(7) as captured:
            second = client.get(first["next"]).json()
        window = "SELECT MIN(rowid)" if connection.vendor == "sqlite" else "WITH found AS MATERIALIZED"
        assert sum(q["sql"].startswith(window) for q in captured) == 1
        assert len(second["results"]) == 2
        assert {item["id"] for item in first["results"]}.isdisjoint(item["id"] for item in second["results"])


class TestRankedWindowAmongDrafts:
    """
    The public's pages of a relevance order are read from the ranking window (on SQLite, ranked in the index
    alone, then the page's excerpts looked up); a curator's are read by the queryset, drafts included. Both
    must give the same order, the public's without the drafts, whatever the drafts around a page.
    """

    @staticmethod
    def walk(client, params):
        url, pages = reverse(LIST), []
        while url:
            response = client.get(url, params)
            assert response.status_code == 200, response.content
            pages.append(response.json())
            url, params = pages[-1]["next"], None
        return pages

    @pytest.mark.parametrize("drafts_every", [2, 5])
    def test_public_pages_are_the_curators_order_without_the_drafts_forward_and_back(
        self, client_as, search_corpus, curator, drafts_every
    ):
        speaker, source = search_corpus["tiger"].speaker, search_corpus["tiger"].source
        made = [
            factories.excerpt(
                f"Steel {'steel ' * (i % 7)}output {i}.",
                speaker=speaker,
                source=source,
                status=Excerpt.Status.DRAFT if i % drafts_every == 0 else Excerpt.Status.PUBLISHED,
            )
            for i in range(40)
        ]
        drafts = {excerpt.pk for excerpt in made if excerpt.status == Excerpt.Status.DRAFT}
        params = {"q": "steel", "page_size": 3}
        everything = [item["id"] for page in self.walk(client_as(curator), params) for item in page["results"]]
        assert set(everything) == {excerpt.pk for excerpt in made}
        public = self.walk(client_as(None), params)
        seen = [item["id"] for page in public for item in page["results"]]
        assert seen == [pk for pk in everything if pk not in drafts]
        assert public[0]["count"] == len(seen) == 40 - len(drafts)
        assert all(len(page["results"]) == 3 for page in public[:-1])
        # Back from the last page, by previous links: the same pages in reverse.
        assert walked_back(client_as(None), public[-1]) == seen

    def test_a_page_after_more_drafts_than_a_page_is_still_full(
        self, client, search_corpus, django_assert_num_queries
    ):
        speaker, source = search_corpus["tiger"].speaker, search_corpus["tiger"].source
        rest = [factories.excerpt(f"Steel output {i}.", speaker=speaker, source=source) for i in range(6)]
        # Fifteen drafts that rank between the first page and the rest (newest first, all as relevant).
        for i in range(15):
            factories.excerpt(
                f"Steel steel steel output {i}.", speaker=speaker, source=source, status=Excerpt.Status.DRAFT
            )
        newest = [factories.excerpt(f"Steel steel output {i}.", speaker=speaker, source=source) for i in range(2)]
        # Data version, count, where the window starts, the window ranked, the page's excerpts looked up in chunks
        # that double (3, 6, 12 rows: three lookups for the 18 ranked ahead of the page's last row, not six), their
        # rows, their topics, highlights. (PostgreSQL reads the bounds of the ids, then finds, ranks and counts the
        # window's matches in one statement.)
        with django_assert_num_queries(10 if connection.vendor == "sqlite" else 9):
            first = client.get(reverse(LIST), {"q": "steel", "page_size": 2}).json()
        assert [item["id"] for item in first["results"]] == [newest[1].pk, newest[0].pk]
        second = client.get(first["next"]).json()
        assert [item["id"] for item in second["results"]] == [rest[-1].pk, rest[-2].pk]

    @pytest.mark.parametrize("position", [[1.5, "x"], [1.5, None], [True, 3]])
    def test_a_forged_relevance_cursor_is_a_400_problem(self, client, search_corpus, position):
        speaker, source = search_corpus["tiger"].speaker, search_corpus["tiger"].source
        for i in range(5):
            factories.excerpt(f"Steel output {i}.", speaker=speaker, source=source)
        data = {"o": list(search.RELEVANCE_ORDER), "v": position, "d": "n"}
        raw = base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")
        response = client.get(reverse(LIST), {"q": "steel", "page_size": 2, "cursor": raw})
        assert response.status_code == 400
        assert response["Content-Type"] == "application/problem+json"
        assert response.json()["errors"][0]["name"] == "cursor"


class TestRankingWindow:
    """
    Where the ranking window starts (the least id of the newest RANK_WINDOW matches) and how it ranks, found on
    PostgreSQL among the newest excerpts first, in stretches that widen: the same window, whatever the stretch that
    finds it, as a plain reading of every match gives.
    """

    # Which of 60 excerpts (oldest first) say "harvest": the newest, spread out, only old ones, every tenth, none.
    LAYOUTS = {
        "dense among the newest": lambda i: i >= 50,
        "one in five": lambda i: i % 5 == 0,
        "only old ones": lambda i: i < 8,
        "one in ten, last one old": lambda i: i % 10 == 3,
        "two in all": lambda i: i in (4, 30),
        "none": lambda i: False,
    }

    @pytest.mark.parametrize("layout", list(LAYOUTS))
    @pytest.mark.parametrize("stretch", [1, 2, 25])
    # With COUNT_LIMIT 2 (fewer than the drafts) no count is wanted, so PostgreSQL widens a stretch rather than read
    # every match at once.
    @pytest.mark.parametrize("count_limit", [10_000, 2])
    # PostgreSQL probes the newest PROBE excerpts: with 10 of them a term dense there is found by walking down the
    # first stretch (when the stretch is long enough to hold the window at that density), with 2,000 never here.
    @pytest.mark.parametrize("probe", [2000, 10])
    def test_the_window_is_the_newest_matches_ranked(
        self, search_corpus, monkeypatch, layout, stretch, count_limit, probe
    ):
        monkeypatch.setattr("excerpts.research.search_engines.WINDOW_STRETCH", stretch)
        monkeypatch.setattr("excerpts.research.search_engines.PROBE", probe)
        speaker, source = search_corpus["tiger"].speaker, search_corpus["tiger"].source
        says = self.LAYOUTS[layout]
        made = [
            factories.excerpt(
                # Every third match has the word in its context only: it ranks below the others.
                f"Report {i}: {'harvest ' if says(i) and i % 3 else ''}figures.",
                context="The harvest." if says(i) and not i % 3 else "",
                speaker=speaker,
                source=source,
                status=Excerpt.Status.DRAFT if i % 7 == 0 else Excerpt.Status.PUBLISHED,
            )
            for i in range(60)
        ]
        # Drafts count too: the window is the same for the public and for curators.
        newest = [(i, excerpt.pk) for i, excerpt in reversed(list(enumerate(made))) if says(i)][:3]
        with override_settings(EXCERPTS_LIMITS={"RANK_WINDOW": 3, "COUNT_LIMIT": count_limit}):
            plan = search.plan(search.parse_query("harvest"), search.RELEVANCE_ORDER)
            assert plan.window_start == min((pk for _, pk in newest), default=None)
            if newest:
                ranked = [(search.IN_THE_WORDS if i % 3 else search.ELSEWHERE, pk) for i, pk in newest]
                assert plan.engine.ranked_window(plan.window_start) == sorted(ranked, reverse=True)
            published = sum(says(i) and i % 7 != 0 for i in range(60))
            assert plan.counted(Excerpt.objects.published()).count() == published

    @pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite ranks in its FTS5 index")
    @pytest.mark.parametrize(
        ("words", "walks"),
        [
            ("harvest", True),  # in every newest excerpt probed
            ("drought", False),  # in 2 of the 60, both old
            ('"harvest figures"', False),  # a phrase: its matches are looked up as before
            ("harvest -drought", False),  # an exclusion, likewise
        ],
    )
    def test_a_term_dense_among_the_newest_is_found_by_walking_down_the_primary_key(
        self, search_corpus, monkeypatch, words, walks
    ):
        # A first stretch of the newest 15 ids, probed in its newest 10.
        monkeypatch.setattr("excerpts.research.search_engines.WINDOW_STRETCH", 5)
        monkeypatch.setattr("excerpts.research.search_engines.PROBE", 10)
        speaker, source = search_corpus["tiger"].speaker, search_corpus["tiger"].source
        made = [
            factories.excerpt(
                f"Report {i}: {'drought' if i in (4, 30) else 'harvest'} figures.", speaker=speaker, source=source
            )
            for i in range(60)
        ]
        with override_settings(EXCERPTS_LIMITS={"RANK_WINDOW": 3}), CaptureQueriesContext(connection) as queries:
            plan = search.plan(search.parse_query(words), search.RELEVANCE_ORDER)
            start = plan.window_start
        # The walk tests each row with a condition no index answers; the other statements leave it to the GIN index.
        assert any(") IS TRUE" in query["sql"] for query in queries.captured_queries) == walks
        expected = {
            "harvest": made[-3].pk,
            "drought": made[4].pk,
            '"harvest figures"': made[-3].pk,
            "harvest -drought": made[-3].pk,
        }
        assert start == expected[words]


class TestCountedInTheIndex:
    """
    The public's search of the whole corpus is counted in the index on SQLite (its matches less the drafts among
    them, search.IndexCount); the count must be the published matches' whatever the drafts, exact or bounded.
    """

    @staticmethod
    def corpus(search_corpus, published, drafts, unmatched_drafts=0):
        speaker, source = search_corpus["tiger"].speaker, search_corpus["tiger"].source
        for i in range(published):
            factories.excerpt(f"Steel output {i}.", speaker=speaker, source=source)
        for i in range(drafts):
            factories.excerpt(f"Steelworks {i}.", speaker=speaker, source=source, status=Excerpt.Status.DRAFT)
        for i in range(unmatched_drafts):
            factories.excerpt(f"Grain {i}.", speaker=speaker, source=source, status=Excerpt.Status.DRAFT)

    @pytest.mark.parametrize(
        ("published", "drafts", "unmatched", "limit", "expected"),
        [
            (7, 0, 0, 100, (7, True)),  # no drafts at all
            (7, 0, 4, 100, (7, True)),  # drafts, none of them a match
            (7, 5, 3, 100, (7, True)),  # drafts among the matches are left out
            (7, 5, 0, 7, (7, True)),  # exactly the limit
            (8, 5, 0, 7, (7, False)),  # one more than the limit: bounded, though the index holds 13 matches
            (3, 6, 0, 4, (3, True)),  # more matches than the limit in the index, most of them drafts
        ],
    )
    def test_the_public_count_is_the_published_matches(
        self, client, search_corpus, published, drafts, unmatched, limit, expected
    ):
        self.corpus(search_corpus, published, drafts, unmatched)
        with override_settings(EXCERPTS_LIMITS={"COUNT_LIMIT": limit}):
            body = client.get(reverse(LIST), {"q": "steel"}).json()
        assert (body["count"], body["count_exact"]) == expected
        assert len(body["results"]) == min(published, limits.PAGE_SIZE)

    def test_a_curator_counts_the_drafts_too(self, client_as, search_corpus, curator):
        self.corpus(search_corpus, 4, 3)
        assert client_as(curator).get(reverse(LIST), {"q": "steel"}).json()["count"] == 7

    def test_the_export_header_counts_the_published_matches(self, client, search_corpus):
        self.corpus(search_corpus, 4, 3, 2)
        response = client.get(reverse("excerpt-export-csv"), {"q": "steel"})
        assert response["Excerpt-Count"] == "4"
        assert len(b"".join(response.streaming_content).decode().splitlines()) == 5  # the header and 4 records

    @pytest.mark.skipif(connection.vendor != "sqlite", reason="PostgreSQL counts the matches in the table")
    def test_sqlite_counts_in_the_index_and_falls_back_past_count_limit_drafts(self, search_corpus):
        self.corpus(search_corpus, 5, 3, 2)
        engine = SQLiteSearch(search.parse_query("steel"))
        assert engine.count_published(None) == 5
        assert engine.count_published(4) == 4
        counted = search.plan(search.parse_query("steel")).counted(Excerpt.objects.published())
        assert isinstance(counted, search.IndexCount)
        assert counted.count() == 5
        # Filtered, or a curator's whole corpus: counted among the excerpts, as before.
        assert not isinstance(
            search.plan(search.parse_query("steel")).counted(Excerpt.objects.published().filter(kind="speech")),
            search.IndexCount,
        )
        assert not isinstance(
            search.plan(search.parse_query("steel")).counted(Excerpt.objects.all()), search.IndexCount
        )
        # Five drafts in all (the fixture's and these): more than COUNT_LIMIT, so the index cannot tell.
        with override_settings(EXCERPTS_LIMITS={"COUNT_LIMIT": 4}):
            assert engine.count_published(None) is None
            assert counted.count() == 5
            assert counted.count(at_most=3) == 3

    @pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite counts in its FTS5 index")
    def test_postgresql_counts_as_it_finds_the_window_when_it_read_enough(self, search_corpus):
        # 20 published matches and 3 draft ones; 6 drafts in all (the fixture's, these, 2 that do not match).
        self.corpus(search_corpus, 20, 3, 2)
        query = search.parse_query("steel")
        with override_settings(EXCERPTS_LIMITS={"COUNT_LIMIT": 7}):
            # Up to 7 + 1 + 6 matches are read, so at least 8 are published: enough for a bounded count, not more.
            engine = search.plan(query, search.RELEVANCE_ORDER).engine
            assert (engine.count_published(8), engine.count_published(None)) == (8, None)
            counted = search.IndexCount(engine, Excerpt.objects.published())
            assert (counted.count(at_most=8), counted.count()) == (8, 20)  # the exact count falls back to the table
        with override_settings(EXCERPTS_LIMITS={"COUNT_LIMIT": 50}):
            engine = search.plan(query, search.RELEVANCE_ORDER).engine  # every match read: exact
            assert (engine.count_published(51), engine.count_published(None)) == (20, 20)
        with override_settings(EXCERPTS_LIMITS={"COUNT_LIMIT": 5}):
            engine = search.plan(query, search.RELEVANCE_ORDER).engine  # more drafts than that: the window alone
            assert (engine.count_published(6), engine.count_published(None)) == (6, 20)  # which read every match
        # Sorted by date, no window is found, and nothing counted on the way.
        assert search.plan(query, ("date_start", "id")).engine.count_published(10_001) is None


class TestBadQueries:
    @pytest.mark.parametrize(
        ("params", "reason"),
        [
            ({"q": '"paper tiger'}, "unclosed quotation mark"),
            ({"q": "-paper"}, "no word to search for"),
            ({"q": "!!! ???"}, "no word to search for"),
            ({"q": "tiger " * 40}, "at most 200 are allowed"),
            ({"q": " ".join(f"w{i}" for i in range(13))}, "at most 12 are allowed"),
            ({"ordering": "relevance"}, "needs a search"),
        ],
    )
    def test_an_unusable_query_is_a_400_problem_naming_the_parameter(self, client, search_corpus, params, reason):
        response = client.get(reverse(LIST), params)
        assert response.status_code == 400
        assert response["Content-Type"] == "application/problem+json"
        [error] = response.json()["errors"]
        assert error["name"] == next(iter(params)) or error["name"] == "ordering"
        assert reason in error["reason"]

    @pytest.mark.parametrize("q", ['"', "NEAR(", "a AND", "x OR", "*", '"-"', "col:", "()", "a & | ! b", "\x00x"])
    def test_engine_syntax_never_causes_a_server_error(self, client, search_corpus, q):
        response = client.get(reverse(LIST), {"q": q})
        assert response.status_code in (200, 400)


class TestIndexStaysCurrent:
    def test_an_excerpt_edited_through_save_is_found_by_its_new_words(self, client, search_corpus):
        excerpt = search_corpus["tiger"]
        excerpt.text = "Imperialism is a colossus with feet of clay."
        excerpt.save()
        assert ids_for(client, q="colossus") == [excerpt.pk]
        assert ids_for(client, q="reactionaries") == []

    def test_a_deleted_excerpt_leaves_the_index(self, client, search_corpus):
        search_corpus["reversed"].delete()
        assert ids_for(client, q="frightens") == []

    def test_renaming_a_speaker_reindexes_their_excerpts(self, client, search_corpus):
        speaker = search_corpus["reversed"].speaker
        speaker.name = "N. S. Khrushchov"
        speaker.aliases = ["Chruschtschow"]
        speaker.save()
        assert sorted(ids_for(client, q="Chruschtschow")) == sorted(
            [search_corpus["reversed"].pk, search_corpus["cult"].pk]
        )
        assert ids_for(client, q="Khrushchov frightens") == [search_corpus["reversed"].pk]
        assert ids_for(client, q="nikita") == []

    def test_retitling_a_source_reindexes_its_excerpts(self, client, search_corpus):
        source = search_corpus["tiger"].source
        source.title = "Quotations from Chairman Mao"
        source.save()
        assert ids_for(client, q="quotations chairman") == [search_corpus["tiger"].pk]
        assert ids_for(client, q="selected works") == []

    def test_loaddata_indexes_what_it_loads_even_before_the_speaker_it_points_to(self, client, db, tmp_path):
        fixture = tmp_path / "research.json"
        excerpt = factories.excerpt_fixture(
            9001, 9001, 9001, "1957-02-27", text="Let a hundred flowers bloom.", language="zh"
        )
        speaker = {"model": "excerpts.speaker", "pk": 9001, "fields": {"slug": "mao", "name": "Mao Zedong"}}
        source = {
            "model": "excerpts.source",
            "pk": 9001,
            "fields": {"slug": "speech", "title": "On Contradictions", "kind": "transcript"},
        }
        fixture.write_text(json.dumps([excerpt, speaker, source]))
        call_command("loaddata", str(fixture), verbosity=0)
        assert ids_for(client, q="hundred flowers") == [9001]
        assert ids_for(client, q="contradictions zedong") == [9001]

    def test_rebuild_search_index_restores_a_lost_index(self, client, search_corpus):
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("UPDATE excerpts_excerpt SET search_vector = NULL")
            else:
                cursor.execute(f"DELETE FROM {SearchEntry._meta.db_table}")
        assert ids_for(client, q="tiger") == []
        call_command("rebuild_search_index", verbosity=0)
        assert sorted(ids_for(client, q="tiger")) == sorted([search_corpus["tiger"].pk, search_corpus["reversed"].pk])


def test_the_search_index_model_is_neither_dumped_nor_migrated(search_corpus):
    dump = StringIO()
    call_command("dumpdata", "excerpts", stdout=dump)
    labels = {row["model"] for row in json.loads(dump.getvalue())}
    assert "excerpts.excerpt" in labels
    assert "excerpts.searchentry" not in labels
    assert router.allow_migrate_model("default", SearchEntry) is False
    assert router.allow_migrate_model("default", Excerpt) is True
