"""The front page at /: links to the documentation, schema, admin, API and bulk downloads, and the corpus's counts."""

from html.parser import HTMLParser

import pytest
from django.urls import reverse

from tests import factories

pytestmark = pytest.mark.django_db

LINKS = {
    "api": "/api/v1/",
    "docs": "/api/docs/",
    "redoc": "/api/redoc/",
    "schema": "/api/schema/",
    "dumps": "/api/v1/dumps/",
    "admin": "/admin/",
}
# corpus(): Khrushchev's published excerpt and Mao's draft, two speakers, two sources, a topic and an event.
COUNTS = {"excerpts": 1, "speakers": 2, "sources": 2, "topics": 1, "events": 1}
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"


class Page(HTMLParser):
    """The links (id to href), counts (id to value), stylesheets and any inline script or style of a page."""

    def __init__(self, html):
        super().__init__()
        self.links, self.counts, self.stylesheets, self.inline = {}, {}, [], []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "a" and attributes.get("id", "").startswith("link-"):
            self.links[attributes["id"].removeprefix("link-")] = attributes["href"]
        elif tag == "data":
            self.counts[attributes["id"].removeprefix("count-")] = int(attributes["value"])
        elif tag == "link" and attributes.get("rel") == "stylesheet":
            self.stylesheets.append(attributes["href"])
        if tag in ("script", "style") or "style" in attributes or any(name.startswith("on") for name in attributes):
            self.inline.append((tag, attributes))


def test_the_front_page_links_the_docs_schema_admin_api_and_bulk_downloads_with_the_counts(client, corpus):
    response = client.get(reverse("home"), HTTP_ACCEPT=BROWSER_ACCEPT)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert response["Vary"] == "Accept"
    page = Page(response.content.decode())
    assert page.links == LINKS
    assert page.counts == COUNTS
    assert '<data id="count-speakers" value="2">2</data> speakers' in response.content.decode()


def test_the_counts_are_what_the_api_lists_to_the_public(client, corpus):
    counts = Page(client.get(reverse("home")).content.decode()).counts
    listed = {
        key: client.get(reverse(f"{key.removesuffix('s')}-list")).json()["count"]
        for key in ("excerpts", "speakers", "sources", "topics", "events")
    }
    assert counts == listed == COUNTS


def test_each_link_but_the_dumps_answers(client, corpus):
    # The bulk downloads' listing lives beside the export code, which the page only points to.
    answers = {key: client.get(path).status_code for key, path in LINKS.items() if key != "dumps"}
    assert answers == {"api": 200, "docs": 200, "redoc": 200, "schema": 200, "admin": 302}


def test_the_page_has_no_inline_script_or_style_and_its_stylesheet_is_served_from_here(client, corpus):
    page = Page(client.get(reverse("home")).content.decode())
    assert page.inline == []
    assert page.stylesheets == ["/static/excerpts/home.css"]
    stylesheet = client.get(page.stylesheets[0])
    assert (stylesheet.status_code, stylesheet["Content-Type"]) == (200, 'text/css; charset="utf-8"')


def test_the_counts_follow_a_write_and_cost_one_query_while_the_data_stays_the_same(
    client, corpus, django_assert_num_queries
):
    client.get(reverse("home"))
    with django_assert_num_queries(1):  # the data version; the counts come from the cache
        assert Page(client.get(reverse("home")).content.decode()).counts == COUNTS

    factories.excerpt("The east wind prevails.", speaker=corpus["mao"], source=corpus["daily"])
    factories.speaker("zhou-enlai", "Zhou Enlai")
    counts = Page(client.get(reverse("home")).content.decode()).counts
    assert counts == {**COUNTS, "excerpts": 2, "speakers": 3}


def test_accept_json_gets_the_counts_and_absolute_links_as_json(client, corpus):
    response = client.get(reverse("home"), HTTP_ACCEPT="application/json")
    assert (response.status_code, response["Content-Type"], response["Vary"]) == (200, "application/json", "Accept")
    assert response.json() == {
        "title": "Historical Excerpts API",
        "counts": COUNTS,
        "links": {key: f"http://testserver{path}" for key, path in LINKS.items()},
    }


@pytest.mark.parametrize(
    ("accept", "content_type"),
    [
        ("", "text/html; charset=utf-8"),
        ("*/*", "text/html; charset=utf-8"),
        (BROWSER_ACCEPT, "text/html; charset=utf-8"),
        ("application/json;q=0.9, text/html;q=0.5", "application/json"),
        ("text/html;q=0.5, application/json", "application/json"),
    ],
)
def test_the_page_is_html_unless_json_is_preferred(client, corpus, accept, content_type):
    response = client.get(reverse("home"), HTTP_ACCEPT=accept) if accept else client.get(reverse("home"))
    assert response["Content-Type"] == content_type


def test_the_page_answers_head_and_refuses_post(client, corpus):
    head = client.head(reverse("home"))
    assert (head.status_code, head.content) == (200, b"")
    post = client.post(reverse("home"))
    assert (post.status_code, post["Allow"]) == (405, "GET, HEAD")
