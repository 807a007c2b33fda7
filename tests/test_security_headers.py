"""
Security headers on every answer: the Content-Security-Policy (site-wide, widened only where a page needs it),
nosniff, Referrer-Policy, X-Frame-Options and Cross-Origin-Opener-Policy. The browser's view of the same policies
is tests/test_docs_browser.py.
"""

import re

import pytest
from django.urls import reverse


def directives(response):
    """The Content-Security-Policy header as {directive: [sources]}."""
    policy = response["Content-Security-Policy"]
    return {name: sources for name, *sources in (part.split() for part in policy.split(";") if part.strip())}


SITE_POLICY = {
    "default-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "object-src": ["'none'"],
    "base-uri": ["'none'"],
    "frame-ancestors": ["'none'"],
    "form-action": ["'self'"],
}


@pytest.mark.parametrize(
    ("name", "additions"),
    [
        ("excerpt-list", set()),
        ("schema", set()),
        ("swagger-ui", set()),
        ("admin:login", {"style-src-attr", "script-src-attr"}),
    ],
)
def test_every_page_and_answer_carries_the_site_policy_and_the_other_security_headers(client, corpus, name, additions):
    response = client.get(reverse(name))
    assert response.status_code == 200
    policy = directives(response)
    assert set(policy) - set(SITE_POLICY) == additions
    assert {directive: policy[directive] for directive in SITE_POLICY} == SITE_POLICY
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def test_an_error_answer_carries_the_policy_too(client, db):
    response = client.get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert directives(response) == SITE_POLICY


def test_the_swagger_page_has_no_inline_script_or_style_and_serves_its_start_up_script_separately(client, db):
    page = client.get(reverse("swagger-ui")).content.decode()
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", page) == []
    assert "<style" not in page
    assert " style=" not in page

    script_url = re.search(r'<script src="([^"]*script=[^"]*)"', page).group(1).replace("&amp;", "&")
    script = client.get(script_url)
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in script.content.decode()


def test_the_redoc_page_has_no_inline_script_or_style_nor_anything_from_elsewhere_but_widens_styles_and_workers(
    client, db
):
    response = client.get(reverse("redoc"))
    page = response.content.decode()
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", page) == []
    assert "<style" not in page
    assert "fonts.googleapis.com" not in page

    policy = directives(response)
    assert policy["worker-src"] == ["'self'", "blob:"]
    assert policy["style-src"][0] == "'self'"
    assert all(source.startswith("'sha256-") for source in policy["style-src"][1:])
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
    assert "https:" not in response["Content-Security-Policy"]  # nothing from elsewhere, not even an image
    unchanged = set(SITE_POLICY) - {"style-src", "worker-src"}
    assert {directive: policy[directive] for directive in unchanged} == {name: SITE_POLICY[name] for name in unchanged}


def test_admin_pages_allow_only_the_hashed_inline_attributes_of_the_apps_they_carry(curator_client, corpus):
    policy = directives(curator_client.get(reverse("admin:excerpts_excerpt_changelist")))
    assert policy["style-src-attr"][0] == policy["script-src-attr"][0] == "'unsafe-hashes'"
    assert len(policy["script-src-attr"]) == 2
    hashes = policy["style-src-attr"][1:] + policy["script-src-attr"][1:]
    assert all(source.startswith("'sha256-") for source in hashes)
    assert "'unsafe-inline'" not in str(policy)
