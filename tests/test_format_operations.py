"""
Each text format has an operation of its own, whose 200 declares that one media type: export.csv and export.jsonl,
{id}.jsonld, and cite.json, cite.bib, cite.ris and cite.txt on an excerpt and on the list. Each answers exactly as
the older URL with a parameter does, which keeps working.
"""

import pytest
from django.urls import reverse

from tests import factories

pytestmark = pytest.mark.django_db

CITATIONS = {"json": "csl-json", "bib": "bibtex", "ris": "ris", "txt": "chicago"}


@pytest.fixture
def excerpts():
    mao = factories.speaker("mao-zedong", "Mao Zedong")
    works = factories.source("selected-works", "Selected Works", author="Mao Zedong", place="Beijing", date="1977")
    return [
        factories.excerpt("The east wind prevails over the west wind.", speaker=mao, source=works, locator="p. 3"),
        factories.excerpt("Imperialism is a paper tiger.", speaker=mao, source=works, date="1956", kind="quotation"),
        factories.excerpt("Words of somebody else."),
    ]


def body(response):
    return b"".join(response.streaming_content) if response.streaming else response.content


@pytest.mark.parametrize(
    ("name", "older", "media_type"),
    [
        ("excerpt-export-csv", {"format": "csv"}, "text/csv; charset=utf-8"),
        ("excerpt-export-jsonl", {"format": "jsonl"}, "application/jsonl"),
    ],
)
def test_an_export_operation_answers_as_the_list_with_its_format(client, excerpts, name, older, media_type):
    filters = {"speaker": "mao-zedong", "ordering": "-date"}
    response = client.get(reverse(name), filters)
    assert (response.status_code, response["Content-Type"]) == (200, media_type)
    assert response["Excerpt-Count"] == "2"
    listed = client.get(reverse("excerpt-list"), {**filters, **older})
    exported = body(response)
    assert exported == body(listed)
    assert response["Content-Disposition"] == listed["Content-Disposition"]
    assert "The east wind prevails" in exported.decode()


def test_the_csv_export_takes_bom_and_the_json_lines_export_refuses_it(client, excerpts):
    with_mark = client.get(reverse("excerpt-export-csv"), {"bom": "true"})
    assert body(with_mark).startswith("\ufeffid,".encode())
    refused = client.get(reverse("excerpt-export-jsonl"), {"bom": "true"})
    assert (refused.status_code, refused["Content-Type"]) == (400, "application/problem+json")
    assert refused.json()["errors"][0]["name"] == "bom"


def test_an_export_operation_refuses_another_format_and_unknown_parameters_as_problems(client, excerpts):
    response = client.get(reverse("excerpt-export-csv"), {"format": "jsonl"})
    assert response.status_code == 400
    assert response.json()["errors"] == [{"name": "format", "reason": "Unknown format. Use one of: csv."}]
    unknown = client.get(reverse("excerpt-export-jsonl"), {"style": "ris"})
    assert (unknown.status_code, unknown.json()["errors"][0]["name"]) == (400, "style")


def test_a_head_of_an_export_operation_has_its_headers_and_no_body(client, excerpts):
    response = client.head(reverse("excerpt-export-csv"))
    assert (response.status_code, response["Content-Type"]) == (200, "text/csv; charset=utf-8")
    assert body(response) == b""


@pytest.mark.parametrize("extension", list(CITATIONS))
def test_a_citation_operation_answers_as_cite_with_its_style(client, excerpts, extension):
    excerpt = excerpts[0]
    response = client.get(reverse(f"excerpt-cite-{extension}", kwargs={"pk": excerpt.pk}))
    older = client.get(reverse("excerpt-cite", kwargs={"pk": excerpt.pk}), {"style": CITATIONS[extension]})
    assert response.status_code == older.status_code == 200
    assert response.content == older.content
    assert response["Content-Type"] == older["Content-Type"]
    assert "Selected Works" in response.content.decode()
    assert response["Content-Disposition"] == f'inline; filename="citations.{extension}"'


@pytest.mark.parametrize("extension", list(CITATIONS))
def test_a_bibliography_operation_answers_as_the_list_cite_with_its_style(client, excerpts, extension):
    filters = {"speaker": "mao-zedong"}
    response = client.get(reverse(f"excerpt-cite-list-{extension}"), filters)
    older = client.get(reverse("excerpt-cite-list"), {**filters, "style": CITATIONS[extension]})
    assert response.status_code == older.status_code == 200
    assert response.content == older.content
    assert response.content.decode().count("Selected Works") == 2
    assert "somebody else" not in response.content.decode()


def test_a_citation_operation_takes_no_style_and_answers_404_for_a_missing_excerpt(client, excerpts):
    styled = client.get(reverse("excerpt-cite-bib", kwargs={"pk": excerpts[0].pk}), {"style": "ris"})
    assert (styled.status_code, styled.json()["errors"][0]["name"]) == (400, "style")
    missing = client.get(reverse("excerpt-cite-bib", kwargs={"pk": excerpts[-1].pk + 1000}))
    assert (missing.status_code, missing["Content-Type"]) == (404, "application/problem+json")


def test_the_json_ld_operation_answers_as_the_detail_with_format_jsonld(client, excerpts):
    excerpt = excerpts[0]
    response = client.get(reverse("excerpt-linked-data", kwargs={"pk": excerpt.pk}))
    older = client.get(reverse("excerpt-detail", kwargs={"pk": excerpt.pk}), {"format": "jsonld"})
    assert (response.status_code, response["Content-Type"]) == (200, "application/ld+json")
    assert response.json() == older.json()
    assert response.json()["@type"] == "Quotation"
    draft = factories.excerpt("Not yet published.", status="draft")
    assert client.get(reverse("excerpt-linked-data", kwargs={"pk": draft.pk})).status_code == 404


def test_every_operation_of_the_schema_declares_one_media_type_for_each_success(client):
    document = client.get(reverse("schema"), {"format": "json"}).json()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if status.startswith("2") and "content" in response:
                    assert len(response["content"]) == 1, f"{method} {path} {status}: {list(response['content'])}"
    formatted = {
        "/api/v1/excerpts/export.csv": "text/csv",
        "/api/v1/excerpts/export.jsonl": "application/jsonl",
        "/api/v1/excerpts/{id}.jsonld": "application/ld+json",
        "/api/v1/excerpts/{id}/cite.bib": "application/x-bibtex",
        "/api/v1/excerpts/cite.ris": "application/x-research-info-systems",
        "/api/v1/excerpts/cite.txt": "text/plain",
        "/api/v1/excerpts/{id}/cite.json": "application/vnd.citationstyles.csl+json",
    }
    for path, media_type in formatted.items():
        assert list(document["paths"][path]["get"]["responses"]["200"]["content"]) == [media_type], path
