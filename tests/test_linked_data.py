"""An excerpt as JSON-LD: a schema.org Quotation, checked by a JSON-LD processor over seed excerpts."""

import io

import pytest
from django.core.management import call_command
from django.urls import reverse
from pyld import jsonld

from excerpts.api import linked_data
from excerpts.models import Excerpt

SCHEMA = "http://schema.org/"
EDTF = "http://id.loc.gov/datatypes/edtf/EDTF"
LD = "application/ld+json"


pytestmark = pytest.mark.django_db


@pytest.fixture
def seed(db):
    call_command("load_seed_corpus", stdout=io.StringIO())


def offline_loader(url, options=None):
    """
    schema.org's context, as far as these documents use it (its vocabulary is http://schema.org/), without the
    network: the test reads our terms, not schema.org's site.
    """
    assert url.rstrip("/") in ("https://schema.org", "http://schema.org"), url
    return {
        "contextUrl": None,
        "documentUrl": url,
        "document": {"@context": {"@vocab": SCHEMA, "schema": SCHEMA}},
    }


def detail(pk):
    return reverse("excerpt-detail", kwargs={"pk": pk})


def fetch(client, pk, **headers):
    response = client.get(detail(pk), HTTP_ACCEPT=LD, **headers)
    assert response.status_code == 200
    assert response["Content-Type"] == LD
    return response.json()


def expanded(document):
    """The document expanded by a JSON-LD processor: full IRIs, every value a list."""
    [node] = jsonld.expand(document, {"documentLoader": offline_loader})
    return node


def value(node, term):
    return [item.get("@value", item.get("@id")) for item in node[SCHEMA + term]]


def test_an_excerpt_expands_as_a_schema_org_quotation_with_its_speaker_sources_and_topics(client, seed):
    document = fetch(client, 1)
    node = expanded(document)
    assert node["@type"] == [SCHEMA + "Quotation"]
    assert node["@id"] == "http://testserver" + detail(1)
    assert value(node, "text") == ["peaceful economic competition"]
    assert value(node, "inLanguage") == ["en"]
    [creator] = node[SCHEMA + "creator"]
    assert creator["@type"] == [SCHEMA + "Person"]
    assert creator["@id"] == "http://testserver" + reverse("speaker-detail", kwargs={"slug": "georgy-malenkov"})
    assert value(creator, "name") == ["Georgy Malenkov"]
    [based_on] = node[SCHEMA + "isBasedOn"]
    assert based_on["@type"] == [SCHEMA + "Book"]
    assert value(based_on, "name") == ["Reviewing and Reconsidering the History of Sino-Soviet Relations"]
    assert value(based_on, "author") == ["Zhihua Shen"]
    assert value(based_on, "datePublished") == ["2016"]
    [part_of] = node[SCHEMA + "isPartOf"]
    assert value(part_of, "name") == ["Brothers No More: China & Russia Under Mao and Khrushchev"]
    assert [topic["@id"] for topic in node[SCHEMA + "about"]] == [
        "http://testserver" + reverse("topic-detail", kwargs={"slug": "peaceful-coexistence"})
    ]
    [original] = node[SCHEMA + "translationOfWork"]
    assert value(original, "inLanguage") == ["ru"]


def test_a_ranged_date_is_a_literal_typed_as_edtf(client, seed):
    node = expanded(fetch(client, 1))  # 1953-03/1956-02: between March 1953 and February 1956
    assert node[SCHEMA + "dateCreated"] == [{"@type": EDTF, "@value": "1953-03/1956-02"}]


@pytest.mark.parametrize(
    ("pk", "created"),
    [
        (2, "1956-02-25"),  # the day of the secret speech: the bounds agree
        (16, "1956-02"),  # a month
        (13, "1958"),  # a year
    ],
)
def test_a_day_month_or_year_is_given_as_an_iso_date(client, seed, pk, created):
    excerpt = Excerpt.objects.get(pk=pk)
    assert fetch(client, pk)["dateCreated"] == created
    assert (excerpt.date_start == excerpt.date_end) == (len(created) == 10)


@pytest.mark.parametrize(("pk", "edtf"), [(7, "1956?"), (20, "1958-22"), (23, "1958-36"), (27, "1958/1971")])
def test_an_uncertain_seasonal_or_interval_date_keeps_its_edtf(client, seed, pk, edtf):
    assert fetch(client, pk)["dateCreated"] == {"@type": EDTF, "@value": edtf}


def test_a_body_is_an_organization_and_a_newspaper_a_publication_issue(client, seed):
    document = fetch(client, 8)  # the People's Daily editorial of 29 December 1956
    assert document["creator"]["@type"] == "Organization"
    assert document["isBasedOn"]["@type"] == "PublicationIssue"
    assert document["dateCreated"] == "1956-12-29"


def test_a_paraphrase_says_so_and_an_occasion_is_where_it_was_recorded(client, seed):
    document = fetch(client, 16)
    assert document["genre"] == ["Report", "Paraphrase (summary of a stated position)"]
    assert document["recordedAt"]["name"] == "Twentieth Congress of the CPSU"
    assert document["creator"]["alternateName"] == ["Nikita Sergeevich Khrushchev"]


def test_the_work_that_quotes_it_is_is_part_of_and_without_one_the_source_is(client, seed):
    quoted = fetch(client, 20)  # Jones both prints and quotes it
    assert quoted["isBasedOn"] == quoted["isPartOf"]
    excerpt = Excerpt.objects.get(pk=3)
    excerpt.quoted_in = None
    excerpt.save()
    alone = fetch(client, 3)
    assert alone["isPartOf"] == alone["isBasedOn"]
    assert alone["isBasedOn"]["@id"].endswith(reverse("source-detail", kwargs={"pk": excerpt.source_id}))


def test_the_original_text_and_the_translator_are_given_when_known(client, seed):
    excerpt = Excerpt.objects.get(pk=6)
    excerpt.original_text, excerpt.translator = "斯大林的错误", "Foreign Languages Press"
    excerpt.save()
    document = fetch(client, 6)
    assert document["translationOfWork"]["text"] == "斯大林的错误"
    assert document["translationOfWork"]["inLanguage"] == "zh"
    assert document["translator"] == "Foreign Languages Press"


def test_format_jsonld_answers_like_the_accept_header(client, seed):
    by_query = client.get(detail(2), {"format": "jsonld"})
    assert by_query["Content-Type"] == LD
    assert by_query.json() == fetch(client, 2)


def test_every_seed_excerpt_expands_with_its_own_text_and_speaker(client, seed):
    for excerpt in Excerpt.objects.select_related("speaker"):
        node = expanded(fetch(client, excerpt.pk))
        assert value(node, "text") == [excerpt.text]
        assert value(node[SCHEMA + "creator"][0], "name") == [excerpt.speaker.name]


def test_json_and_json_ld_of_one_excerpt_have_different_etags_and_each_its_own_304(client, seed):
    json_answer = client.get(detail(2))
    ld_answer = client.get(detail(2), HTTP_ACCEPT=LD)
    query_answer = client.get(detail(2), {"format": "jsonld"})
    assert len({json_answer["ETag"], ld_answer["ETag"], query_answer["ETag"]}) == 3
    for response in (json_answer, ld_answer):
        assert "Accept" in response["Vary"]
        assert response["Cache-Control"] == "public, max-age=60"
    revalidated = client.get(detail(2), HTTP_ACCEPT=LD, HTTP_IF_NONE_MATCH=ld_answer["ETag"])
    assert revalidated.status_code == 304
    assert client.get(detail(2), HTTP_IF_NONE_MATCH=ld_answer["ETag"]).status_code == 200


def test_a_repeated_read_gets_each_format_back_as_it_was(client, seed):
    first = [client.get(detail(3), HTTP_ACCEPT=accept) for accept in (LD, "application/json")]
    again = [client.get(detail(3), HTTP_ACCEPT=accept) for accept in (LD, "application/json")]
    for before, after in zip(first, again, strict=True):
        assert (after["Content-Type"], after.content) == (before["Content-Type"], before.content)
    assert first[0]["Content-Type"] == LD and first[1]["Content-Type"] == "application/json"


def test_a_write_changes_the_json_ld_etag(client, seed):
    before = client.get(detail(4), HTTP_ACCEPT=LD)["ETag"]
    Excerpt.objects.filter(pk=4).update(context="Changed.")
    assert client.get(detail(4), HTTP_ACCEPT=LD)["ETag"] != before


def test_a_missing_excerpt_in_json_ld_is_a_404_problem(client, seed):
    response = client.get(detail(999999), {"format": "jsonld"})
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["status"] == 404


def test_the_list_has_no_json_ld(client, seed):
    response = client.get(reverse("excerpt-list"), {"format": "jsonld"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["name"] == "format"


def test_a_curator_gets_json_ld_of_a_draft(curator_client, seed):
    excerpt = Excerpt.objects.get(pk=5)
    excerpt.status = Excerpt.Status.DRAFT
    excerpt.save()
    document = curator_client.get(detail(5), HTTP_ACCEPT=LD).json()
    assert document["text"] == excerpt.text


def test_plain_dates_pass_and_others_are_typed():
    assert linked_data.date_created("1958-07") == "1958-07"
    assert linked_data.date_created("1958-07~") == {"@type": EDTF, "@value": "1958-07~"}


def test_a_curator_and_the_public_get_the_same_json_ld_of_a_published_excerpt(client, curator_client, seed):
    for pk in (1, 8, 16):
        assert curator_client.get(detail(pk), HTTP_ACCEPT=LD).json() == fetch(client, pk)
