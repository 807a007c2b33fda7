"""
Query parameters as the OpenAPI schema documents them and as the API answers them: one rule for an empty value,
walked over every parameter of every GET operation of the generated schema.
"""

import io

import jsonschema
import pytest
import yaml
from django.core.management import call_command
from django.urls import reverse

from excerpts.api.filters import EMPTY_VALUE, REPEATED_VALUE
from tests import factories


@pytest.fixture(scope="module")
def document():
    output = io.StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=output)
    return yaml.safe_load(output.getvalue())


@pytest.fixture
def generous_rate_limits(settings):
    """Each parameter is asked for twice per operation: more requests than the anonymous rate allows in a minute."""
    rates = {"anon": "100000/minute", "heavy": "100000/minute", "user": "100000/minute"}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}


def query_parameters(document):
    """(path, parameter) for every query parameter of every GET operation."""
    found = [
        (path, parameter)
        for path, operations in document["paths"].items()
        for parameter in operations.get("get", {}).get("parameters", [])
        if parameter["in"] == "query"
    ]
    assert len(found) > 60  # the excerpt list's fifteen, the facets', the reference lists'...
    return found


def fill(path, corpus):
    """The path with its parameters filled with objects that exist."""
    values = {
        "/api/v1/excerpts/{id}/": corpus["published"].pk,
        "/api/v1/sources/{id}/": corpus["speech"].pk,
        "/api/v1/speakers/{slug}/": corpus["khrushchev"].slug,
        "/api/v1/topics/{slug}/": corpus["topic"].slug,
        "/api/v1/events/{slug}/": corpus["congress"].slug,
    }
    for template, value in values.items():
        prefix = template.rsplit("{", 1)[0]
        if path.startswith(prefix) and "{" in path:
            name = path[len(prefix) :].split("}", 1)[0].lstrip("{")
            return path.replace(f"{{{name}}}", str(value), 1)
    assert "{" not in path, f"no value for the path parameters of {path}"
    return path


def test_every_query_parameter_of_the_schema_says_an_empty_value_is_refused_and_its_schema_refuses_one(document):
    for path, parameter in query_parameters(document):
        where = f"{parameter['name']} of GET {path}"
        assert parameter["description"].endswith(EMPTY_VALUE), where
        schema = parameter["schema"]
        empty = [""] if schema.get("type") == "array" else ""
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(empty, schema)
            pytest.fail(f"the schema of {where} accepts an empty value")


@pytest.mark.parametrize("empty", ["", "  "], ids=["empty", "spaces"])
def test_every_query_parameter_of_every_get_operation_answers_an_empty_value_with_a_400_naming_it(
    empty, document, corpus, generous_rate_limits
):
    client = factories.api_client()
    for path, parameter in query_parameters(document):
        name = parameter["name"]
        response = client.get(fill(path, corpus), {name: empty})
        assert response.status_code == 400, f"{name}={empty!r} on {path}: {response.status_code}"
        assert response["Content-Type"] == "application/problem+json"
        assert response.json()["errors"] == [{"name": name, "reason": EMPTY_VALUE}], f"{name} on {path}"


def test_an_empty_value_is_refused_beside_good_ones_and_a_repeated_parameter_with_one_empty_value_too(corpus):
    client = factories.api_client()
    response = client.get(reverse("excerpt-list") + "?speaker=nikita-khrushchev&date_before=&q=cult")
    assert response.status_code == 400
    assert response.json()["errors"] == [{"name": "date_before", "reason": EMPTY_VALUE}]
    response = client.get(reverse("excerpt-list") + "?speaker=nikita-khrushchev&speaker=")
    assert response.json()["errors"] == [{"name": "speaker", "reason": EMPTY_VALUE}]
    # Not given at all, the same filters answer.
    response = client.get(reverse("excerpt-list"), {"speaker": "nikita-khrushchev", "q": "cult"})
    assert [excerpt["id"] for excerpt in response.json()["results"]] == [corpus["published"].pk]


def test_no_parameter_carries_an_example_that_swagger_ui_would_fill_in_as_its_value(document):
    # Swagger UI's "Try it out" starts a parameter at its example: a date_before or q example filtered every request
    # sent from the page. Examples are given in the descriptions' prose instead.
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                where = f"{parameter['name']} of {method} {path}"
                schema = parameter.get("schema", {})
                assert not {"example", "examples"} & set(parameter), where
                assert "example" not in schema and "example" not in schema.get("items", {}), where
    excerpt_list = document["paths"][reverse("excerpt-list")]["get"]["parameters"]
    described = {parameter["name"]: parameter["description"] for parameter in excerpt_list}
    assert "1958-07" in described["date_before"]
    assert "commune" in described["q"]


def test_a_parameter_of_one_value_given_twice_is_a_400_naming_it_and_a_list_parameter_takes_several(
    document, corpus, generous_rate_limits
):
    # A QueryDict reads the last of repeated values: page_size=[]&page_size=1 answered 200, its first value unchecked.
    client = factories.api_client()
    several = 0
    for path, parameter in query_parameters(document):
        name = parameter["name"]
        url = fill(path, corpus) + f"?{name}=x&{name}=y"
        response = client.get(url)
        assert response.status_code == 400, f"{url}: {response.status_code}"
        reasons = {error["name"]: error["reason"] for error in response.json()["errors"]}
        if parameter["schema"].get("type") == "array":
            several += 1  # a list: the values are checked one by one, and "x" is none of them
            assert reasons.get(name) != REPEATED_VALUE, url
        else:
            assert reasons == {name: REPEATED_VALUE}, url
    assert several >= 5
    both = client.get(reverse("excerpt-list"), {"speaker": ["nikita-khrushchev", "mao-zedong"]})
    assert both.status_code == 200 and both.json()["count"] >= 1


def test_a_repeated_page_size_or_cursor_is_refused_even_where_the_filters_were_checked_before(corpus):
    # The excerpt list keeps its filtered queryset per filters (position and size aside), so a second request with the
    # same filters skips the filter backend's checks: the paginator checks its own parameters.
    client = factories.api_client()
    assert client.get(reverse("excerpt-list"), {"page_size": 5}).status_code == 200
    for name in ("page_size", "cursor"):
        response = client.get(reverse("excerpt-list") + f"?{name}=1&{name}=2")
        assert response.status_code == 400
        assert response.json()["errors"] == [{"name": name, "reason": REPEATED_VALUE}]
