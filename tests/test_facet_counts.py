"""
The facet summary table against a full scan: every write path keeps it exact, and the endpoint reads it.

Each test writes through one path, then compares the summary's counts with facet_counts() scanning the
same excerpts, for the public (published) and for curators (every status).
"""

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.urls import reverse

from excerpts import db
from excerpts.db import facet_summary
from excerpts.models import Excerpt
from excerpts.research import facets, limits, search
from tests import factories

pytestmark = pytest.mark.django_db
EVERY_STATUS = list(Excerpt.Status.values)


def counts_by_value(response):
    """{facet: {value: count}} of a facets response, without labels and order."""
    return {
        facet: {row["value"]: row["count"] for row in rows}
        for facet, rows in response.items()
        if facet not in ("count", "count_exact")
    }


def assert_summary_matches_a_scan():
    for statuses in ([Excerpt.Status.PUBLISHED], EVERY_STATUS, [Excerpt.Status.DRAFT]):
        summary = facets.summary_counts(statuses)
        scanned = facets.facet_counts(Excerpt.objects.filter(status__in=statuses))
        assert summary == scanned, statuses
    return facets.summary_counts([Excerpt.Status.PUBLISHED])


def test_the_summary_counts_the_corpus_exactly(facet_corpus):
    published = assert_summary_matches_a_scan()
    assert published["count"] == 3
    assert counts_by_value(published)["topic"] == {"communes": 1, "great-leap": 2}
    assert counts_by_value(published)["year"] == {"1949": 1, "1958": 1, "1959": 1}
    assert counts_by_value(facets.summary_counts(EVERY_STATUS))["topic"] == {"communes": 2, "great-leap": 2}


def change_fields(facet_corpus):
    grain = facet_corpus["grain"]
    grain.speaker, grain.event, grain.kind, grain.language, grain.date = (
        facet_corpus["zhou"],
        facet_corpus["lushan"],
        "speech",
        "ru",
        "1962-03",
    )
    grain.save()
    return {
        "speaker": {"mao-zedong": 1, "zhou-enlai": 2},
        "event": {"lushan": 2},
        "year": {"1949": 1, "1958": 1, "1962": 1},
    }


def publish_a_draft(facet_corpus):
    facet_corpus["draft"].status = Excerpt.Status.PUBLISHED
    facet_corpus["draft"].save()
    return {"topic": {"communes": 2, "great-leap": 2}, "year": {"1949": 1, "1958": 1, "1959": 1, "1970": 1}}


def bulk_unpublish(facet_corpus):
    Excerpt.objects.filter(pk=facet_corpus["steel"].pk).update(status=Excerpt.Status.DRAFT)
    return {"topic": {"great-leap": 1}, "event": {}}


def delete_with_topics(facet_corpus):
    facet_corpus["steel"].delete()
    return {"topic": {"great-leap": 1}, "speaker": {"mao-zedong": 1, "zhou-enlai": 1}}


def bulk_delete(facet_corpus):
    Excerpt.objects.filter(speaker=facet_corpus["mao"]).delete()
    return {"topic": {}, "speaker": {"zhou-enlai": 1}}


def change_topics(facet_corpus):
    facet_corpus["steel"].topics.remove(facet_corpus["leap"])
    facet_corpus["unity"].topics.add(facet_corpus["communes"], facet_corpus["leap"])
    return {"topic": {"communes": 2, "great-leap": 2}}


def raw_sql_excerpt_before_its_links(facet_corpus):
    # The other order from Django's: the excerpt row goes first, its topic links after (constraints are deferred).
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM excerpts_excerpt WHERE id = %s", [facet_corpus["steel"].pk])
        cursor.execute("DELETE FROM excerpts_excerpt_topics WHERE excerpt_id = %s", [facet_corpus["steel"].pk])
    return {"topic": {"great-leap": 1}}


def raw_sql_every_row(facet_corpus):
    with connection.cursor() as cursor:
        cursor.execute("UPDATE excerpts_excerpt SET language = 'fr'")
    return {"language": {"fr": 3}}


def empty_the_links(facet_corpus):
    # Django's flush empties tables with TRUNCATE on PostgreSQL, which fires no per-row trigger.
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # TRUNCATE refuses pending foreign-key checks
            cursor.execute("TRUNCATE excerpts_excerpt_topics")
        else:
            cursor.execute("DELETE FROM excerpts_excerpt_topics")
    return {"topic": {}}


def loaddata(facet_corpus, tmp_path):
    fixture = tmp_path / "more.json"
    excerpt = factories.excerpt_fixture(
        9001,
        facet_corpus["zhou"].pk,
        facet_corpus["works"].pk,
        "1960",
        kind="report",
        topics=[facet_corpus["leap"].pk],
    )
    fixture.write_text(json.dumps([excerpt]))
    call_command("loaddata", str(fixture), verbosity=0)
    return {"kind": {"speech": 2, "letter": 1, "report": 1}, "topic": {"communes": 1, "great-leap": 3}}


def import_csv(facet_corpus, tmp_path):
    call_command("export_excerpts", "--format", "csv", "--output", str(tmp_path / "all.csv"), stdout=StringIO())
    lines = (tmp_path / "all.csv").read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    # Re-import every row as it is, and one more: the updates change nothing, the new row counts once.
    row = lines[1].split(",")
    row[header.index("id")] = ""
    (tmp_path / "more.csv").write_text("\n".join([*lines, ",".join(row)]) + "\n", encoding="utf-8")
    call_command("import_excerpts", str(tmp_path / "more.csv"), stdout=StringIO())
    return {"speaker": {"mao-zedong": 3, "zhou-enlai": 1}}


@pytest.mark.parametrize(
    "write",
    [
        change_fields,
        publish_a_draft,
        bulk_unpublish,
        delete_with_topics,
        bulk_delete,
        change_topics,
        raw_sql_excerpt_before_its_links,
        raw_sql_every_row,
        empty_the_links,
        loaddata,
        import_csv,
    ],
)
def test_every_write_path_keeps_the_summary_exact(facet_corpus, tmp_path, write):
    expected = write(facet_corpus, tmp_path) if write in (loaddata, import_csv) else write(facet_corpus)
    published = counts_by_value(assert_summary_matches_a_scan())
    for facet, values in expected.items():
        assert published[facet] == values, facet


def test_the_endpoint_answers_the_whole_corpus_from_the_summary(client, facet_corpus, monkeypatch):
    monkeypatch.setattr(facets, "facet_counts", lambda queryset: pytest.fail("the corpus was scanned"))
    body = client.get(reverse("excerpt-facets")).json()
    assert (body["count"], body["count_exact"]) == (3, True)
    assert body["speaker"] == [
        {"value": "mao-zedong", "label": "Mao Zedong", "count": 2},
        {"value": "zhou-enlai", "label": "Zhou Enlai", "count": 1},
    ]
    assert body["decade"] == [
        {"value": "1940", "label": "1940s", "count": 1},
        {"value": "1950", "label": "1950s", "count": 2},
    ]


def test_curators_see_every_status_in_the_summary_and_may_narrow_it(client_as, curator, facet_corpus):
    client = client_as(curator)
    url = reverse("excerpt-facets")
    assert client.get(url).json()["count"] == 4
    drafts = client.get(url, {"status": "draft"}).json()
    assert drafts["count"] == 1
    assert drafts["topic"] == [{"value": "communes", "label": "Communes", "count": 1}]


def test_the_public_asking_for_drafts_gets_none(client, facet_corpus):
    body = client.get(reverse("excerpt-facets"), {"status": "draft"}).json()
    assert (body["count"], body["speaker"], body["year"]) == (0, [], [])


def test_the_whole_corpus_costs_the_same_queries_for_any_number_of_excerpts(
    client, facet_corpus, django_assert_num_queries
):
    # The data version (for the ETag), the summary, then the names of the speakers, topics and events it counts.
    with django_assert_num_queries(5):
        client.get(reverse("excerpt-facets"))
    for i in range(20):
        factories.excerpt(
            f"More {i}.",
            speaker=facet_corpus["zhou"],
            source=facet_corpus["works"],
            topics=[facet_corpus["leap"]],
            event=facet_corpus["lushan"],
        )
    with django_assert_num_queries(5):
        assert client.get(reverse("excerpt-facets")).json()["count"] == 23


@pytest.mark.parametrize("dense", [True, False])  # on SQLite: the table walked by id, or the planner's choice
def test_a_filtered_set_over_the_limit_counts_its_newest_matches_and_says_so(client, facet_corpus, monkeypatch, dense):
    monkeypatch.setattr(limits, "SCAN_LIMIT", 2)
    monkeypatch.setattr(limits, "DENSE", 10**9 if dense else 1)
    newest = factories.excerpt("Newest.", speaker=facet_corpus["zhou"], source=facet_corpus["works"], kind="report")
    body = client.get(reverse("excerpt-facets"), {"language": "en"}).json()
    assert (body["count"], body["count_exact"]) == (2, False)
    # The two most recently added English excerpts: "unity" and "newest".
    assert counts_by_value(body)["speaker"] == {"zhou-enlai": 2}
    assert counts_by_value(body)["kind"] == {"speech": 1, "report": 1}
    assert newest.pk > facet_corpus["unity"].pk
    exact = client.get(reverse("excerpt-facets"), {"language": "en", "speaker": "zhou-enlai"}).json()
    assert (exact["count"], exact["count_exact"]) == (2, True)


def test_a_search_over_the_limit_counts_its_newest_matches(facet_corpus, monkeypatch):
    from django.http import QueryDict

    from excerpts.api.filters import ExcerptFilterSet

    for i in range(3):
        factories.excerpt(
            f"Steel furnace {i}.", speaker=facet_corpus["zhou"], source=facet_corpus["works"], date=f"196{i}"
        )
    filterset = ExcerptFilterSet(QueryDict("q=steel"), queryset=Excerpt.objects.published())
    searched = search.matching(filterset.qs, filterset.form.cleaned_data["q"])
    counted = facets.facet_counts(searched, limit=3)
    assert (counted["count"], counted["count_exact"]) == (3, False)
    assert counts_by_value(counted)["year"] == {"1960": 1, "1961": 1, "1962": 1}
    assert facets.facet_counts(searched, limit=4)["count_exact"] is True


@pytest.mark.parametrize("stretch", [1, 3, 1000])
@pytest.mark.parametrize("every", [1, 4, 9])
def test_a_searchs_facets_are_the_same_read_among_the_newest_first(facet_corpus, monkeypatch, stretch, every):
    # On PostgreSQL the newest matches of a plain query are looked for in a stretch of the newest ids first (SCAN_LIMIT
    # + 1 times the stretch): whichever way they are found, the facets are those of a reading of every match.
    monkeypatch.setattr("excerpts.research.search_engines.WINDOW_STRETCH", stretch)
    for i in range(40):
        factories.excerpt(
            f"{'Steelworks' if i % every == 0 else 'Grain'} report {i}.",
            speaker=facet_corpus["zhou" if i % 3 else "mao"],
            source=facet_corpus["works"],
            date=f"19{50 + i % 7}",
            status=Excerpt.Status.DRAFT if i % 5 == 0 else Excerpt.Status.PUBLISHED,
        )
    for query in ("steel", "steel report -grain"):
        plan = search.plan(search.parse_query(query))
        searched = plan.rows(Excerpt.objects.published())
        for limit in (2, 3, 5, 100):
            assert facets.facet_counts(searched, limit, plan) == facets.facet_counts(searched, limit), limit
    # Only PostgreSQL reads a plain query's newest first; an exclusion (or a phrase) is tested in the table.
    ids = Excerpt.objects.order_by("id").values_list("id", flat=True)
    steel = search.plan(search.parse_query("steel")).newest_stretch(3)
    in_stretch = ids.last() - 3 * stretch >= ids.first()  # else the stretch would be every excerpt
    assert steel == (ids.last() - 3 * stretch if connection.vendor == "postgresql" and in_stretch else None)
    assert search.plan(search.parse_query("steel -grain")).newest_stretch(3) is None
    assert search.plan(search.parse_query('"steelworks report"')).newest_stretch(3) is None
    assert search.plan(None).newest_stretch(3) is None


def test_postgresql_change_rows_are_folded_into_one_row_per_value(facet_corpus, monkeypatch):
    monkeypatch.setattr(limits, "FOLD_AFTER", 0)
    for i in range(5):
        factories.excerpt(f"Filler {i}.", speaker=facet_corpus["zhou"], source=facet_corpus["works"])
    before = facets.summary_counts(EVERY_STATUS)
    assert facets.summary_counts(EVERY_STATUS) == before  # this read folds on PostgreSQL
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*), count(DISTINCT status || facet || value) FROM {facets.TABLE}")
        rows, values = cursor.fetchone()
    assert rows == values
    assert before["count"] == 9
    assert_summary_matches_a_scan()


def test_repair_database_restores_a_lost_summary_and_counts_afresh(facet_corpus):
    # What a SQLite migration that remakes the excerpt table does to its triggers, and more.
    db.run(connection, db.uninstall_statements(connection.vendor, [facet_summary]))
    factories.excerpt(
        "Written while nothing counted.",
        speaker=facet_corpus["zhou"],
        source=facet_corpus["works"],
        topics=[facet_corpus["leap"]],
    )
    call_command("repair_database", stdout=StringIO())
    assert counts_by_value(assert_summary_matches_a_scan())["topic"] == {"communes": 1, "great-leap": 3}
    facet_corpus["unity"].delete()  # the triggers are back
    assert assert_summary_matches_a_scan()["count"] == 3


def test_a_speakers_excerpt_count_is_read_from_the_summary_and_follows_writes(client, facet_corpus):
    def excerpt_count():
        return client.get(reverse("speaker-detail", args=["zhou-enlai"])).json()["excerpt_count"]

    assert excerpt_count() == 1
    facet_corpus["draft"].status = Excerpt.Status.PUBLISHED
    facet_corpus["draft"].save()
    assert excerpt_count() == 2
    Excerpt.objects.filter(speaker=facet_corpus["zhou"]).update(speaker=facet_corpus["mao"])
    assert excerpt_count() == 0
    speakers = {item["slug"]: item["excerpt_count"] for item in client.get(reverse("speaker-list")).json()["results"]}
    assert speakers == {"mao-zedong": 4, "zhou-enlai": 0}
