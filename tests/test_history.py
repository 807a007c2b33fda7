"""Audit history: every change records who, when and what, and curators can read it through the API."""

import pytest
from django.urls import reverse

from excerpts.models import Excerpt
from tests import factories

pytestmark = pytest.mark.django_db


def history_url(excerpt):
    return reverse("excerpt-history", kwargs={"pk": excerpt.pk})


def test_an_api_change_is_recorded_with_the_curator_and_the_changed_fields(corpus, curator, client_as):
    url = reverse("excerpt-detail", kwargs={"pk": corpus["published"].pk})
    client_as(curator).patch(url, {"locator": "p. 12", "date": "1956-02"}, format="json")

    latest = client_as(curator).get(history_url(corpus["published"])).json()[0]

    assert latest["history_user"] == "curator"
    assert latest["history_type"] == "~"
    assert latest["changes"] == [
        {"field": "date", "old": "1956-02-25", "new": "1956-02"},
        {"field": "locator", "old": "", "new": "p. 12"},
    ]


def test_the_first_entry_lists_what_the_excerpt_was_created_with(corpus, curator, client_as):
    body = factories.excerpt_body(corpus, text="Let a hundred flowers bloom.", date="1957-02-27", topics=[])
    created = client_as(curator).post(reverse("excerpt-list"), body, format="json")
    excerpt = Excerpt.objects.get(pk=created.json()["id"])

    entries = client_as(curator).get(history_url(excerpt)).json()

    assert [entry["history_type"] for entry in entries] == ["+"]
    changes = {change["field"]: (change["old"], change["new"]) for change in entries[0]["changes"]}
    assert changes["text"] == (None, "Let a hundred flowers bloom.")
    assert changes["speaker"] == (None, corpus["mao"].pk)
    assert entries[0]["history_user"] == "curator"


def test_topic_changes_are_recorded_as_topic_ids(corpus, curator, client_as):
    url = reverse("excerpt-detail", kwargs={"pk": corpus["draft"].pk})
    client_as(curator).patch(url, {"topics": []}, format="json")

    latest = client_as(curator).get(history_url(corpus["draft"])).json()[0]

    assert latest["changes"] == [{"field": "topics", "old": [corpus["topic"].pk], "new": []}]


def test_history_is_newest_first_and_covers_drafts(corpus, curator, client_as):
    excerpt = corpus["draft"]
    excerpt.context = "First note."
    excerpt.save()
    excerpt.context = "Second note."
    excerpt.save()

    entries = client_as(curator).get(history_url(excerpt)).json()

    assert [entry["changes"] for entry in entries[:2]] == [
        [{"field": "context", "old": "First note.", "new": "Second note."}],
        [{"field": "context", "old": "", "new": "First note."}],
    ]
    assert entries[-1]["history_type"] == "+"


@pytest.mark.parametrize(("role", "expected"), [("anonymous", 401), ("reader", 403), ("curator", 200)])
def test_only_curators_read_history(corpus, users, client_as, role, expected):
    response = client_as(users[role]).get(history_url(corpus["published"]))

    assert response.status_code == expected


def test_a_deleted_excerpt_keeps_its_history_with_who_deleted_it(corpus, superuser, client_as):
    pk = corpus["published"].pk
    client_as(superuser).delete(reverse("excerpt-detail", kwargs={"pk": pk}))

    last = Excerpt.history.filter(id=pk).latest("history_date")

    assert (last.history_type, last.history_user) == ("-", superuser)
