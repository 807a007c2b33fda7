"""The write API: who may do what (a permission matrix), and every kind of bad write refused by name."""

import pytest
from django.urls import reverse

from excerpts.models import Event, Excerpt, Source, Speaker, Topic
from tests import factories

pytestmark = pytest.mark.django_db


def refused_names(response):
    return sorted(error["name"] for error in response.json()["errors"])


# The permission matrix: anonymous, an authenticated user without permissions, curator, admin.


@pytest.mark.parametrize(("role", "expected"), [("anonymous", 401), ("reader", 403), ("curator", 201), ("admin", 201)])
def test_creating_an_excerpt_needs_the_add_permission(corpus, users, client_as, role, expected):
    response = client_as(users[role]).post(reverse("excerpt-list"), factories.excerpt_body(corpus), format="json")

    assert response.status_code == expected
    assert Excerpt.objects.filter(text__startswith="Imperialism").count() == (1 if expected == 201 else 0)


@pytest.mark.parametrize(("role", "expected"), [("anonymous", 401), ("reader", 403), ("curator", 200), ("admin", 200)])
def test_changing_an_excerpt_needs_the_change_permission(corpus, users, client_as, role, expected):
    url = reverse("excerpt-detail", kwargs={"pk": corpus["published"].pk})

    response = client_as(users[role]).patch(url, {"locator": "p. 7"}, format="json")

    assert response.status_code == expected
    corpus["published"].refresh_from_db()
    assert corpus["published"].locator == ("p. 7" if expected == 200 else "")


@pytest.mark.parametrize(("role", "expected"), [("anonymous", 401), ("reader", 403), ("curator", 403), ("admin", 204)])
def test_only_admins_delete_excerpts(corpus, users, client_as, role, expected):
    url = reverse("excerpt-detail", kwargs={"pk": corpus["published"].pk})

    response = client_as(users[role]).delete(url)

    assert response.status_code == expected
    assert Excerpt.objects.filter(pk=corpus["published"].pk).exists() == (expected != 204)


@pytest.mark.parametrize(("role", "expected"), [("anonymous", 404), ("reader", 404), ("curator", 200), ("admin", 200)])
def test_a_draft_is_a_404_to_everyone_but_curators_and_admins(corpus, users, client_as, role, expected):
    response = client_as(users[role]).get(reverse("excerpt-detail", kwargs={"pk": corpus["draft"].pk}))

    assert response.status_code == expected
    if expected == 200:
        assert response.json()["status"] == "draft"


@pytest.mark.parametrize(
    ("role", "expected_texts"),
    [
        ("anonymous", ["the cult of the individual"]),
        ("reader", ["the cult of the individual"]),
        ("curator", ["the cult of the individual", "The east wind prevails over the west wind."]),
        ("admin", ["the cult of the individual", "The east wind prevails over the west wind."]),
    ],
)
def test_the_excerpt_list_shows_drafts_only_to_curators_and_admins(corpus, users, client_as, role, expected_texts):
    response = client_as(users[role]).get(reverse("excerpt-list"))

    assert response.status_code == 200
    assert [item["text"] for item in response.json()["results"]] == expected_texts


def test_curators_filter_excerpts_by_status(corpus, curator, client_as):
    response = client_as(curator).get(reverse("excerpt-list"), {"status": "draft"})

    assert [item["id"] for item in response.json()["results"]] == [corpus["draft"].pk]


def test_anonymous_users_asking_for_drafts_get_none(corpus, client_as):
    response = client_as(None).get(reverse("excerpt-list"), {"status": "draft"})

    assert response.status_code == 200
    assert response.json()["count"] == 0


def test_the_anonymous_representation_has_no_curation_fields(corpus, client_as):
    body = client_as(None).get(reverse("excerpt-detail", kwargs={"pk": corpus["published"].pk})).json()

    assert not {"status", "created", "updated"} & set(body)
    assert body["speaker"]["slug"] == "nikita-khrushchev"


REFERENCE_WRITES = [
    (
        "speaker",
        Speaker,
        "slug",
        {"slug": "zhou-enlai", "name": "Zhou Enlai", "aliases": ["Chou En-lai"], "born": "1898-03-05"},
        {"description": "Premier of the PRC."},
    ),
    (
        "source",
        Source,
        "pk",
        {"slug": "red-flag", "title": "Red Flag", "kind": "newspaper", "date": "1958"},
        {"place": "Beijing"},
    ),
    ("topic", Topic, "slug", {"slug": "communes", "name": "People's communes", "parent": "great-leap-forward"}, {}),
    ("event", Event, "slug", {"slug": "moscow-1957", "name": "Moscow Conference", "date": "1957-11"}, {}),
]


@pytest.mark.parametrize(("basename", "model", "lookup", "body", "change"), REFERENCE_WRITES)
def test_curators_create_and_change_reference_data_and_admins_delete_it(
    corpus, curator, superuser, client_as, basename, model, lookup, body, change
):
    created = client_as(curator).post(reverse(f"{basename}-list"), body, format="json")
    assert created.status_code == 201, created.json()
    instance = model.objects.get(slug=body["slug"])
    detail = reverse(f"{basename}-detail", kwargs={lookup: getattr(instance, lookup)})

    change = change or {"name": "Renamed"}
    changed = client_as(curator).patch(detail, change, format="json")
    assert changed.status_code == 200
    instance.refresh_from_db()
    assert {field: getattr(instance, field) for field in change} == change

    assert client_as(curator).delete(detail).status_code == 403
    assert client_as(superuser).delete(detail).status_code == 204
    assert not model.objects.filter(slug=body["slug"]).exists()


def test_a_created_excerpt_gets_its_date_bounds_and_is_answered_as_curators_read_it(corpus, curator, client_as):
    response = client_as(curator).post(
        reverse("excerpt-list"),
        factories.excerpt_body(corpus, date="1958-22", event="twentieth-party-congress"),
        format="json",
    )

    assert response.status_code == 201
    body = response.json()
    assert (body["date_start"], body["date_end"], body["date_display"]) == ("1958-06-01", "1958-08-31", "summer 1958")
    assert body["status"] == "draft"
    assert body["topics"] == [{"slug": "great-leap-forward", "name": "Great Leap Forward"}]
    assert body["event"]["slug"] == "twentieth-party-congress"


def test_put_replaces_every_field_of_an_excerpt(corpus, curator, client_as):
    url = reverse("excerpt-detail", kwargs={"pk": corpus["draft"].pk})
    body = factories.excerpt_body(corpus, topics=[], status="published", quoted_in=corpus["speech"].pk)

    response = client_as(curator).put(url, body, format="json")

    assert response.status_code == 200, response.json()
    corpus["draft"].refresh_from_db()
    assert corpus["draft"].text.startswith("Imperialism")
    assert corpus["draft"].status == "published"
    assert corpus["draft"].quoted_in == corpus["speech"]
    assert list(corpus["draft"].topics.all()) == []


def test_a_token_from_create_curator_authenticates_writes(corpus, client_as):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("create_curator", "tokenuser", stdout=out, stderr=StringIO())
    client = client_as(None)
    client.credentials(HTTP_AUTHORIZATION=f"Token {out.getvalue().strip()}")

    response = client.post(reverse("excerpt-list"), factories.excerpt_body(corpus), format="json")

    assert response.status_code == 201


def test_a_wrong_token_is_a_401_problem(corpus, client_as):
    client = client_as(None)
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")

    response = client.post(reverse("excerpt-list"), factories.excerpt_body(corpus), format="json")

    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"


# Bad writes: each one a 400 problem detail naming the field, and nothing written.


@pytest.mark.parametrize(
    ("overrides", "field", "reason_part"),
    [
        ({"text": 1958}, "text", "Must be a string, not a number"),
        ({"locator": True}, "locator", "Must be a string, not a boolean"),
        ({"language": ["zh"]}, "language", "Must be a string, not an array"),
        ({"date": 1958}, "date", "Must be a string, not a number"),
        ({"date": "1958-13"}, "date", "is not a valid EDTF date"),
        ({"date": "1958/.."}, "date", "cannot be computed"),
        ({"text": ""}, "text", "may not be blank"),
        ({"text": "   "}, "text", "may not be blank"),
        ({"speaker": "nobody"}, "speaker", "No speaker has the slug nobody"),
        ({"speaker": 3}, "speaker", "Must be the slug of a speaker (a string), not a number"),
        ({"topics": ["great-leap-forward", "nope"]}, "topics", "No topic has the slug nope"),
        ({"event": "no-such-event"}, "event", "No event has the slug no-such-event"),
        ({"source": "1"}, "source", "Expected pk value, received str"),
        ({"source": 999999}, "source", "does not exist"),
        ({"kind": "poem"}, "kind", "is not a valid choice"),
        ({"language": "Chinese"}, "language", "BCP 47"),
        ({"status": "deleted"}, "status", "is not a valid choice"),
    ],
)
def test_a_bad_field_is_a_400_naming_it_and_nothing_is_written(
    corpus, curator, client_as, overrides, field, reason_part
):
    before = Excerpt.objects.count()

    response = client_as(curator).post(
        reverse("excerpt-list"), factories.excerpt_body(corpus, **overrides), format="json"
    )

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    errors = {error["name"]: error["reason"] for error in response.json()["errors"]}
    assert list(errors) == [field]
    assert reason_part in errors[field]
    assert Excerpt.objects.count() == before


def test_unknown_fields_are_refused_by_name_not_dropped(corpus, curator, client_as):
    body = factories.excerpt_body(corpus, speakr="mao-zedong", date_start="1900-01-01")

    response = client_as(curator).post(reverse("excerpt-list"), body, format="json")

    assert response.status_code == 400
    assert refused_names(response) == ["date_start", "speakr"]
    assert "Unknown or read-only field" in response.json()["errors"][0]["reason"]
    assert not Excerpt.objects.filter(text__startswith="Imperialism").exists()


def test_every_bad_field_of_a_body_is_named_at_once(corpus, curator, client_as):
    body = factories.excerpt_body(corpus, text=5, date="someday", colour="red")

    response = client_as(curator).post(reverse("excerpt-list"), body, format="json")

    assert refused_names(response) == ["colour", "date", "text"]


def test_a_missing_required_field_is_named(corpus, curator, client_as):
    body = factories.excerpt_body(corpus)
    del body["speaker"]

    response = client_as(curator).post(reverse("excerpt-list"), body, format="json")

    assert response.status_code == 400
    assert refused_names(response) == ["speaker"]


def test_a_patch_with_a_bad_value_changes_nothing(corpus, curator, client_as):
    url = reverse("excerpt-detail", kwargs={"pk": corpus["published"].pk})

    response = client_as(curator).patch(url, {"locator": "p. 9", "date": "not a date"}, format="json")

    assert response.status_code == 400
    assert refused_names(response) == ["date"]
    corpus["published"].refresh_from_db()
    assert (corpus["published"].locator, corpus["published"].date) == ("", "1956-02-25")


def test_a_body_that_is_not_an_object_is_a_400(corpus, curator, client_as):
    response = client_as(curator).post(reverse("excerpt-list"), [factories.excerpt_body(corpus)], format="json")

    assert response.status_code == 400
    assert response.json()["errors"][0]["name"] == "non_field_errors"


def test_a_duplicate_speaker_slug_is_a_400(corpus, curator, client_as):
    response = client_as(curator).post(
        reverse("speaker-list"), {"slug": "mao-zedong", "name": "Mao again"}, format="json"
    )

    assert response.status_code == 400
    assert refused_names(response) == ["slug"]
    assert Speaker.objects.filter(slug="mao-zedong").count() == 1


def test_speaker_aliases_must_be_distinct_strings(corpus, curator, client_as):
    response = client_as(curator).post(
        reverse("speaker-list"), {"slug": "zhou", "name": "Zhou", "aliases": ["Chou", 5]}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["name"] == "aliases.1"


def test_a_topic_cannot_become_its_own_ancestor(corpus, curator, client_as):
    child = factories.topic("backyard-furnaces", "Backyard furnaces", parent=corpus["topic"])
    url = reverse("topic-detail", kwargs={"slug": "great-leap-forward"})

    response = client_as(curator).patch(url, {"parent": child.slug}, format="json")

    assert response.status_code == 400
    assert refused_names(response) == ["parent"]


@pytest.mark.parametrize(
    ("basename", "key", "lookup"),
    [
        ("speaker", "mao", "slug"),
        ("source", "daily", "pk"),
        ("event", "congress", "slug"),
        ("topic", "topic", "slug"),
    ],
)
def test_deleting_reference_data_still_in_use_is_a_409_and_deletes_nothing(
    corpus, superuser, client_as, basename, key, lookup
):
    instance = corpus[key]
    if basename == "topic":
        factories.topic("communes", "Communes", parent=instance)

    response = client_as(superuser).delete(reverse(f"{basename}-detail", kwargs={lookup: getattr(instance, lookup)}))

    assert response.status_code == 409
    assert response["Content-Type"] == "application/problem+json"
    referrer = "topic" if basename == "topic" else "excerpt"
    assert response.json()["detail"] == (
        f"{instance} cannot be deleted while in use by 1 {referrer}. Reassign or delete them first."
    )
    assert type(instance).objects.filter(pk=instance.pk).exists()


def test_deleting_an_unused_speaker_is_a_204(corpus, superuser, client_as):
    unused = factories.speaker("liu-shaoqi", "Liu Shaoqi")

    response = client_as(superuser).delete(reverse("speaker-detail", kwargs={"slug": unused.slug}))

    assert response.status_code == 204
    assert not Speaker.objects.filter(slug="liu-shaoqi").exists()
