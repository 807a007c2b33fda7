"""The OpenAPI schema documents every write operation with each status a client can get."""

import pytest
from drf_spectacular.generators import SchemaGenerator

WRITE_STATUSES = {
    ("post", "/api/v1/{plural}/"): {"201", "400", "401", "403", "413", "429", "415", "503"},
    ("put", "/api/v1/{plural}/{{{key}}}/"): {"200", "400", "401", "403", "404", "413", "429", "415", "503"},
    ("patch", "/api/v1/{plural}/{{{key}}}/"): {"200", "400", "401", "403", "404", "413", "429", "415", "503"},
    ("delete", "/api/v1/{plural}/{{{key}}}/"): {"204", "400", "401", "403", "404", "409", "429", "503"},
}
RESOURCES = [("excerpts", "id"), ("speakers", "slug"), ("sources", "id"), ("topics", "slug"), ("events", "slug")]


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


@pytest.mark.parametrize(("plural", "key"), RESOURCES)
def test_every_write_operation_documents_its_statuses_with_problem_details(schema, plural, key):
    for (method, template), statuses in WRITE_STATUSES.items():
        operation = schema["paths"][template.format(plural=plural, key=key)][method]
        assert set(operation["responses"]) == statuses, (method, plural)
        for status in statuses - {"200", "201", "204"}:
            content = operation["responses"][status]["content"]
            assert content["application/problem+json"]["schema"]["$ref"] == "#/components/schemas/Problem"


def test_the_excerpt_history_is_documented_for_curators(schema):
    operation = schema["paths"]["/api/v1/excerpts/{id}/history/"]["get"]

    assert set(operation["responses"]) == {"200", "304", "401", "403", "404", "429", "503"}
    item = operation["responses"]["200"]["content"]["application/json"]["schema"]["items"]["$ref"]
    assert item == "#/components/schemas/HistoryEntry"


def test_writes_accept_token_authentication(schema):
    assert schema["components"]["securitySchemes"]["tokenAuth"]["type"] == "apiKey"
