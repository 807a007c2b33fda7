"""The seed corpus in fixtures/: it loads into an empty database, every row is valid, and it round-trips."""

import json
from collections import Counter
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core import serializers
from django.core.management import call_command
from django.core.serializers.json import DjangoJSONEncoder
from django.urls import reverse

from excerpts.dates import parse_bounds
from excerpts.models import Event, Excerpt, Source, Speaker, Topic

FIXTURE_NAME = "sino_soviet_split"
FIXTURE_DIR = Path(django_settings.BASE_DIR) / "fixtures"
FIXTURE_PATH = FIXTURE_DIR / f"{FIXTURE_NAME}.json"
NATURAL_KEY_MODELS = {
    "excerpts.speaker": Speaker,
    "excerpts.source": Source,
    "excerpts.topic": Topic,
    "excerpts.event": Event,
}

pytestmark = pytest.mark.django_db


@pytest.fixture
def seed_corpus():
    """Load the fixture by name, exactly as `manage.py loaddata sino_soviet_split` does."""
    call_command("loaddata", FIXTURE_NAME, verbosity=0)


@pytest.fixture(scope="module")
def fixture_rows():
    """The fixture file as written, for checks on its shape."""
    return json.loads(FIXTURE_PATH.read_text(encoding="utf-8"))


def snapshot():
    """Every row of the app, serialized with natural keys and in a stable order."""
    rows = []
    for model in (Speaker, Source, Topic, Event, Excerpt):
        for row in serializers.serialize(
            "python", model.objects.all(), use_natural_foreign_keys=True, use_natural_primary_keys=True
        ):
            fields = dict(row["fields"])
            if "topics" in fields:
                fields["topics"] = sorted(fields["topics"])
            rows.append(json.dumps([row["model"], row.get("pk"), fields], sort_keys=True, cls=DjangoJSONEncoder))
    return sorted(rows)


def empty_the_app():
    """Delete every row, dependents first (the foreign keys are PROTECT)."""
    Excerpt.objects.all().delete()
    while Topic.objects.exists():
        Topic.objects.filter(children__isnull=True).delete()
    for model in (Event, Source, Speaker):
        model.objects.all().delete()


def test_the_fixture_loads_into_an_empty_database_with_rows_of_every_model(seed_corpus, fixture_rows):
    written = Counter(row["model"] for row in fixture_rows)
    loaded = {model._meta.label_lower: model.objects.count() for model in (Speaker, Source, Topic, Event, Excerpt)}
    assert loaded == written
    assert min(loaded.values()) > 0


def test_reference_rows_are_keyed_by_slug_and_excerpts_are_numbered_from_one(fixture_rows):
    for row in fixture_rows:
        if row["model"] in NATURAL_KEY_MODELS:
            assert "pk" not in row, row["fields"]["slug"]
    excerpt_pks = [row["pk"] for row in fixture_rows if row["model"] == "excerpts.excerpt"]
    assert excerpt_pks == list(range(1, len(excerpt_pks) + 1))


def test_every_excerpt_passes_full_clean(seed_corpus):
    for excerpt in Excerpt.objects.all():
        excerpt.full_clean()


def test_every_reference_row_passes_full_clean(seed_corpus):
    for model in NATURAL_KEY_MODELS.values():
        for row in model.objects.all():
            row.full_clean()


def test_every_excerpt_stores_the_bounds_and_display_its_edtf_date_gives(seed_corpus):
    for excerpt in Excerpt.objects.all():
        bounds = parse_bounds(excerpt.date)
        assert (excerpt.date_start, excerpt.date_end, excerpt.date_display) == (
            bounds.start,
            bounds.end,
            bounds.display,
        ), f"excerpt {excerpt.pk} ({excerpt.date})"


def test_every_excerpt_is_published_with_a_context(seed_corpus):
    for excerpt in Excerpt.objects.all():
        assert excerpt.status == Excerpt.Status.PUBLISHED, excerpt.pk
        assert excerpt.context.strip(), excerpt.pk


def test_every_slug_an_excerpt_or_topic_names_is_defined_in_the_fixture(fixture_rows):
    defined = {model: set() for model in NATURAL_KEY_MODELS}
    for row in fixture_rows:
        if row["model"] in defined:
            defined[row["model"]].add(row["fields"]["slug"])
    for row in fixture_rows:
        fields = row["fields"]
        if row["model"] == "excerpts.topic" and fields["parent"] is not None:
            assert fields["parent"][0] in defined["excerpts.topic"]
        if row["model"] != "excerpts.excerpt":
            continue
        assert fields["speaker"][0] in defined["excerpts.speaker"], row["pk"]
        assert fields["source"][0] in defined["excerpts.source"], row["pk"]
        assert fields["quoted_in"][0] in defined["excerpts.source"], row["pk"]
        if fields["event"] is not None:
            assert fields["event"][0] in defined["excerpts.event"], row["pk"]
        assert fields["topics"], row["pk"]
        for (topic,) in fields["topics"]:
            assert topic in defined["excerpts.topic"], row["pk"]


def test_every_excerpt_is_quoted_in_one_of_the_seed_essays(seed_corpus):
    essays = set(Source.objects.filter(kind=Source.Kind.ARTICLE).values_list("slug", flat=True))
    quoted_in = set(Excerpt.objects.values_list("quoted_in__slug", flat=True))
    assert quoted_in == {"lyu-brothers-no-more-2024", "jones-sino-soviet-split-great-leap-forward"}
    assert quoted_in <= essays


def test_every_topic_has_a_description_and_at_least_one_excerpt(seed_corpus):
    for topic in Topic.objects.all():
        assert topic.description.strip(), topic.slug
        assert topic.excerpts.exists(), f"topic {topic.slug} is not used by any excerpt"


def test_no_two_excerpts_share_a_text(seed_corpus):
    repeated = [text for text, count in Counter(Excerpt.objects.values_list("text", flat=True)).items() if count > 1]
    assert repeated == []


def test_editorial_boards_study_groups_and_conferences_are_organizations_and_leaders_are_persons(seed_corpus):
    kinds = dict(Speaker.objects.values_list("slug", "kind"))
    assert kinds["peoples-daily-editorial-board"] == Speaker.Kind.ORGANIZATION
    assert kinds["cpsu-politburo-study-group"] == Speaker.Kind.ORGANIZATION
    assert kinds["moscow-conference-of-communist-parties-1957"] == Speaker.Kind.ORGANIZATION
    assert kinds["mao-zedong"] == Speaker.Kind.PERSON
    assert kinds["nikita-khrushchev"] == Speaker.Kind.PERSON


def test_mao_tse_tung_is_an_alias_of_the_mao_zedong_speaker_in_its_printed_form(seed_corpus):
    mao = Speaker.objects.get(slug="mao-zedong")
    assert mao.name == "Mao Zedong"
    # As the titles of his Selected Works print it; "Mao Tse-tung" differs in case alone, which aliases do not repeat.
    assert mao.aliases == ["Mao Tse-Tung", "Zedong Mao", "Chairman Mao"]


def test_the_people_s_daily_editorial_of_19_february_1956_is_dated_to_the_day(seed_corpus):
    excerpt = Excerpt.objects.get(source__slug="peoples-daily-1956-02-19")
    assert excerpt.speaker.slug == "peoples-daily-editorial-board"
    assert excerpt.kind == Excerpt.Kind.EDITORIAL
    assert excerpt.date == "1956-02-19"
    assert excerpt.date_display == "19 February 1956"


def test_a_natural_key_dump_reloaded_into_the_emptied_database_reproduces_the_same_rows(seed_corpus, tmp_path):
    before = snapshot()
    dump = tmp_path / "dump.json"
    call_command(
        "dumpdata", "excerpts", natural_foreign=True, natural_primary=True, indent=2, output=str(dump), verbosity=0
    )

    empty_the_app()
    assert not Speaker.objects.exists()
    assert not Excerpt.objects.exists()

    call_command("loaddata", str(dump), verbosity=0)
    assert snapshot() == before
    assert len(before) == len(json.loads(FIXTURE_PATH.read_text(encoding="utf-8")))


# The corpus read through the API, the way a historian would.


def all_results(client, **params):
    """Follow `next` to the end and return every result."""
    response = client.get(reverse("excerpt-list"), {"page_size": 100, **params})
    assert response.status_code == 200, response.content
    body = response.json()
    results = body["results"]
    while body["next"]:
        body = client.get(body["next"]).json()
        results.extend(body["results"])
    assert len(results) == response.json()["count"]
    return results


def test_mao_s_excerpts_since_1958_are_found_by_speaker_and_date(client, seed_corpus):
    results = all_results(client, speaker="mao-zedong", date_after="1958")
    expected = Excerpt.objects.filter(speaker__slug="mao-zedong", date_end__gte="1958-01-01")
    assert sorted(item["id"] for item in results) == sorted(expected.values_list("id", flat=True))
    assert results, "the corpus quotes Mao from 1958 on"
    assert all(item["speaker"]["name"] == "Mao Zedong" and item["date_end"] >= "1958-01-01" for item in results)
    texts = {item["text"] for item in results}
    assert "noise on the staircase" in texts
    assert "unjustly condemned him" not in texts  # 17 March 1956


def test_the_editorials_of_1956_are_the_people_s_daily_s(client, seed_corpus):
    results = all_results(client, kind="editorial", date_after="1956", date_before="1956")
    assert len(results) == Excerpt.objects.filter(kind="editorial", date_start__year=1956).count() == 3
    assert {item["speaker"]["slug"] for item in results} == {"peoples-daily-editorial-board"}
    assert {item["date"] for item in results} == {"1956-02-19", "1956-12-29"}


def test_searching_the_alias_mao_tse_tung_finds_mao_s_words(client, seed_corpus):
    speakers = client.get(reverse("speaker-list"), {"q": "Mao Tse-tung"}).json()["results"]
    assert [speaker["slug"] for speaker in speakers] == ["mao-zedong"]  # in any case
    assert "Mao Tse-Tung" in speakers[0]["aliases"]
    by_alias = all_results(client, q="Mao Tse-tung")
    assert {item["id"] for item in by_alias} >= set(
        Excerpt.objects.filter(speaker__slug="mao-zedong").values_list("id", flat=True)
    )


def test_the_twentieth_congress_excerpts_carry_their_event_and_page(client, seed_corpus):
    results = all_results(client, event="twentieth-party-congress", speaker="anastas-mikoyan")
    assert {item["text"] for item in results} == {
        "lacked collective leadership",
        "huge harms to the CPSU and the whole country",
    }
    assert {item["locator"] for item in results} == {"p. 17"}
    assert {item["date_display"] for item in results} == {"16 February 1956"}


# The audit of issue 13: each excerpt checked against the two seed essays.


def test_the_19_february_1956_editorial_belongs_to_no_event(seed_corpus):
    # The essay places the words in the Beijing paper, not at the congress sitting in Moscow.
    excerpt = Excerpt.objects.get(source__slug="peoples-daily-1956-02-19")
    assert excerpt.event is None
    assert "Twentieth Congress was sitting in Moscow" in excerpt.context


def test_an_attribution_the_essay_leaves_implicit_is_said_to_be_inferred(seed_corpus):
    excerpt = Excerpt.objects.get(text="quicker and more effective way")
    assert excerpt.speaker.slug == "mao-zedong"
    assert "the attribution to Mao is inferred" in excerpt.context


def test_the_nine_fingers_are_a_minor_difference_between_the_parties(seed_corpus):
    context = Excerpt.objects.get(text__startswith="nine fingers").context
    assert "disagreement between the Chinese and Soviet parties" in context
    assert "record" not in context


def test_whole_clauses_keep_their_full_stop(seed_corpus):
    assert Excerpt.objects.filter(text="national development should be planned.").count() == 1
    assert not Excerpt.objects.filter(text="national development should be planned").exists()


def test_events_without_excerpts_say_why_they_are_in_the_corpus(seed_corpus):
    empty = Event.objects.filter(excerpts__isnull=True).order_by("slug")
    assert list(empty.values_list("slug", flat=True)) == [
        "beidaihe-conference-1958",
        "first-zhengzhou-conference",
        "wuchang-conference",
    ]
    assert all("no excerpt is tied to it yet" in event.description for event in empty)


def test_authors_and_editors_are_recorded_as_printed_with_the_correction_said(seed_corpus):
    study = Source.objects.get(slug="cia-soviet-awareness-of-chinese-communes-1959")
    assert study.author == "Sino-Soviet Bloc Area: Office of Current Intelligence"
    talks = Source.objects.filter(slug__startswith="mao-talks-")
    assert talks.count() == 3
    for talk in talks:
        assert "Roderick Macfarquhar (so printed" in talk.notes
        assert "spells his name MacFarquhar" in talk.notes


@pytest.mark.parametrize(
    ("text", "date", "display"),
    [
        # "After 1958": from 1958 to Mao's death, not an uncertain 1958.
        ("as long as imperialism exists", "1958/1976", "1958\u20131976"),
        # "Late 1958", the last few months of the year: not the whole second half.
        ("widen the divergence", "1958-36", "fourth quarter of 1958"),
        # Praise kept up "until as late as June 1958".
        ("enthusiasm and vigour", "1958/1958-06", "1958\u2013June 1958"),
    ],
)
def test_inferred_dates_are_as_precise_as_the_essay(seed_corpus, text, date, display):
    excerpt = Excerpt.objects.get(text__startswith=text)
    assert (excerpt.date, excerpt.date_display) == (date, display)


def test_the_first_essay_s_notes_give_paraphrases_of_their_own(seed_corpus):
    contradictions = Excerpt.objects.get(source__slug="mao-selected-works-vol-5-1977", locator="p. 345")
    assert contradictions.attribution == Excerpt.Attribution.PARAPHRASE
    assert contradictions.speaker.slug == "mao-zedong"
    assert contradictions.quoted_in.slug == "lyu-brothers-no-more-2024"
    summer = Excerpt.objects.get(source__slug="shen-sino-soviet-relations-2016", locator="p. 125")
    assert summer.attribution == Excerpt.Attribution.PARAPHRASE
    assert (summer.speaker.slug, summer.speaker.kind) == ("chinese-communist-party", Speaker.Kind.ORGANIZATION)
    assert summer.date_display == "summer 1957"
