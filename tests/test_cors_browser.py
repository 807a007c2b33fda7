"""
CORS in a real browser: pages served from other origins fetch the API (a live server) in headless Chromium.

An anonymous fetch from any origin succeeds; a fetch with the curator's session cookie is blocked by the browser
from an origin that is not configured and allowed from one that is; a token in the Authorization header passes the
preflight from any origin. Skipped without chromium, as tests/test_browser.py is (which see).
"""

import http.server
import threading
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from tests import factories
from tests.test_browser import headless_chromium

PUBLISHED = "Imperialism and all reactionaries are paper tigers."
DRAFT = "A draft only curators see."
PAGE = b"<!doctype html><title>another origin</title><p>A page on another origin.</p>"
FETCH = """
async ({url, credentials, headers}) => {
    try {
        const response = await fetch(url, {credentials, headers});
        const body = await response.json();
        return {
            status: response.status,
            texts: body.results.map((excerpt) => excerpt.text).sort(),
            limit: response.headers.get("RateLimit-Limit"),
        };
    } catch (error) {
        return {error: `${error.name}: ${error.message}`};
    }
}
"""


class PageHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(PAGE)))
        self.end_headers()
        self.wfile.write(PAGE)

    def log_message(self, format, *args):
        pass


@pytest.fixture
def page_origins():
    """Two origins serving a page (another port each): the first not configured for CORS credentials."""
    servers = [http.server.ThreadingHTTPServer(("127.0.0.1", 0), PageHandler) for _ in range(2)]
    threads = [threading.Thread(target=server.serve_forever, daemon=True) for server in servers]
    for thread in threads:
        thread.start()
    try:
        yield [f"http://localhost:{server.server_address[1]}" for server in servers]
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()


@pytest.fixture
def chromium():
    with headless_chromium() as browser:
        yield browser


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_page_on_another_origin_reads_anonymously_and_sends_cookies_only_from_a_configured_origin(
    live_server, chromium, page_origins, curator, settings
):
    unlisted, listed = page_origins
    settings.CORS_CREDENTIALED_ORIGINS = [listed]
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "50/hour", "user": "70/hour"},
    }
    mao = factories.speaker("mao-zedong", "Mao Zedong")
    factories.excerpt(PUBLISHED, speaker=mao)
    factories.excerpt(DRAFT, speaker=mao, status="draft")
    session = Client()
    session.force_login(curator)
    token = StringIO()
    call_command("create_curator", "token-holder", stdout=token, stderr=StringIO())

    context = chromium.new_context()
    context.add_cookies(
        [{"name": "sessionid", "value": session.cookies["sessionid"].value, "url": live_server.url, "sameSite": "Lax"}]
    )
    api = live_server.url + reverse("excerpt-list")

    def fetch_from(origin, credentials, headers=None):
        page = context.new_page()
        try:
            page.goto(origin + "/")
            return page.evaluate(FETCH, {"url": api, "credentials": credentials, "headers": headers or {}})
        finally:
            page.close()

    try:
        assert fetch_from(unlisted, "omit") == {"status": 200, "texts": [PUBLISHED], "limit": "50"}
        blocked = fetch_from(unlisted, "include")
        assert blocked == {"error": "TypeError: Failed to fetch"}
        assert fetch_from(listed, "include") == {"status": 200, "texts": sorted([DRAFT, PUBLISHED]), "limit": "70"}
        with_token = fetch_from(unlisted, "omit", {"Authorization": f"Token {token.getvalue().strip()}"})
        assert with_token == {"status": 200, "texts": sorted([DRAFT, PUBLISHED]), "limit": "70"}
    finally:
        context.close()
