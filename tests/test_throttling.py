"""
Rate limits: per client IP for anonymous reads, a stricter scope for heavy requests, per user for curators; the
429 problem detail and the RateLimit-* headers; the client's address behind trusted proxies.

The throttles count in fixed windows of the clock; ``clock`` holds the time still, 42 seconds before a window ends.
"""

import io
import json

import pytest
from django.core.management import call_command
from django.test import RequestFactory
from django.urls import reverse
from rest_framework.test import APIClient

from excerpts.api import throttling
from excerpts.api.clients import client_ip
from tests import factories
from tests.test_settings import ROOT, run_python

pytestmark = pytest.mark.django_db

WINDOW_START = 60 * 29_000_000  # a minute boundary
PROBLEM_TYPE = "https://excerpts.invalid/problems/throttled"


class Clock:
    def __init__(self):
        self.now = WINDOW_START + 18.0


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(throttling.WindowRateThrottle, "timer", staticmethod(lambda: clock.now))
    return clock


@pytest.fixture
def rates(settings):
    """rates(anon=..., heavy=..., user=...) sets the limits; a scope left out has none."""

    def set_rates(**scopes):
        settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": scopes}

    return set_rates


@pytest.fixture
def published(db):
    mao = factories.speaker("mao-zedong", "Mao Zedong")
    factories.excerpt("A draft.", speaker=mao, status="draft")
    return factories.excerpt("Political power grows out of the barrel of a gun.", speaker=mao)


def limits_of(response):
    return tuple(response.headers.get(name) for name in ("RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"))


def test_anonymous_reads_are_limited_per_address_with_headers_on_every_answer_and_a_429_problem(
    published, clock, rates
):
    rates(anon="3/minute")
    client, url = APIClient(), reverse("excerpt-list")
    seen = [limits_of(client.get(url)) for _ in range(3)]
    assert seen == [("3", "2", "42"), ("3", "1", "42"), ("3", "0", "42")]

    refused = client.get(url)
    assert refused.status_code == 429
    assert refused["Content-Type"] == "application/problem+json"
    assert refused.json() == {
        "type": PROBLEM_TYPE,
        "title": "Too many requests",
        "status": 429,
        "detail": "Request was throttled. Expected available in 42 seconds.",
        "instance": url,
    }
    assert refused["Retry-After"] == "42"
    assert limits_of(refused) == ("3", "0", "42")

    # Another address has its own budget; the next window starts afresh.
    assert client.get(url, REMOTE_ADDR="198.51.100.9").status_code == 200
    clock.now += 42
    again = client.get(url)
    assert (again.status_code, limits_of(again)) == (200, ("3", "2", "60"))


def test_every_kind_of_answer_a_throttle_counted_carries_the_headers(published, clock, rates):
    rates(anon="10/minute")
    client = APIClient()
    bad = client.get(reverse("excerpt-list"), {"speakr": "mao"})
    missing = client.get(reverse("excerpt-detail", args=[10**9]))
    facets = client.get(reverse("excerpt-facets"))
    assert [(r.status_code, limits_of(r)) for r in (bad, missing, facets)] == [
        (400, ("10", "9", "42")),
        (404, ("10", "8", "42")),
        (200, ("10", "7", "42")),
    ]


def test_a_304_counts_and_says_where_the_client_stands_like_any_answer(published, clock, rates):
    rates(anon="10/minute")
    client, url = APIClient(), reverse("excerpt-list")
    etag = client.get(url)["ETag"]
    not_modified = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert (not_modified.status_code, limits_of(not_modified)) == (304, ("10", "8", "42"))


def test_a_spoofed_x_forwarded_for_does_not_give_a_fresh_budget_without_trusted_proxies(published, clock, rates):
    rates(anon="2/minute")
    client, url = APIClient(), reverse("excerpt-list")
    statuses = [client.get(url, HTTP_X_FORWARDED_FOR=f"203.0.113.{n}").status_code for n in range(1, 4)]
    assert statuses == [200, 200, 429]


def test_behind_a_trusted_proxy_each_forwarded_client_has_its_own_budget_whatever_it_claims(
    published, clock, rates, settings
):
    rates(anon="2/minute")
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    client, url = APIClient(), reverse("excerpt-list")

    def get(forwarded):
        return client.get(url, REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=forwarded).status_code

    # The client 203.0.113.7 prepends a different forged address each time; the proxy appends the real one.
    assert [get(f"192.0.2.{n}, 203.0.113.7") for n in range(3)] == [200, 200, 429]
    assert get("203.0.113.8") == 200


CLIENT_IP_CASES = [
    # (trusted proxies, REMOTE_ADDR, X-Forwarded-For, client)
    ([], "203.0.113.7", "192.0.2.1", "203.0.113.7"),
    (["10.0.0.1"], "203.0.113.7", "192.0.2.1", "203.0.113.7"),
    (["10.0.0.1"], "10.0.0.1", "192.0.2.1, 203.0.113.7", "203.0.113.7"),
    (["10.0.0.0/8"], "10.0.0.1", "192.0.2.1, 203.0.113.7, 10.0.0.5", "203.0.113.7"),
    (["10.0.0.0/8"], "10.0.0.1", "10.0.0.9, 10.0.0.5", "10.0.0.9"),
    (["10.0.0.1"], "10.0.0.1", "", "10.0.0.1"),
    (["10.0.0.1"], "10.0.0.1", "not-an-address, 203.0.113.7", "203.0.113.7"),
    (["10.0.0.1"], "10.0.0.1", "203.0.113.7, garbage", "10.0.0.1"),
    (["2001:db8::/48"], "2001:db8::1", "[2001:db8:ffff::1], 2001:db8::2", "2001:db8:ffff::1"),
    (["::1"], "::1", "::ffff:203.0.113.7", "203.0.113.7"),
]


@pytest.mark.parametrize(("trusted", "remote", "forwarded", "expected"), CLIENT_IP_CASES)
def test_the_client_address_is_the_right_most_one_no_trusted_proxy_vouches_for(
    settings, trusted, remote, forwarded, expected
):
    settings.TRUSTED_PROXIES = trusted
    request = RequestFactory().get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected


def test_the_schema_and_the_docs_pages_are_limited_too_and_refuse_in_json_not_yaml_or_html(clock, rates):
    rates(anon="1/minute")
    client = APIClient()
    assert client.get(reverse("swagger-ui")).status_code == 200
    for name in ("schema", "swagger-ui", "redoc"):
        refused = client.get(reverse(name))
        assert (refused.status_code, refused["Content-Type"], refused.json()["type"]) == (
            429,
            "application/problem+json",
            PROBLEM_TYPE,
        )


def test_exports_bibliographies_and_filtered_facets_count_against_the_heavy_limit_too(published, clock, rates):
    rates(anon="100/minute", heavy="2/minute")
    client = APIClient()
    heavy = [
        (reverse("excerpt-list"), {"format": "csv"}),
        (reverse("excerpt-facets"), {"speaker": "mao-zedong"}),
        (reverse("excerpt-cite-list"), {"style": "ris"}),
        (reverse("excerpt-list"), {"format": "jsonl"}),
    ]
    answers = [client.get(url, params) for url, params in heavy]
    assert [(r.status_code, limits_of(r)) for r in answers] == [
        (200, ("2", "1", "42")),
        (200, ("2", "0", "42")),
        (429, ("2", "0", "42")),
        (429, ("2", "0", "42")),
    ]
    # Light requests go on, counted against the anonymous limit alone (its 5th, 6th and 7th requests).
    light = [
        client.get(reverse("excerpt-list")),
        client.get(reverse("excerpt-facets")),
        client.get(reverse("excerpt-cite", args=[published.pk]), {"style": "ris"}),
    ]
    assert [(r.status_code, limits_of(r)) for r in light] == [
        (200, ("100", "95", "42")),
        (200, ("100", "94", "42")),
        (200, ("100", "93", "42")),
    ]


def test_a_refused_export_is_a_json_problem_not_a_csv_file(published, clock, rates):
    rates(anon="100/minute", heavy="1/minute")
    client = APIClient()
    assert client.get(reverse("excerpt-list"), {"format": "csv"})["Content-Type"].startswith("text/csv")
    refused = client.get(reverse("excerpt-list"), {"format": "csv"})
    assert (refused.status_code, refused["Content-Type"], refused["Retry-After"]) == (
        429,
        "application/problem+json",
        "42",
    )
    assert refused.json()["instance"] == reverse("excerpt-list") + "?format=csv"


def curator_token(username):
    out = io.StringIO()
    call_command("create_curator", username, stdout=out, stderr=io.StringIO())
    return out.getvalue().strip()


def test_curators_have_their_own_generous_limit_per_user_not_the_address(published, clock, rates):
    rates(anon="1/minute", heavy="1/minute", user="3/minute")
    anonymous = APIClient()
    assert anonymous.get(reverse("excerpt-list")).status_code == 200
    assert anonymous.get(reverse("excerpt-list")).status_code == 429

    alice, bob = APIClient(), APIClient()
    alice.credentials(HTTP_AUTHORIZATION=f"Token {curator_token('alice')}")
    bob.credentials(HTTP_AUTHORIZATION=f"Token {curator_token('bob')}")
    # Same address as the refused anonymous client; exports are no heavier for a curator.
    answers = [alice.get(reverse("excerpt-list"), {"format": "csv"}) for _ in range(4)]
    assert [(r.status_code, limits_of(r)) for r in answers] == [
        (200, ("3", "2", "42")),
        (200, ("3", "1", "42")),
        (200, ("3", "0", "42")),
        (429, ("3", "0", "42")),
    ]
    assert limits_of(bob.get(reverse("excerpt-list"))) == ("3", "2", "42")


def test_without_a_rate_a_scope_counts_nothing_and_sends_no_headers(published, clock, rates):
    rates()
    response = APIClient().get(reverse("excerpt-list"))
    assert response.status_code == 200
    assert limits_of(response) == (None, None, None)


def test_a_failing_cache_lifts_the_limits_rather_than_failing_the_requests(published, clock, rates, settings):
    rates(anon="1/minute")
    # Nothing listens on port 1: every cache call fails at once.
    settings.CACHES = {
        "default": {
            "BACKEND": "project.caches.CountingRedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 1},
        }
    }
    client = APIClient()
    answers = [client.get(reverse("excerpt-facets"), {"speaker": "mao-zedong"}) for _ in range(3)]
    assert [(r.status_code, r.json()["count"], limits_of(r)) for r in answers] == [(200, 1, (None, None, None))] * 3


def test_every_operation_documents_its_429_with_retry_after_and_the_rate_limit_headers():
    out = io.StringIO()
    call_command("spectacular", "--format", "openapi-json", stdout=out)
    document = json.loads(out.getvalue())
    operations = [
        (method, path, operation)
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
    ]
    assert len(operations) > 30
    for method, path, operation in operations:
        refused = operation["responses"]["429"]
        assert refused["content"]["application/problem+json"]["schema"]["$ref"] == "#/components/schemas/Problem"
        assert {name: header["required"] for name, header in refused["headers"].items()} == {
            "Retry-After": True,
            "RateLimit-Limit": True,
            "RateLimit-Remaining": True,
            "RateLimit-Reset": True,
        }, (method, path)
        # The first success, or the redirect to the newest dump.
        success = next(response for status, response in operation["responses"].items() if status[0] in "23")
        assert {"RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"} <= set(success["headers"]), (method, path)


SHOW_SETTINGS = (
    "from django.conf import settings as s; "
    "print(s.CACHES['default']['BACKEND'].rsplit('.', 1)[1], s.CACHES['default']['LOCATION'], "
    "s.REST_FRAMEWORK['DEFAULT_THROTTLE_RATES'], s.TRUSTED_PROXIES, s.CORS_CREDENTIALED_ORIGINS)"
)


def test_the_environment_picks_the_cache_the_rates_the_proxies_and_the_credentialed_origins(tmp_path):
    # DEBUG is named so that no secret key is needed, whatever the default.
    default = run_python(SHOW_SETTINGS, {"DJANGO_DEBUG": "true"})
    assert default.stdout.strip() == (
        f"LockingFileBasedCache {ROOT / '.cache'} "
        "{'anon': '120/minute', 'heavy': '20/minute', 'user': '600/minute'} [] []"
    ), default.stderr
    configured = run_python(
        SHOW_SETTINGS,
        {
            "DJANGO_DEBUG": "true",
            "REDIS_URL": "redis://127.0.0.1:6379/3",
            "DJANGO_RATE_LIMIT_ANON": "30/second",
            "DJANGO_RATE_LIMIT_HEAVY": "off",
            "DJANGO_TRUSTED_PROXIES": "127.0.0.1, 10.0.0.0/8",
            "DJANGO_CORS_CREDENTIALED_ORIGINS": "https://app.example.org,http://localhost:3000",
        },
    )
    assert configured.stdout.strip() == (
        "CountingRedisCache redis://127.0.0.1:6379/3 {'anon': '30/second', 'heavy': None, 'user': '600/minute'} "
        "['127.0.0.1', '10.0.0.0/8'] ['https://app.example.org', 'http://localhost:3000']"
    ), configured.stderr


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("DJANGO_RATE_LIMIT_ANON", "120 per minute", 'DJANGO_RATE_LIMIT_ANON must be a rate such as "120/minute"'),
        ("DJANGO_RATE_LIMIT_USER", "0/minute", 'DJANGO_RATE_LIMIT_USER must be a rate such as "120/minute"'),
        ("DJANGO_TRUSTED_PROXIES", "10.0.0.1, proxy.internal", "'proxy.internal' is not an IP address or network"),
        ("DJANGO_CORS_CREDENTIALED_ORIGINS", "app.example.org", "'app.example.org' is not an origin"),
        ("DJANGO_LOGIN_FAILURE_LIMIT", "five", "DJANGO_LOGIN_FAILURE_LIMIT must be a whole number"),
    ],
)
def test_a_setting_that_cannot_be_used_stops_the_start_with_a_message_naming_it(name, value, message):
    result = run_python("import django; django.setup()", {"DJANGO_DEBUG": "true", name: value})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr


@pytest.mark.parametrize(
    ("name", "light"),
    [
        ("excerpt-export-csv", False),
        ("excerpt-export-jsonl", False),
        ("excerpt-cite-list-bib", False),
        ("excerpt-cite-txt", True),  # one excerpt's citation is a light read
    ],
)
def test_the_format_operations_count_against_the_heavy_limit_as_their_older_forms_do(
    published, clock, rates, name, light
):
    rates(anon="100/minute", heavy="1/minute")
    client = APIClient()
    url = reverse(name, kwargs={"pk": published.pk} if light else {})
    answers = [client.get(url) for _ in range(2)]
    assert [answer.status_code for answer in answers] == ([200, 200] if light else [200, 429])
    assert answers[1]["Content-Type"] == ("text/plain; charset=utf-8" if light else "application/problem+json")
