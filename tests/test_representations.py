"""
The public excerpt representation read as plain rows (excerpts/api/representations.py) is ExcerptSerializer's,
value for value: on the seed corpus, on excerpts shaped to reach every branch, with format suffixes and
highlights, and through HTTP on both engines.
"""

import json

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models.signals import post_init
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from excerpts.api import representations
from excerpts.api.serializers import ExcerptSerializer
from excerpts.models import Excerpt, Source
from tests import factories


def serialized(excerpts, request, format=None, highlights=None):
    context = {"request": request, "format": format, "highlights": highlights or {}}
    return ExcerptSerializer(excerpts, many=True, context=context).data


def read(excerpts, request, format=None, highlights=None):
    links = representations.Links(request, format)
    return representations.excerpts([excerpt.pk for excerpt in excerpts], links, highlights)


def drf_request(path="/api/v1/excerpts/", **headers):
    return Request(APIRequestFactory().get(path, **headers))


@pytest.fixture
def varied(db):
    """Excerpts reaching every branch: no event, a quoted-in source, URLs present and absent, several topics."""
    speaker = factories.speaker("zhou-enlai", "Zhou Enlai")
    book = factories.source(
        "memoir", "A Memoir", author="Someone Else", place="Beijing", publisher="Foreign Languages Press", date="1960"
    )
    paper = factories.source("paper", "People's Daily", kind=Source.Kind.NEWSPAPER, url="https://example.org/paper")
    plenum = factories.event("plenum", "Lushan Plenum", date="1959-07/1959-08")
    # Two topics of the same name: the order is by name, then id.
    topics = [
        factories.topic("zeta", "Zeta"),
        factories.topic("alpha-2", "Alpha"),
        factories.topic("alpha-1", "Alpha"),
    ]
    return [
        factories.excerpt("plain", speaker=speaker, source=book),
        factories.excerpt(
            "with everything",
            speaker=speaker,
            source=paper,
            event=plenum,
            quoted_in=book,
            locator="pp. 12-13",
            quoted_in_locator="p. 4",
            topics=topics,
            kind=Excerpt.Kind.LETTER,
            date="1959-07~",
            original_text="原文",
            translator="A Translator",
            context="Said at the plenum.\nA second line.",
        ),
        factories.excerpt("declared", speaker=speaker, source=paper, kind=Excerpt.Kind.DECLARATION, date="195X"),
    ]


def test_every_seed_excerpt_reads_as_the_serializer_shows_it(db):
    call_command("load_seed_corpus", verbosity=0)
    excerpts = list(Excerpt.objects.with_related().order_by("id"))
    assert len(excerpts) >= 30
    request = drf_request()
    assert read(excerpts, request) == serialized(excerpts, request)


def test_each_branch_reads_as_the_serializer_shows_it(varied, settings):
    settings.ALLOWED_HOSTS = ["api.example.org"]
    excerpts = list(Excerpt.objects.with_related().filter(pk__in=[e.pk for e in varied]).order_by("id"))
    request = drf_request(HTTP_HOST="api.example.org")
    highlights = {varied[1].pk: "with <mark>everything</mark>"}
    rows = read(excerpts, request, highlights=highlights)
    assert rows == serialized(excerpts, request, highlights=highlights)
    assert [topic["slug"] for topic in rows[1]["topics"]] == ["alpha-2", "alpha-1", "zeta"]
    assert rows[1]["highlight"] == "with <mark>everything</mark>"
    assert rows[0]["event"] is None and rows[0]["quoted_in"] is None and rows[0]["source"]["url"] is None
    assert rows[1]["url"] == f"http://api.example.org/api/v1/excerpts/{varied[1].pk}/"


def test_links_carry_a_format_suffix_as_the_hyperlinked_fields_do(varied):
    excerpts = list(Excerpt.objects.with_related().filter(pk=varied[1].pk))
    request = drf_request()
    rows = read(excerpts, request, format="json")
    assert rows == serialized(excerpts, request, format="json")
    assert rows[0]["speaker"]["url"].endswith("/api/v1/speakers/zhou-enlai.json")


def test_excerpts_come_in_the_order_of_their_ids_and_missing_ids_are_left_out(varied):
    links = representations.Links(drf_request())
    ids = [varied[2].pk, 10**9, varied[0].pk]
    assert [row["id"] for row in representations.excerpts(ids, links)] == [varied[2].pk, varied[0].pk]
    assert representations.excerpts([], links) == []


def test_pages_and_details_over_http_match_the_serializer(client, varied):
    excerpts = list(Excerpt.objects.with_related().order_by("date_start", "id"))
    response = client.get(reverse("excerpt-list"))
    request = Request(response.wsgi_request)
    assert response.json()["results"] == serialized(excerpts, request)
    for excerpt in excerpts:
        detail = client.get(reverse("excerpt-detail", args=[excerpt.pk]))
        assert detail.json() == serialized([excerpt], Request(detail.wsgi_request))[0]


def test_a_draft_is_not_found_by_the_public_and_read_by_its_curator(curator_client, varied):
    draft = factories.excerpt("not yet", status=Excerpt.Status.DRAFT)
    url = reverse("excerpt-detail", args=[draft.pk])
    public = Client()
    assert public.get(url).status_code == 404
    assert public.get(reverse("excerpt-list")).json()["count"] == len(varied)
    body = curator_client.get(url).json()
    assert body["status"] == "draft" and body["text"] == "not yet"


def test_a_detail_costs_three_queries_with_no_filter_set_built_nor_model_read(client, varied):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("excerpt-detail", args=[varied[1].pk]))
    assert response.status_code == 200
    # data version + its row (if published) + its topics
    assert len(queries) == 3, [query["sql"] for query in queries]


@pytest.mark.parametrize(
    "query", [{}, {"ordering": "-speaker", "page_size": 2}, {"kind": "letter"}, {"q": "plain"}, {"date_after": "1950"}]
)
def test_a_public_page_makes_no_excerpt_instance_and_a_curators_page_makes_one_per_row(curator_client, varied, query):
    # The public's page is read as ids and sort keys and represented from plain rows; a curator's is serialized.
    made = []

    def count(sender, instance, **kwargs):
        made.append(instance.pk)

    post_init.connect(count, sender=Excerpt, weak=False, dispatch_uid="count-excerpts")
    try:
        public = Client().get(reverse("excerpt-list"), query)
        public_made = len(made)
        curated = curator_client.get(reverse("excerpt-list"), query)
    finally:
        post_init.disconnect(sender=Excerpt, dispatch_uid="count-excerpts")
    assert public.status_code == curated.status_code == 200
    assert public_made == 0
    results = public.json()["results"]
    assert results
    # A curator's page is read as instances: the page and one row more, if there is one (is there a next page?).
    assert len(made) == min(curated.json()["count"], query.get("page_size", 20) + 1)
    assert [row["id"] for row in results] == [row["id"] for row in curated.json()["results"]]


def test_a_detail_still_answers_400_to_an_unknown_parameter(client, varied):
    response = client.get(reverse("excerpt-detail", args=[varied[0].pk]), {"speakr": "x"})
    assert response.status_code == 400
    assert [error["name"] for error in response.json()["errors"]] == ["speakr"]


def test_a_curators_export_shows_drafts_with_their_status_and_plain_links(curator_client, varied):
    draft = factories.excerpt("not yet", status=Excerpt.Status.DRAFT)
    response = curator_client.get(reverse("excerpt-list"), {"format": "jsonl"})
    lines = [json.loads(line) for line in b"".join(response.streaming_content).splitlines()]
    by_id = {line["id"]: line for line in lines}
    assert by_id[draft.pk]["status"] == "draft" and by_id[varied[0].pk]["status"] == "published"
    assert all("created" in line and "updated" in line for line in lines)
    assert by_id[draft.pk]["url"].endswith(f"/api/v1/excerpts/{draft.pk}/")


@pytest.mark.parametrize("query", [{}, {"q": "with"}, {"ordering": "-speaker"}])
def test_a_public_export_makes_no_excerpt_instance_and_keeps_the_lists_order(client, varied, query):
    made = []
    post_init.connect(lambda instance, **kw: made.append(instance.pk), sender=Excerpt, weak=False, dispatch_uid="m")
    try:
        response = client.get(reverse("excerpt-list"), {**query, "format": "jsonl"})
        lines = [json.loads(line) for line in b"".join(response.streaming_content).splitlines()]
    finally:
        post_init.disconnect(sender=Excerpt, dispatch_uid="m")
    assert made == []
    page = client.get(reverse("excerpt-list"), query).json()["results"]
    assert [line["id"] for line in lines] == [row["id"] for row in page] and lines


def test_a_public_export_has_no_curator_fields(client, varied):
    response = client.get(reverse("excerpt-list"), {"format": "jsonl"})
    lines = [json.loads(line) for line in b"".join(response.streaming_content).splitlines()]
    assert len(lines) == len(varied)
    assert not any("status" in line for line in lines)


# Representations kept per data version in the process (representations.FRAGMENTS)


@pytest.fixture
def unrepeated(settings):
    """Every read runs its view: no whole answer is kept (response_cache.py), so what a read costs is its own."""
    settings.API_RESPONSE_CACHE = False


def statements(client, url, query=None):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, query or {})
    assert response.status_code == 200, response.content
    return response.json(), [query["sql"] for query in queries]


def test_a_page_or_excerpt_read_again_at_the_same_version_reads_no_row(client, varied, unrepeated):
    page, first = statements(client, reverse("excerpt-list"))
    again, second = statements(client, reverse("excerpt-list"))
    assert again == page
    # The version, the count, the page's ids and sort keys, its rows and their topics; then the version and the
    # page alone (the count is cached, the representations kept).
    assert len(first) == 5 and len(second) == 2
    assert second[1] == first[2]
    detail, sql = statements(client, reverse("excerpt-detail", args=[varied[1].pk]))
    assert detail == page["results"][[row["id"] for row in page["results"]].index(varied[1].pk)]
    assert len(sql) == 1  # the data version alone


def test_a_write_by_any_path_is_seen_by_the_next_read(client, varied, unrepeated):
    url = reverse("excerpt-detail", args=[varied[1].pk])
    assert statements(client, url)[0]["text"] == "with everything"
    Excerpt.objects.filter(pk=varied[1].pk).update(text="changed by the ORM")
    assert statements(client, url)[0]["text"] == "changed by the ORM"
    with connection.cursor() as cursor:
        cursor.execute("UPDATE excerpts_excerpt SET text = %s WHERE id = %s", ["changed in SQL", varied[1].pk])
    assert statements(client, url)[0]["text"] == "changed in SQL"
    # Reference data the representation shows: the speaker's name, a topic of the excerpt.
    varied[1].speaker.name = "Zhou En-lai"
    varied[1].speaker.save()
    varied[1].topics.remove(*varied[1].topics.filter(slug="zeta"))
    page = statements(client, reverse("excerpt-list"))[0]["results"]
    assert {row["speaker"]["name"] for row in page} == {"Zhou En-lai"}
    assert [topic["slug"] for topic in statements(client, url)[0]["topics"]] == ["alpha-2", "alpha-1"]
    Excerpt.objects.filter(pk=varied[1].pk).update(status=Excerpt.Status.DRAFT)
    assert client.get(url).status_code == 404


def test_a_highlight_is_the_requests_own(client, varied, unrepeated):
    searched = statements(client, reverse("excerpt-list"), {"q": "everything"})[0]["results"]
    assert [row["highlight"] for row in searched] == ["with <mark>everything</mark>"]
    listed = statements(client, reverse("excerpt-list"))[0]["results"]
    assert [row["highlight"] for row in listed] == [None, None, None]
    assert representations.FRAGMENTS.entries  # the search's excerpt was kept, without its highlight
    assert all(kept["highlight"] is None for kept in representations.FRAGMENTS.entries.values())


def test_links_are_those_of_each_requests_host_and_format(client, varied, unrepeated, settings):
    settings.ALLOWED_HOSTS = ["testserver", "api.example.org"]
    url = reverse("excerpt-detail", args=[varied[1].pk])
    assert statements(client, url)[0]["url"] == f"http://testserver{url}"
    other = client.get(url, HTTP_HOST="api.example.org").json()
    assert other["url"] == f"http://api.example.org{url}"
    assert other["speaker"]["url"] == "http://api.example.org/api/v1/speakers/zhou-enlai/"
    suffixed = client.get(f"/api/v1/excerpts/{varied[1].pk}.json").json()
    assert suffixed["url"] == f"http://testserver/api/v1/excerpts/{varied[1].pk}.json"
    assert statements(client, url)[0]["url"] == f"http://testserver{url}"


def test_the_oldest_goes_once_the_bound_is_reached(client, varied, unrepeated, settings):
    settings.API_FRAGMENTS = 2
    for excerpt in varied:
        statements(client, reverse("excerpt-detail", args=[excerpt.pk]))
    assert [key[-1] for key in representations.FRAGMENTS.entries] == [varied[1].pk, varied[2].pk]
    # The first is read again from the database, and the next oldest makes way for it.
    assert len(statements(client, reverse("excerpt-detail", args=[varied[0].pk]))[1]) == 3
    assert [key[-1] for key in representations.FRAGMENTS.entries] == [varied[2].pk, varied[0].pk]
    # None kept: each read is made anew, whatever was kept before.
    settings.API_FRAGMENTS = 0
    for excerpt in (varied[1], varied[2]):
        assert len(statements(client, reverse("excerpt-detail", args=[excerpt.pk]))[1]) == 3
    assert [key[-1] for key in representations.FRAGMENTS.entries] == [varied[2].pk, varied[0].pk]


def test_an_export_keeps_none(client, varied, unrepeated):
    response = client.get(reverse("excerpt-list"), {"format": "jsonl"})
    assert len(b"".join(response.streaming_content).splitlines()) == len(varied)
    assert representations.FRAGMENTS.entries == {}
