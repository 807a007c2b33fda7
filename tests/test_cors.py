"""
CORS on the API: any origin reads anonymously (Access-Control-Allow-Origin: *, no credentials); only configured
origins may send cookies; preflights allow Authorization and Content-Type; nothing outside /api/ takes part.
"""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

ELSEWHERE = "https://quotes.example.net"
LISTED = "https://app.example.org"


@pytest.fixture(autouse=True)
def credentialed_origins(settings):
    settings.CORS_CREDENTIALED_ORIGINS = [LISTED]


def header_list(response, name):
    return [item.strip() for item in response.get(name, "").split(",") if item.strip()]


def preflight(client, origin, method="POST", headers="authorization, content-type"):
    return client.options(
        reverse("excerpt-list"),
        HTTP_ORIGIN=origin,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD=method,
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS=headers,
    )


def test_a_read_from_any_origin_is_allowed_without_credentials_and_exposes_the_rate_limit_headers(client):
    response = client.get(reverse("excerpt-list"), HTTP_ORIGIN=ELSEWHERE)
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "*"
    assert not response.has_header("Access-Control-Allow-Credentials")
    assert "origin" in [name.lower() for name in header_list(response, "Vary")]
    assert {"RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset", "Retry-After"} <= set(
        header_list(response, "Access-Control-Expose-Headers")
    )


def test_a_preflight_from_any_origin_allows_authorization_and_content_type_but_not_credentials(client):
    response = preflight(client, ELSEWHERE)
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "*"
    assert not response.has_header("Access-Control-Allow-Credentials")
    assert {"authorization", "content-type"} <= set(header_list(response, "Access-Control-Allow-Headers"))
    assert {"GET", "POST", "PUT", "PATCH", "DELETE"} <= set(header_list(response, "Access-Control-Allow-Methods"))
    assert response["Access-Control-Max-Age"] == "86400"


def test_a_configured_origin_gets_its_own_origin_back_with_credentials_allowed(client):
    for response in (client.get(reverse("excerpt-list"), HTTP_ORIGIN=LISTED), preflight(client, LISTED, "GET")):
        assert response["Access-Control-Allow-Origin"] == LISTED
        assert response["Access-Control-Allow-Credentials"] == "true"
        assert "origin" in [name.lower() for name in header_list(response, "Vary")]


def test_an_origin_that_only_resembles_a_configured_one_gets_no_credentials(client):
    for origin in (LISTED + ".evil.example", "http://app.example.org", LISTED + ":8443"):
        response = client.get(reverse("excerpt-list"), HTTP_ORIGIN=origin)
        assert response["Access-Control-Allow-Origin"] == "*", origin
        assert not response.has_header("Access-Control-Allow-Credentials"), origin


def test_errors_and_throttled_answers_carry_the_cors_headers_so_a_page_can_read_them(client, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"anon": "1/minute"}}
    client.get(reverse("excerpt-list"), HTTP_ORIGIN=ELSEWHERE)
    refused = client.get(reverse("excerpt-list"), HTTP_ORIGIN=ELSEWHERE)
    unknown = client.get("/api/v1/nothing-here/", HTTP_ORIGIN=ELSEWHERE)
    assert [(r.status_code, r["Access-Control-Allow-Origin"]) for r in (refused, unknown)] == [(429, "*"), (404, "*")]


def test_nothing_outside_the_api_takes_part(client):
    login = reverse("admin:login")
    for origin in (ELSEWHERE, LISTED):
        read = client.get(login, HTTP_ORIGIN=origin)
        asked = client.options(login, HTTP_ORIGIN=origin, HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST")
        assert not read.has_header("Access-Control-Allow-Origin")
        assert not asked.has_header("Access-Control-Allow-Origin")
