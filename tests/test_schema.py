"""The OpenAPI schema: valid, complete, and honoured by every operation (property-based, in process)."""

import io
import os
import re

import pytest
import schemathesis
import yaml
from django.core import signals
from django.core.management import call_command
from django.db import close_old_connections
from django.templatetags.static import static
from django.urls import reverse
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from excerpts.api import dumps
from project.wsgi import application
from tests import factories

# The default run is derandomized, so CI checks the same cases every time; a failure it finds is a
# real one, never luck. HYPOTHESIS_PROFILE=explore draws fresh, more numerous cases to hunt for bugs.
settings.register_profile("default", max_examples=25, derandomize=True, database=None)
settings.register_profile("explore", max_examples=300)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

schema = schemathesis.openapi.from_wsgi(reverse("schema") + "?format=json", application)
# The coverage phase enumerates thousands of boundary combinations of the excerpt list's thirteen
# parameters (minutes per run); random fuzzing with more examples finds the same classes of bug.
schema.config.phases.coverage.enabled = False


@pytest.fixture
def in_process_requests():
    """Keep the test's database connection open across requests, as Django's test client does.

    schemathesis calls the WSGI application directly, so request_finished would otherwise close the
    connection that holds the test's transaction (PostgreSQL then answers "the connection is closed").
    """
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def generous_rate_limits(settings):
    """
    Hypothesis sends each operation dozens of requests in one test, more heavy ones than a client may send in a
    minute: the limits are raised so that every case reaches the view. Their headers stay, checked against the
    schema; tests/test_throttling.py checks the limits themselves.
    """
    rates = {"anon": "100000/minute", "heavy": "100000/minute", "user": "100000/minute"}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}


@pytest.fixture
def dated_excerpts(db, in_process_requests, generous_rate_limits):
    mao = factories.speaker("mao-zedong", "Mao Zedong", aliases=["Mao Tse-tung"])
    leap = factories.topic("great-leap-forward", "Great Leap Forward")
    event = factories.event("wuchang-conference", "Wuchang Conference", date="1958-11")
    for date in ("1958", "1958-22", "1956-02-25", "1957/1958"):
        factories.excerpt(speaker=mao, topics=[leap], event=event, date=date)
    dumps.build()  # so that latest/ redirects to a file (before any build it is a 503 with Retry-After)


@schema.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_honours_the_schema_and_never_answers_500(case, dated_excerpts):
    # Input that fits the schema may still be refused on purpose: a slug nobody has, an empty date
    # range, a cursor not made by the server. So a 400 for it is no failure; everything else is checked.
    # Identity encoding: schemathesis's WSGI transport does not decode gzip (compression: test_http_caching.py).
    case.call_and_validate(headers={"Accept-Encoding": "identity"}, excluded_checks=[positive_data_acceptance])


def generated_schema():
    output = io.StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=output)
    return yaml.safe_load(output.getvalue())


def test_the_schema_validates_without_warnings_and_documents_every_operation():
    document = generated_schema()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            assert operation.get("summary"), f"{method} {path} has no summary"
            assert operation.get("description"), f"{method} {path} has no description"
            takes_input = "requestBody" in operation or any(
                p["in"] == "query" for p in operation.get("parameters", [])
            )
            if takes_input or method == "delete":
                assert "400" in operation["responses"], f"{method} {path} does not document 400"
            if "{" in path:
                assert "404" in operation["responses"], f"{method} {path} does not document 404"
            for parameter in operation.get("parameters", []):
                assert parameter.get("description"), f"{parameter['name']} of {method} {path} has no description"


def test_operations_are_grouped_by_resource_under_the_tags_the_schema_describes():
    document = generated_schema()
    described = [tag["name"] for tag in document["tags"]]
    tagged = {}
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            assert len(operation["tags"]) == 1, f"{method} {path}"
            tagged.setdefault(operation["tags"][0], set()).add(path)
    assert sorted(tagged) == sorted(described)  # no tag without operations, no operation under an undescribed tag
    assert reverse("excerpt-facets") in tagged["excerpts"]
    assert reverse("excerpt-cite", args=[9]).replace("/9/", "/{id}/") in tagged["excerpts"]
    assert tagged["speakers"] == {
        reverse("speaker-list"),
        reverse("speaker-detail", args=["x"]).replace("/x/", "/{slug}/"),
    }
    assert reverse("dump-list") in tagged["dumps"]


def test_summaries_say_an_before_a_vowel():
    summaries = {
        operation["operationId"]: operation["summary"]
        for operations in generated_schema()["paths"].values()
        for operation in operations.values()
    }
    assert summaries["v1_excerpts_create"] == "Create an excerpt (curators)"
    assert summaries["v1_events_partial_update"] == "Change some fields of an event (curators)"
    assert summaries["v1_speakers_destroy"] == "Delete a speaker (admins)"
    assert [summary for summary in summaries.values() if re.search(r"\ba [aeiou]", summary)] == []


def test_the_excerpt_list_documents_its_filters_with_types():
    parameters = {
        parameter["name"]: parameter
        for parameter in generated_schema()["paths"][reverse("excerpt-list")]["get"]["parameters"]
    }
    assert set(parameters) == {
        "If-None-Match",  # every GET's (test_http_caching.py)
        "_",  # the cache-buster, ignored (test_links_and_redirects.py)
        "attribution",
        "bom",
        "cursor",
        "date_after",
        "date_before",
        "event",
        "format",
        "kind",
        "language",
        "ordering",
        "page_size",
        "q",
        "source",
        "speaker",
        "status",
        "topic",
    }
    assert parameters["page_size"]["schema"] == {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}
    assert parameters["source"]["schema"]["items"]["type"] == "integer"
    assert parameters["speaker"]["schema"]["type"] == "array"
    assert parameters["ordering"]["schema"]["enum"] == ["-date", "-speaker", "date", "relevance", "speaker"]
    assert parameters["q"]["schema"]["maxLength"] == 200
    assert parameters["format"]["schema"]["enum"] == ["json"]  # the files have operations of their own
    assert parameters["bom"]["schema"] == {"type": "boolean", "default": False}


def test_errors_are_documented_as_problem_details_and_enums_are_named():
    document = generated_schema()
    bad_request = document["paths"][reverse("excerpt-list")]["get"]["responses"]["400"]
    assert bad_request["content"]["application/problem+json"]["schema"]["$ref"] == "#/components/schemas/Problem"
    assert {"ExcerptKindEnum", "AttributionEnum", "SpeakerKindEnum", "SourceKindEnum"} <= set(
        document["components"]["schemas"]
    )
    example = document["components"]["schemas"]
    assert "Excerpt" in example


@pytest.mark.django_db
def test_schema_is_served_as_yaml_and_json_and_the_docs_pages_load_their_assets_locally(client):
    assert client.get(reverse("schema")).status_code == 200
    as_json = client.get(reverse("schema") + "?format=json")
    assert as_json.json()["info"]["title"] == "Historical Excerpts API"
    for page in ("swagger-ui", "redoc"):
        html = client.get(reverse(page)).content.decode()
        assert static("drf_spectacular_sidecar/") in html
        assert "cdn.jsdelivr" not in html
        assert re.findall(r'(?:src|href)="(?:[a-z]+:)?//', html) == []  # nothing from another host, fonts included
        assert "fonts.googleapis" not in html
    assert client.get(static("drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")).status_code == 200
