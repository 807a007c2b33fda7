"""The curators' admin: changelists without per-row queries, search, filters, bulk actions, dates, history."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from excerpts.models import Excerpt, Source, Topic
from tests import factories

pytestmark = pytest.mark.django_db


def add_excerpts(corpus, count):
    topics = [factories.topic(f"topic-{n}", f"Topic {n}") for n in range(3)]
    for n in range(count):
        factories.excerpt(
            kind=Excerpt.Kind.LETTER,
            speaker=corpus["mao"] if n % 2 else corpus["khrushchev"],
            date=f"19{50 + n % 10}",
            source=corpus["daily"],
            status=Excerpt.Status.DRAFT,
            topics=topics,
        )


def changelist_queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("model", ["excerpt", "speaker", "source", "topic", "event"])
def test_a_changelist_costs_the_same_queries_for_one_row_and_for_many(corpus, curator_client, model):
    url = reverse(f"admin:excerpts_{model}_changelist")
    Excerpt.objects.exclude(pk=corpus["published"].pk).delete()
    one = changelist_queries(curator_client, url)

    add_excerpts(corpus, 30)
    Topic.objects.filter(slug__startswith="topic-").update(parent=corpus["topic"])
    many = changelist_queries(curator_client, url)

    assert many == one


def test_the_excerpt_changelist_shows_speaker_date_kind_status_and_topics(corpus, curator_client):
    response = curator_client.get(reverse("admin:excerpts_excerpt_changelist"))

    content = response.content.decode()
    assert "The east wind prevails over the west wind." in content
    assert "November 1957" in content
    assert "Great Leap Forward" in content
    assert "Mao Zedong" in content


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Tse-tung", ["The east wind prevails over the west wind."]),
        ("Cult of Personality", ["the cult of the individual"]),
        ("east wind", ["The east wind prevails over the west wind."]),
        ("Khrushchev", ["the cult of the individual"]),
    ],
)
def test_admin_search_covers_text_speaker_names_aliases_and_source_titles(corpus, curator_client, query, expected):
    response = curator_client.get(reverse("admin:excerpts_excerpt_changelist"), {"q": query})

    assert [excerpt.text for excerpt in response.context["cl"].result_list] == expected


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"decade": "1950"}, 2),
        ({"decade": "1960"}, 0),
        ({"status__exact": "draft"}, 1),
        ({"language__exact": "ru"}, 1),
        ({"topics__id__exact": "TOPIC"}, 1),
        ({"speaker__id__exact": "SPEAKER"}, 1),
    ],
)
def test_admin_filters_narrow_the_changelist(corpus, curator_client, params, expected):
    params = {
        key: str(corpus["topic"].pk) if value == "TOPIC" else str(corpus["mao"].pk) if value == "SPEAKER" else value
        for key, value in params.items()
    }

    response = curator_client.get(reverse("admin:excerpts_excerpt_changelist"), params)

    assert response.context["cl"].result_count == expected


def test_the_publish_action_publishes_and_records_who_did_it(corpus, curator, curator_client):
    response = curator_client.post(
        reverse("admin:excerpts_excerpt_changelist"),
        {"action": "publish", "_selected_action": [corpus["draft"].pk, corpus["published"].pk]},
    )

    assert response.status_code == 302
    corpus["draft"].refresh_from_db()
    assert corpus["draft"].status == "published"
    latest = corpus["draft"].history.latest("history_date")
    assert (latest.history_user, latest.status) == (curator, "published")
    assert corpus["published"].history.count() == 1


def test_the_unpublish_action_returns_excerpts_to_draft(corpus, curator_client):
    curator_client.post(
        reverse("admin:excerpts_excerpt_changelist"),
        {"action": "unpublish", "_selected_action": [corpus["published"].pk]},
    )

    corpus["published"].refresh_from_db()
    assert corpus["published"].status == "draft"


def excerpt_form(corpus, **overrides):
    data = {
        "text": "Words.",
        "kind": "speech",
        "attribution": "direct",
        "speaker": corpus["mao"].pk,
        "status": "draft",
        "date": "1958-22",
        "source": corpus["daily"].pk,
        "language": "zh",
        "topics": [corpus["topic"].pk],
    }
    data.update(overrides)
    return data


def test_an_invalid_edtf_date_is_refused_on_save_with_the_reason(corpus, curator_client):
    response = curator_client.post(reverse("admin:excerpts_excerpt_add"), excerpt_form(corpus, date="1958-13"))

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["date"] == [
        "'1958-13' is not a valid EDTF date. Use YYYY, YYYY-MM, YYYY-MM-DD, a season (1958-21..24), an interval "
        "(1957/1958) or a qualified date (1958?, 1958~)."
    ]
    assert not Excerpt.objects.filter(text="Words.").exists()


def test_saving_in_the_admin_computes_and_shows_the_date_bounds(corpus, curator, curator_client):
    curator_client.post(reverse("admin:excerpts_excerpt_add"), excerpt_form(corpus))
    excerpt = Excerpt.objects.get(text="Words.")

    page = curator_client.get(reverse("admin:excerpts_excerpt_change", args=[excerpt.pk])).content.decode()

    assert (str(excerpt.date_start), str(excerpt.date_end), excerpt.date_display) == (
        "1958-06-01",
        "1958-08-31",
        "summer 1958",
    )
    assert "summer 1958" in page and "June 1, 1958" in page
    assert {record.history_user for record in excerpt.history.all()} == {curator}


def test_curators_cannot_delete_in_the_admin(corpus, curator_client):
    response = curator_client.post(
        reverse("admin:excerpts_excerpt_delete", args=[corpus["draft"].pk]), {"post": "yes"}
    )

    assert response.status_code == 403
    assert Excerpt.objects.filter(pk=corpus["draft"].pk).exists()


def test_the_history_page_lists_changes_and_a_past_version_can_be_reverted(corpus, curator_client):
    excerpt = corpus["draft"]
    excerpt.context = "A first note."
    excerpt.save()
    first = excerpt.history.earliest("history_date")

    history = curator_client.get(reverse("admin:excerpts_excerpt_history", args=[excerpt.pk]))
    revert_url = reverse("admin:excerpts_excerpt_simple_history", args=[excerpt.pk, first.history_id])
    form = curator_client.get(revert_url)
    reverted = curator_client.post(revert_url, excerpt_form(corpus, text=excerpt.text, date="1957-11"))

    assert history.status_code == 200 and "A first note." in history.content.decode()
    assert form.status_code == 200
    assert reverted.status_code == 302
    excerpt.refresh_from_db()
    assert excerpt.context == ""


def test_the_admin_import_preview_shows_row_errors_and_writes_nothing(corpus, curator_client, tmp_path):
    from excerpts.resources import COLUMNS

    data = ",".join(COLUMNS) + "\n,Words.,speech,direct,nobody,1958,,peoples-daily,,,,,zh,,,,draft\n"
    upload = tmp_path / "bad.csv"
    upload.write_text(data, encoding="utf-8")

    with upload.open("rb") as handle:
        response = curator_client.post(
            reverse("admin:excerpts_excerpt_import"),
            {"import_file": handle, "format": "0", "resource": "0"},
        )

    assert response.status_code == 200
    assert "No speaker has the slug" in response.content.decode()
    assert not Excerpt.objects.filter(text="Words.").exists()


def test_saving_a_source_in_the_admin_stores_how_the_citations_cite_it(corpus, curator_client):
    form = {
        "slug": "admin-book",
        "title": "A Book Added in the Admin",
        "author": "A. Curator",
        "kind": "book",
        "publisher": "",
        "place": "Beijing",
        "date": "1962",
        "url": "",
        "archive": "",
        "notes": "",
    }
    response = curator_client.post(reverse("admin:excerpts_source_add"), form)
    assert response.status_code == 302, response.content.decode()[:2000]
    stored = json.loads(Source.objects.get(slug="admin-book").citation_rendering)
    assert stored["unpaged"] == "A. Curator, A Book Added in the Admin (Beijing, 1962)."
