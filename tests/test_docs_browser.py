"""
The Content-Security-Policy, seen by a real browser: Swagger UI, ReDoc and the admin render under it in headless
Chromium from a live server, and the browser reports no violation of it on any of those pages.

Skipped, like tests/test_browser.py, when chromium is not installed (and failing then under EXCERPTS_REQUIRE_BROWSER).
"""

import pytest
from django.urls import reverse

from excerpts.research import limits
from tests import factories
from tests.test_browser import headless_chromium

# Every violation the page sees (of its own policy, in any element or worker it starts) lands in this list.
RECORD_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
    window.cspViolations.push(`${event.violatedDirective} blocked ${event.blockedURI || "inline"}: ${event.sample}`);
});
"""


@pytest.fixture
def page():
    """A fresh Chromium page that records CSP violations, from its events and its console."""
    with headless_chromium() as browser:
        page = browser.new_page()
        page.add_init_script(RECORD_VIOLATIONS)
        page.console_violations = []
        page.requested = []
        page.on("request", lambda request: page.requested.append(request.url))
        page.on(
            "console",
            lambda message: "Content Security Policy" in message.text and page.console_violations.append(message.text),
        )
        yield page


def violations(page):
    return page.evaluate("window.cspViolations") + page.console_violations


def loaded_from_elsewhere(page, server):
    """Every URL the page asked for that is not the server's own (nor inline: data: and blob: URLs)."""
    return [url for url in page.requested if not url.startswith((server.url + "/", "data:", "blob:"))]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_swagger_ui_renders_every_operation_under_the_policy(live_server, page):
    response = page.goto(live_server.url + reverse("swagger-ui"))
    assert "script-src" not in response.headers["content-security-policy"]  # the site's policy, not widened

    page.wait_for_selector(".opblock", timeout=30_000)
    paths = page.locator(".opblock .opblock-summary-path").all_inner_texts()
    assert "/api/v1/excerpts/" in {path.replace("\u200b", "") for path in paths}
    assert page.locator(".opblock").count() > 20
    # Grouped by resource, not all under "v1".
    tags = page.locator(".opblock-tag").evaluate_all("tags => tags.map(tag => tag.dataset.tag)")
    assert tags == ["excerpts", "speakers", "sources", "topics", "events", "dumps"]  # as SPECTACULAR_SETTINGS["TAGS"]
    assert violations(page) == []
    assert page.requested and loaded_from_elsewhere(page, live_server) == []


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_redoc_renders_the_api_under_its_policy(live_server, page):
    page.goto(live_server.url + reverse("redoc"))

    page.wait_for_selector("h1", timeout=30_000)
    assert page.locator("h1").first.inner_text().startswith("Historical Excerpts API")
    page.wait_for_selector("[data-section-id='tag/excerpts']", timeout=30_000)
    # The sidebar's search runs in a worker started from a blob: URL.
    page.fill("input.search-input", "facets")
    results = page.locator("[data-role='search:results']")
    results.wait_for(timeout=30_000)
    assert "GET" in results.inner_text()
    # The sidebar's "API docs by Redocly" shows no logo: the one image ReDoc would load from Redocly's CDN.
    page.get_by_text("API docs by Redocly").wait_for(timeout=30_000)
    assert page.locator("img[alt='redocly logo']").count() == 0
    assert violations(page) == []
    assert page.requested and loaded_from_elsewhere(page, live_server) == []


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_admin_renders_and_works_under_the_policy(live_server, page, corpus):
    admin = factories.admin()
    excerpt = corpus["published"]
    page.goto(live_server.url + reverse("admin:login"))
    assert page.locator("form#login-form input[name=username]").count() == 1
    page.fill("#id_username", admin.username)
    page.fill("#id_password", factories.ADMIN_PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#site-name")

    for name, args in [
        ("admin:index", ()),
        ("admin:excerpts_excerpt_changelist", ()),
        ("admin:excerpts_excerpt_add", ()),
        ("admin:excerpts_excerpt_change", (excerpt.pk,)),
        ("admin:excerpts_excerpt_history", (excerpt.pk,)),
        ("admin:excerpts_excerpt_import", ()),
    ]:
        page.goto(live_server.url + reverse(name, args=args))
        page.wait_for_selector("#content")

    # The export page's "Select all" toggle is an inline handler, allowed by its hash: it still unticks every field.
    page.goto(live_server.url + reverse("admin:excerpts_excerpt_export"))
    fields = page.locator(".selectable-field-export-row input[type=checkbox]:not(.select-toggle)")
    assert fields.count() > 5
    assert fields.evaluate_all("boxes => boxes.filter(box => !box.checked).length") == 0
    page.uncheck("input[name=select-all-toggle]")
    assert fields.evaluate_all("boxes => boxes.filter(box => box.checked).length") == 0
    assert violations(page) == []


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_try_it_out_on_the_excerpt_list_starts_with_every_parameter_empty(live_server, page):
    page.goto(live_server.url + reverse("swagger-ui"))
    page.wait_for_selector(".opblock", timeout=30_000)
    path = reverse("excerpt-list")
    operation = page.locator(".opblock-get").filter(
        has=page.locator(".opblock-summary-path", has_text=path.replace("/", "\u200b/").lstrip("\u200b"))
    )
    operation = operation.filter(has_not_text=f"{path}facets").filter(has_not_text=f"{path}random").first
    operation.locator(".opblock-summary").click()
    operation.locator(".try-out__btn").click()
    operation.locator(".execute").wait_for(timeout=30_000)

    rows = operation.locator("tr[data-param-name]")
    names = rows.evaluate_all("rows => rows.map(row => row.dataset.paramName)")
    assert {"date_before", "date_after", "q", "speaker"} <= set(names)
    values = rows.evaluate_all(
        """rows => Object.fromEntries(rows.map(row => [
            row.dataset.paramName,
            [...row.querySelectorAll("input:not([type=checkbox]), select, textarea")]
                .map(input => input.multiple ? [...input.selectedOptions].map(o => o.value).join(",") : input.value)
                .join(""),
        ]))"""
    )
    # Nothing is filled in for the user but documented defaults (page_size's 20, bom's false), which change no
    # answer: the request sent is the one they build. (Examples of date_before and q became values.)
    filled = {name: value for name, value in values.items() if value not in ("", "--")}
    assert filled == {"page_size": str(limits.PAGE_SIZE), "bom": "false"}
    assert violations(page) == []
