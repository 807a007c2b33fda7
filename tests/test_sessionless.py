"""
Reads of the API without a cookie skip the browser session (api/sessionless.py): Django's session middleware
never runs for them, and their answers are the ones a request with a cookie but no session gets, header for
header; a cookie, a write, the admin and the site's pages keep the session as before.
"""

import pytest
from django.contrib.sessions.middleware import SessionMiddleware
from django.urls import reverse

from tests import factories
from tests.test_repeated_reads import headers_of
from tests.test_response_cache import reads

pytestmark = pytest.mark.django_db


@pytest.fixture
def sessions_loaded(monkeypatch):
    """The paths of the requests Django's session middleware loaded a session for."""
    paths = []
    original = SessionMiddleware.process_request

    def process_request(self, request):
        paths.append(request.path)
        return original(self, request)

    monkeypatch.setattr(SessionMiddleware, "process_request", process_request)
    return paths


@pytest.fixture
def no_kept_answers(settings):
    settings.API_RESPONSE_CACHE = False  # every read runs the whole stack, with its session or without


def requests(corpus):
    """The data API's reads, a missing excerpt, a refused format, an OPTIONS and the documentation pages."""
    missing = reverse("excerpt-detail", args=[corpus["published"].pk + 10_000])
    detail = reverse("excerpt-detail", args=[corpus["published"].pk])
    return [
        *[("get", url, query, {}) for url, query in reads(corpus)],
        ("get", missing, {}, {}),
        ("get", detail, {}, {"HTTP_ACCEPT": "text/html"}),
        ("head", detail, {}, {}),
        ("options", detail, {}, {}),
        ("get", reverse("swagger-ui"), {}, {}),
    ]


def test_a_read_without_a_cookie_loads_no_session_and_gets_the_same_answer(
    client, corpus, sessions_loaded, no_kept_answers
):
    for method, url, query, extra in requests(corpus):
        plain = getattr(client, method)(url, query, **extra)
        assert sessions_loaded == [], url
        # A cookie that is not a session's: the session middleware runs and finds no session.
        client.cookies["unrelated"] = "1"
        with_cookie = getattr(client, method)(url, query, **extra)
        del client.cookies["unrelated"]
        assert sessions_loaded == [url], url
        sessions_loaded.clear()
        assert plain.status_code == with_cookie.status_code, url
        assert plain.content == with_cookie.content, url
        assert headers_of(plain) == headers_of(with_cookie), url
        assert not plain.cookies, url


def test_a_read_that_consults_the_user_varies_on_cookie(client, corpus, no_kept_answers):
    # DRF authenticated the caller, which reads the session when there is one: a cache must not give this answer
    # to a caller who sends a session cookie.
    response = client.get(reverse("excerpt-detail", args=[corpus["published"].pk]))
    assert "Cookie" in [value.strip() for value in response["Vary"].split(",")]


def test_a_session_cookie_still_signs_a_curator_in(client, corpus, curator, sessions_loaded, no_kept_answers):
    client.force_login(curator)
    draft = reverse("excerpt-detail", args=[corpus["draft"].pk])
    response = client.get(draft)
    assert response.status_code == 200 and response.json()["status"] == "draft"
    assert sessions_loaded == [draft]
    client.logout()
    assert client.get(draft).status_code == 404


def test_writes_the_admin_and_pages_keep_their_session(client, corpus, curator, sessions_loaded):
    token = factories.api_client(curator)  # a token, no cookie: a write still goes through the session middleware
    created = token.post(reverse("topic-list"), {"slug": "a-new-topic", "name": "A new topic"}, format="json")
    assert created.status_code == 201, created.content
    assert sessions_loaded == [reverse("topic-list")]
    sessions_loaded.clear()
    admin = client.get(reverse("admin:index"))
    assert admin.status_code == 302 and sessions_loaded == [reverse("admin:index")]
    sessions_loaded.clear()
    client.get("/")
    assert sessions_loaded == ["/"]
