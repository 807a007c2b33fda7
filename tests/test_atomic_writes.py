"""
Every API write is one transaction: when it fails after its row was written (at the topic links, the
history entry or the re-read answer), the database is left exactly as it was before the request.

These tests run outside pytest-django's per-test transaction (transaction=True), so the view's own
transaction is the outermost one and really commits or rolls back, as it does in production.
"""

from contextlib import contextmanager
from unittest import mock

import pytest
from django.apps import apps
from django.db.models import QuerySet
from django.urls import reverse
from simple_history.models import HistoricalRecords

from excerpts.api.views import CuratedViewSet
from excerpts.models import Excerpt
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

NEW_TEXT = "Imperialism and all reactionaries are paper tigers."


class InjectedFault(Exception):
    """The failure a test injects where a killed worker or a lost database would stop a write."""


def database_state():
    """
    Every row of the excerpts app: the five models, the topic links and every history table (not the search
    index's unmanaged model: triggers keep it, and tests/test_database_objects.py checks them).
    """
    return {
        model._meta.label: list(model._default_manager.order_by("pk").values())
        for model in apps.get_app_config("excerpts").get_models(include_auto_created=True)
        if model._meta.managed
    }


@contextmanager
def failing_topic_links():
    """
    Make the insert of excerpt-topic links fail (every other bulk insert still works). Yields the texts its
    excerpts had in the database at that moment, which shows the excerpt row was already written.
    """
    links = Excerpt.topics.through
    bulk_create = QuerySet.bulk_create
    texts_when_failed = []

    def insert(queryset, objs, *args, **kwargs):
        if queryset.model is not links:
            return bulk_create(queryset, objs, *args, **kwargs)
        excerpts = Excerpt.objects.filter(pk__in={link.excerpt_id for link in objs})
        texts_when_failed.extend(excerpts.values_list("text", flat=True))
        raise InjectedFault("the topic links were not written")

    with mock.patch.object(QuerySet, "bulk_create", insert):
        yield texts_when_failed


def failing_history():
    return mock.patch.object(
        HistoricalRecords,
        "create_historical_record",
        autospec=True,
        side_effect=InjectedFault("the history entry was not written"),
    )


def failing_excerpt_history():
    """An excerpt's entry is written once its row and topics are saved (history.one_version), in bulk."""
    return mock.patch(
        "excerpts.history.record_versions",
        autospec=True,
        side_effect=InjectedFault("the history entry was not written"),
    )


@pytest.fixture
def api_as():
    """api_as(user): a client whose requests answer a failure with a 500 instead of raising it into the test."""

    def build(user):
        return factories.api_client(user, raise_request_exception=False)

    return build


def excerpt_body(corpus, **overrides):
    new = {"text": NEW_TEXT, "topics": ["de-stalinization", "great-leap-forward"]}
    return factories.excerpt_body(corpus, **{**new, **overrides})


@pytest.fixture
def second_topic(corpus):
    return factories.topic("de-stalinization", "De-Stalinization")


def test_a_new_excerpt_whose_topic_links_fail_is_not_written_at_all(corpus, second_topic, curator, api_as):
    before = database_state()

    with failing_topic_links() as texts_when_failed:
        response = api_as(curator).post(reverse("excerpt-list"), excerpt_body(corpus), format="json")

    assert response.status_code == 500
    assert texts_when_failed == [NEW_TEXT]
    assert database_state() == before
    assert not Excerpt.objects.filter(text=NEW_TEXT).exists()


@pytest.mark.parametrize("method", ["patch", "put"])
def test_a_change_whose_topic_links_fail_keeps_the_old_text_and_the_old_topics(
    corpus, second_topic, curator, api_as, method
):
    draft = corpus["draft"]
    before = database_state()

    # The new topics replace the old one: its link is deleted before the new one fails to be inserted.
    body = excerpt_body(corpus, topics=["de-stalinization"])

    with failing_topic_links() as texts_when_failed:
        response = getattr(api_as(curator), method)(
            reverse("excerpt-detail", kwargs={"pk": draft.pk}), body, format="json"
        )

    assert response.status_code == 500
    assert texts_when_failed == [NEW_TEXT]
    draft.refresh_from_db()
    assert draft.text == "The east wind prevails over the west wind."
    assert list(draft.topics.values_list("slug", flat=True)) == ["great-leap-forward"]
    assert database_state() == before


def test_a_new_excerpt_whose_history_entry_fails_is_not_written_at_all(corpus, second_topic, curator, api_as):
    before = database_state()

    with failing_excerpt_history() as history:
        response = api_as(curator).post(reverse("excerpt-list"), excerpt_body(corpus), format="json")

    assert response.status_code == 500
    # The history entry is written after the row and its topics: the row had an id when it failed.
    [recorded] = history.call_args.args[1]
    assert (recorded.text, recorded.pk is not None, history.call_args.kwargs["created"]) == (NEW_TEXT, True, True)
    assert database_state() == before


def test_a_patch_whose_history_entry_fails_keeps_the_old_text(corpus, second_topic, curator, api_as):
    published = corpus["published"]
    before = database_state()

    with failing_excerpt_history():
        response = api_as(curator).patch(
            reverse("excerpt-detail", kwargs={"pk": published.pk}),
            {"text": NEW_TEXT, "topics": ["de-stalinization"]},
            format="json",
        )

    assert response.status_code == 500
    published.refresh_from_db()
    assert (published.text, list(published.topics.all())) == ("the cult of the individual", [])
    assert database_state() == before


@pytest.mark.parametrize("action", ["create", "update"])
def test_an_excerpt_write_whose_answer_cannot_be_read_back_changes_nothing(
    corpus, second_topic, curator, api_as, action
):
    before = database_state()

    fault = InjectedFault("the database went away")
    with mock.patch.object(CuratedViewSet, "reread", autospec=True, side_effect=fault) as reread:
        if action == "create":
            response = api_as(curator).post(reverse("excerpt-list"), excerpt_body(corpus), format="json")
        else:
            url = reverse("excerpt-detail", kwargs={"pk": corpus["draft"].pk})
            response = api_as(curator).patch(url, excerpt_body(corpus), format="json")

    assert response.status_code == 500
    # The row and its links were saved when the re-read failed.
    assert reread.call_args.args[1].instance.text == NEW_TEXT
    assert database_state() == before


# The reference data too: a create, a change and a delete whose history entry fails leave no trace.

REFERENCE_KINDS = ["speaker", "source", "topic", "event"]

NEW = {
    "speaker": {"slug": "zhou-enlai", "name": "Zhou Enlai", "aliases": ["Chou En-lai"]},
    "source": {"slug": "red-flag", "title": "Red Flag", "kind": "newspaper"},
    "topic": {"slug": "communes", "name": "People's communes", "parent": "great-leap-forward"},
    "event": {"slug": "moscow-1957", "name": "Moscow Conference", "date": "1957-11"},
}
CHANGES = {
    "speaker": {"name": "N. S. Khrushchev"},
    "source": {"place": "Beijing"},
    "topic": {"name": "The Great Leap"},
    "event": {"place": "Moscow"},
}


def unused(corpus, basename):
    """A row of the kind that nothing refers to, so an admin may delete it."""
    return {
        "excerpt": lambda: corpus["draft"],
        "speaker": lambda: factories.speaker("liu-shaoqi", "Liu Shaoqi"),
        "source": lambda: factories.source("pravda", "Pravda", kind="newspaper"),
        "topic": lambda: factories.topic("communes", "People's communes"),
        "event": lambda: factories.event("moscow-1957", "Moscow Conference"),
    }[basename]()


def detail_url(basename, instance):
    lookup = "pk" if basename in ("excerpt", "source") else "slug"
    return reverse(f"{basename}-detail", kwargs={lookup: getattr(instance, lookup)})


def existing(corpus, basename):
    key = {"speaker": "khrushchev", "source": "daily", "topic": "topic", "event": "congress"}
    return corpus[key[basename]]


@pytest.mark.parametrize("basename", REFERENCE_KINDS)
def test_a_create_whose_history_entry_fails_writes_no_row(corpus, curator, api_as, basename):
    before = database_state()

    with failing_history() as history:
        response = api_as(curator).post(reverse(f"{basename}-list"), NEW[basename], format="json")

    assert response.status_code == 500
    assert history.call_args.args[2] == "+"
    assert database_state() == before


@pytest.mark.parametrize("basename", REFERENCE_KINDS)
def test_a_change_whose_history_entry_fails_keeps_the_old_values(corpus, curator, api_as, basename):
    instance = existing(corpus, basename)
    [(field, value)] = CHANGES[basename].items()
    old = getattr(instance, field)
    before = database_state()

    with failing_history() as history:
        response = api_as(curator).patch(detail_url(basename, instance), {field: value}, format="json")

    assert response.status_code == 500
    assert (getattr(history.call_args.args[1], field), history.call_args.args[2]) == (value, "~")
    instance.refresh_from_db()
    assert getattr(instance, field) == old
    assert database_state() == before


# Django's deletion collector already ran in a transaction of its own; the view's keeps it that way.
@pytest.mark.parametrize("basename", ["excerpt", *REFERENCE_KINDS])
def test_a_delete_whose_history_entry_fails_keeps_the_row(corpus, superuser, api_as, basename):
    instance = unused(corpus, basename)
    before = database_state()

    with failing_history() as history:
        response = api_as(superuser).delete(detail_url(basename, instance))

    assert response.status_code == 500
    assert history.call_args.args[2] == "-"
    assert type(instance).objects.filter(pk=instance.pk).exists()
    assert database_state() == before
