"""
History tells the truth about topics on every write path (admin forms, bulk actions, API, import), a revert in
the admin restores a version's topics exactly, and an admin write lands whole or not at all.
"""

import importlib
from unittest import mock

import pytest
from django.apps import apps as django_apps
from django.db import DatabaseError, connection
from django.forms.models import BaseModelForm
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from simple_history.utils import bulk_update_with_history

from excerpts.bulk import insert_rows
from excerpts.history import history_entries
from excerpts.imports import COLUMNS, ExcerptImport
from excerpts.models import Excerpt
from tests import factories

pytestmark = pytest.mark.django_db

HistoricalExcerpt = Excerpt.history.model
HistoricalTopicLink = HistoricalExcerpt.topics.model


@pytest.fixture
def flowers(db):
    return factories.topic(slug="hundred-flowers", name="Hundred Flowers")


@pytest.fixture
def split(db):
    return factories.topic(slug="sino-soviet-split", name="Sino-Soviet split")


def topic_ids(topics):
    return sorted(topic.pk for topic in topics)


def recorded_topic_ids(record):
    return sorted(record.topics.values_list("topic", flat=True))


def newest_record(excerpt):
    return excerpt.history.order_by("-history_date", "-history_id").first()


def form_values(response, **overrides):
    """The values an admin form shows, as the browser would submit them, with some fields changed."""
    form = response.context["adminform"].form
    values = {name: form[name].value() for name in form.fields}
    values.update(overrides)
    return {name: "" if value is None else value for name, value in values.items()}


def edit_in_admin(client, excerpt, **overrides):
    url = reverse("admin:excerpts_excerpt_change", args=[excerpt.pk])
    response = client.post(url, form_values(client.get(url), **overrides))
    assert response.status_code == 302, response.context["adminform"].form.errors
    return response


def run_action(client, action, *excerpts):
    response = client.post(
        reverse("admin:excerpts_excerpt_changelist"),
        {"action": action, "_selected_action": [excerpt.pk for excerpt in excerpts]},
    )
    assert response.status_code == 302
    return response


@pytest.mark.parametrize(
    ("action", "start", "end"), [("publish", "draft", "published"), ("unpublish", "published", "draft")]
)
def test_a_bulk_action_records_the_status_change_and_no_topic_change(
    corpus, curator_client, curator, client_as, flowers, action, start, end
):
    excerpt = factories.excerpt(status=start, topics=[corpus["topic"], flowers])

    run_action(curator_client, action, excerpt)

    latest = client_as(curator).get(reverse("excerpt-history", kwargs={"pk": excerpt.pk})).json()[0]
    assert latest["changes"] == [{"field": "status", "old": start, "new": end}]
    assert history_entries(excerpt)[0]["changes"] == latest["changes"]
    page = curator_client.get(reverse("admin:excerpts_excerpt_history", args=[excerpt.pk]))
    newest_on_page = page.context["page_obj"].object_list[0]
    assert [change["field"] for change in newest_on_page.history_delta_changes] == ["Status"]


def test_a_bulk_action_costs_the_same_queries_for_one_excerpt_and_for_many(corpus, curator_client, flowers):
    one = [factories.excerpt(status="draft", topics=[flowers])]
    many = [factories.excerpt(status="draft", topics=[flowers, corpus["topic"]]) for _ in range(20)]

    def publishing(excerpts):
        with CaptureQueriesContext(connection) as queries:
            run_action(curator_client, "publish", *excerpts)
        return len(queries)

    assert publishing(one) == publishing(many)
    both = topic_ids([flowers, corpus["topic"]])
    assert [recorded_topic_ids(newest_record(excerpt)) for excerpt in many] == [both] * len(many)


def test_an_edit_after_a_bulk_publish_does_not_show_the_topics_coming_back(corpus, curator_client):
    excerpt = corpus["draft"]
    run_action(curator_client, "publish", excerpt)

    edit_in_admin(curator_client, excerpt, context="Said in Moscow.")

    assert [entry["changes"] for entry in history_entries(excerpt)[:2]] == [
        [{"field": "context", "old": "", "new": "Said in Moscow."}],
        [{"field": "status", "old": "draft", "new": "published"}],
    ]


def test_changing_topics_in_the_admin_records_one_entry_from_the_old_topics_to_the_new(
    corpus, curator_client, flowers, split
):
    excerpt = corpus["draft"]
    before = excerpt.history.count()

    edit_in_admin(curator_client, excerpt, topics=[flowers.pk, split.pk], locator="p. 1")

    assert excerpt.history.count() == before + 1
    assert history_entries(excerpt)[0]["changes"] == [
        {"field": "locator", "old": "", "new": "p. 1"},
        {"field": "topics", "old": [corpus["topic"].pk], "new": topic_ids([flowers, split])},
    ]


def test_adding_in_the_admin_records_one_entry_that_lists_the_topics(corpus, curator, flowers):
    excerpt = write_with_admin_add_form(corpus, curator, [flowers])

    entries = history_entries(excerpt)
    assert [entry["history_type"] for entry in entries] == ["+"]
    assert {"field": "topics", "old": None, "new": [flowers.pk]} in entries[0]["changes"]


# Each write path, as the given curator, creates an excerpt or changes the corpus's draft (which has one topic);
# the excerpt it returns should have exactly the topics given.


def admin_client_for(user):
    client = Client()
    client.force_login(user)
    return client


def api_client_for(user):
    return factories.api_client(user)


def write_with_admin_add_form(corpus, curator, topics):
    client = admin_client_for(curator)
    add_url = reverse("admin:excerpts_excerpt_add")
    values = form_values(
        client.get(add_url),
        text="Added in the admin.",
        kind="speech",
        speaker=corpus["mao"].pk,
        date="1958",
        source=corpus["daily"].pk,
        language="zh",
        topics=topic_ids(topics),
    )
    assert client.post(add_url, values).status_code == 302
    return Excerpt.objects.get(text="Added in the admin.")


def write_with_admin_change_form(corpus, curator, topics):
    excerpt = corpus["draft"]
    edit_in_admin(admin_client_for(curator), excerpt, topics=topic_ids(topics), context="Edited.")
    return excerpt


def write_with_bulk_publish(corpus, curator, topics):
    excerpt = corpus["draft"]
    excerpt.topics.set(topics)
    run_action(admin_client_for(curator), "publish", excerpt)
    return excerpt


def write_with_api_create(corpus, curator, topics):
    body = factories.excerpt_body(corpus, text="Posted to the API.", topics=[topic.slug for topic in topics])
    response = api_client_for(curator).post(reverse("excerpt-list"), body, format="json")
    assert response.status_code == 201, response.json()
    return Excerpt.objects.get(pk=response.json()["id"])


def write_with_api_patch(corpus, curator, topics):
    excerpt = corpus["draft"]
    body = {"topics": [topic.slug for topic in topics], "context": "Patched."}
    url = reverse("excerpt-detail", kwargs={"pk": excerpt.pk})
    assert api_client_for(curator).patch(url, body, format="json").status_code == 200
    return excerpt


def write_with_api_put(corpus, curator, topics):
    excerpt = corpus["draft"]
    body = {
        "text": excerpt.text,
        "kind": excerpt.kind,
        "speaker": excerpt.speaker.slug,
        "date": excerpt.date,
        "source": excerpt.source_id,
        "language": excerpt.language,
        "topics": [topic.slug for topic in topics],
    }
    url = reverse("excerpt-detail", kwargs={"pk": excerpt.pk})
    assert api_client_for(curator).put(url, body, format="json").status_code == 200
    return excerpt


def import_row(excerpt_id, text, topics):
    values = {
        "id": excerpt_id or "",
        "text": text,
        "kind": "speech",
        "attribution": "direct",
        "speaker": "mao-zedong",
        "date": "1957-11",
        "source": "peoples-daily",
        "topics": ";".join(topic.slug for topic in topics),
        "language": "zh",
        "status": "draft",
    }
    return {column: values.get(column, "") for column in COLUMNS}


def import_rows(curator, *rows):
    importer = ExcerptImport(user=curator, reason="a test")
    importer.check(enumerate(rows, 1))
    assert importer.messages() == []
    importer.write()


def write_with_import_create(corpus, curator, topics):
    import_rows(curator, import_row(None, "Imported.", topics))
    return Excerpt.objects.get(text="Imported.")


def write_with_import_update(corpus, curator, topics):
    excerpt = corpus["draft"]
    import_rows(curator, import_row(excerpt.pk, excerpt.text, topics))
    return excerpt


WRITE_PATHS = [
    write_with_admin_add_form,
    write_with_admin_change_form,
    write_with_bulk_publish,
    write_with_api_create,
    write_with_api_patch,
    write_with_api_put,
    write_with_import_create,
    write_with_import_update,
]


def write_path_name(write):
    return write.__name__.removeprefix("write_with_")


@pytest.mark.parametrize("write", WRITE_PATHS, ids=write_path_name)
def test_the_newest_history_entry_records_the_topics_the_excerpt_has(corpus, curator, flowers, split, write):
    excerpt = write(corpus, curator, [flowers, split])

    assert topic_ids(excerpt.topics.all()) == topic_ids([flowers, split])
    assert recorded_topic_ids(newest_record(excerpt)) == topic_ids([flowers, split])


def test_reverting_in_the_admin_restores_the_text_and_topics_of_the_version_chosen(
    corpus, curator_client, flowers, split
):
    excerpt = corpus["draft"]
    edit_in_admin(curator_client, excerpt, text="The east wind prevails.", topics=[corpus["topic"].pk])
    chosen = newest_record(excerpt)
    edit_in_admin(curator_client, excerpt, text="The west wind prevails.", topics=[flowers.pk, split.pk])

    revert_url = reverse("admin:excerpts_excerpt_simple_history", args=[excerpt.pk, chosen.history_id])
    response = curator_client.post(revert_url, form_values(curator_client.get(revert_url)))

    assert response.status_code == 302
    excerpt.refresh_from_db()
    assert excerpt.text == "The east wind prevails."
    assert topic_ids(excerpt.topics.all()) == [corpus["topic"].pk]
    assert recorded_topic_ids(newest_record(excerpt)) == [corpus["topic"].pk]


def test_reverting_to_a_version_made_by_a_bulk_publish_keeps_its_topics(corpus, curator_client, flowers):
    excerpt = corpus["draft"]
    run_action(curator_client, "publish", excerpt)
    published = newest_record(excerpt)
    edit_in_admin(curator_client, excerpt, topics=[flowers.pk])

    revert_url = reverse("admin:excerpts_excerpt_simple_history", args=[excerpt.pk, published.history_id])
    curator_client.post(revert_url, form_values(curator_client.get(revert_url)))

    assert topic_ids(excerpt.topics.all()) == [corpus["topic"].pk]


# Faults. These run outside the test's own transaction so that the admin's transactions commit or roll back
# for real, as they do in production.

committing = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def snapshot():
    """What a half-finished write could have touched: each excerpt's text, status and topics, and the history."""
    excerpts = {
        excerpt.pk: (excerpt.text, excerpt.status, topic_ids(excerpt.topics.all()))
        for excerpt in Excerpt.objects.prefetch_related("topics")
    }
    return excerpts, HistoricalExcerpt.objects.count(), HistoricalTopicLink.objects.count()


@committing
@pytest.mark.parametrize("failing", [HistoricalExcerpt, HistoricalTopicLink], ids=["entries", "entry topics"])
def test_a_bulk_action_that_fails_writing_history_changes_no_excerpt(corpus, curator_client, failing):
    before = snapshot()

    def insert(model, names, rows):
        if model is failing:
            raise DatabaseError("disk full")
        insert_rows(model, names, rows)

    with mock.patch("excerpts.history.insert_rows", side_effect=insert), pytest.raises(DatabaseError):
        curator_client.post(
            reverse("admin:excerpts_excerpt_changelist"),
            {"action": "publish", "_selected_action": [corpus["draft"].pk, corpus["published"].pk]},
        )

    assert snapshot() == before


def post_whose_topics_fail(client, url, values):
    """Post an admin form whose topics fail to save, as a full disk would fail them; the error reaches the test."""
    with (
        mock.patch.object(BaseModelForm, "_save_m2m", side_effect=DatabaseError("disk full")),
        pytest.raises(DatabaseError),
    ):
        client.post(url, values)


@committing
def test_a_change_form_whose_topics_fail_to_save_leaves_the_excerpt_as_it_was(corpus, curator_client, flowers):
    excerpt = corpus["draft"]
    url = reverse("admin:excerpts_excerpt_change", args=[excerpt.pk])
    values = form_values(curator_client.get(url), text="Half an edit.", topics=[flowers.pk])
    before = snapshot()

    post_whose_topics_fail(curator_client, url, values)

    assert snapshot() == before


@committing
def test_a_revert_whose_topics_fail_to_save_leaves_the_excerpt_as_it_was(corpus, curator_client, flowers):
    excerpt = corpus["draft"]
    first = excerpt.history.order_by("history_date", "history_id").first()
    edit_in_admin(curator_client, excerpt, text="A later text.", topics=[flowers.pk])
    revert_url = reverse("admin:excerpts_excerpt_simple_history", args=[excerpt.pk, first.history_id])
    values = form_values(curator_client.get(revert_url))
    before = snapshot()

    post_whose_topics_fail(curator_client, revert_url, values)

    assert snapshot() == before


# (A bulk action is tested above: its test setup changes the topics through the ORM first.)
@pytest.mark.parametrize(
    "write", [write for write in WRITE_PATHS if write is not write_with_bulk_publish], ids=write_path_name
)
def test_each_write_records_one_version_never_an_intermediate_one_without_topics(
    corpus, curator, flowers, split, write
):
    last = HistoricalExcerpt.objects.order_by("-history_id").values_list("history_id", flat=True).first()

    excerpt = write(corpus, curator, [flowers, split])

    written = list(excerpt.history.filter(history_id__gt=last))
    assert [recorded_topic_ids(record) for record in written] == [topic_ids([flowers, split])]


def test_the_upgrade_gives_entries_of_earlier_bulk_actions_the_topics_they_left_out(corpus, curator, flowers, split):
    excerpt = corpus["draft"]
    excerpt.topics.set([flowers, split])
    excerpt.refresh_from_db()
    excerpt.status = Excerpt.Status.PUBLISHED
    bulk_update_with_history([excerpt], Excerpt, ["status", "updated"], default_user=curator)  # the old action
    bulk_entry = newest_record(excerpt)
    excerpt.status = Excerpt.Status.DRAFT
    bulk_update_with_history([excerpt], Excerpt, ["status", "updated"], default_user=curator)
    untouched = corpus["published"]  # no topics: its status change is an entry without links, and rightly so
    untouched.status = Excerpt.Status.DRAFT
    untouched.save()
    assert recorded_topic_ids(bulk_entry) == []  # what the upgrade mends

    upgrade = importlib.import_module("excerpts.migrations.0013_bulk_history_topics")
    upgrade.restore_bulk_action_topics(django_apps, None)

    assert recorded_topic_ids(bulk_entry) == topic_ids([flowers, split])
    assert recorded_topic_ids(newest_record(excerpt)) == topic_ids([flowers, split])
    assert [entry["changes"] for entry in history_entries(excerpt)[:2]] == [
        [{"field": "status", "old": "published", "new": "draft"}],
        [{"field": "status", "old": "draft", "new": "published"}],
    ]
    assert HistoricalTopicLink.objects.filter(history__id=untouched.pk).count() == 0
