"""
End to end in a real browser: a curator logs into the admin in headless Chromium, creates an excerpt,
publishes it, and the public API shows it.

Uses Debian's chromium (``apt-get install chromium``) through Playwright's Python API; nothing is
downloaded. Without chromium the test is skipped, unless EXCERPTS_REQUIRE_BROWSER is set (as .ci/run
does), when it fails.
"""

import os
import shutil
from contextlib import contextmanager

import pytest
from django.db import connections
from django.urls import reverse

from excerpts.models import Excerpt
from tests import factories

# Playwright's sync API runs an event loop in this thread; the ORM calls here are plain synchronous ones.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

if not os.path.exists(CHROMIUM) and not os.environ.get("EXCERPTS_REQUIRE_BROWSER"):
    pytest.skip("chromium is not installed (apt-get install chromium)", allow_module_level=True)

sync_api = pytest.importorskip("playwright.sync_api")


@contextmanager
def headless_chromium():
    """
    Debian's Chromium, headless, for the browser tests (this file's and the others that import it). Inside
    Playwright's context this thread runs in a contextvars context of its own, and Django keeps its connections per
    context (asgiref's Local): the queries a test makes there open a connection that nothing else closes, which on
    PostgreSQL kept the test database from being dropped at the end of the run. They are closed on the way out.
    """
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()
            connections.close_all()


@pytest.fixture
def browser():
    with headless_chromium() as browser:
        yield browser


def choose(page, field, text):
    """Pick an option in an admin autocomplete (select2) widget by typing part of its label."""
    page.click(f"#id_{field} + .select2 .select2-selection")
    page.fill(".select2-container--open .select2-search__field", text)
    page.locator(".select2-container--open .select2-results__option", has_text=text).first.click()


def public_texts(browser, base_url):
    context = browser.new_context()  # no session cookie: what the public sees
    try:
        response = context.request.get(base_url + reverse("excerpt-list"))
        assert response.status == 200
        return [item["text"] for item in response.json()["results"]]
    finally:
        context.close()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_curator_creates_and_publishes_an_excerpt_in_the_admin_and_the_public_api_shows_it(
    live_server, browser, curator
):
    factories.speaker("mao-zedong", "Mao Zedong")
    factories.source("peoples-daily", "People's Daily", kind="newspaper")
    factories.topic("hundred-flowers", "Hundred Flowers")
    words = "Let a hundred flowers bloom, let a hundred schools of thought contend."

    page = browser.new_page()
    page.goto(live_server.url + reverse("admin:login"))
    page.fill("#id_username", curator.username)
    page.fill("#id_password", factories.CURATOR_PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#site-name")

    page.goto(live_server.url + reverse("admin:excerpts_excerpt_add"))
    page.fill("#id_text", words)
    page.select_option("#id_kind", "speech")
    choose(page, "speaker", "Mao Zedong")
    page.fill("#id_date", "1957-02-27")
    choose(page, "source", "People's Daily")
    choose(page, "topics", "Hundred Flowers")
    page.fill("#id_language", "zh")
    page.click("input[name=_save]")
    page.wait_for_selector(".messagelist .success")

    excerpt = Excerpt.objects.get(text=words)
    assert (excerpt.status, excerpt.date_display) == ("draft", "27 February 1957")
    assert public_texts(browser, live_server.url) == []

    page.check(f"input[name=_selected_action][value='{excerpt.pk}']")
    page.select_option("select[name=action]", "publish")
    page.click("button[name=index]")
    page.wait_for_selector(".messagelist .success")

    assert public_texts(browser, live_server.url) == [words]
    assert {record.history_user for record in excerpt.history.all()} == {curator}
