"""
The front door at ``/``: what the API is, where its documentation, schema, admin and bulk downloads are, and how
much it holds. A page for people; the same as JSON when ``Accept`` prefers ``application/json``.
"""

from django.http import JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_safe

from ..research.overview import corpus_counts

TITLE = "Historical Excerpts API"
# The bulk downloads' listing (the whole corpus as versioned CSV and JSON Lines files).
DUMPS_PATH = "/api/v1/dumps/"
# What each count is of, in the page's words.
COUNTED = {
    "excerpts": "public excerpts",
    "speakers": "speakers",
    "sources": "sources",
    "topics": "topics",
    "events": "events",
}


def links():
    """(key, path, label, what it is) of each place the front page points to, in the page's order."""
    return [
        ("api", reverse("api-root"), "API root", "the endpoints of version 1, as JSON"),
        ("docs", reverse("swagger-ui"), "Documentation", "Swagger UI: try each endpoint from the browser"),
        ("redoc", reverse("redoc"), "Reference", "ReDoc: the whole API on one page"),
        ("schema", reverse("schema"), "OpenAPI schema", "YAML; add ?format=json for JSON"),
        ("dumps", DUMPS_PATH, "Bulk downloads", "the whole corpus as gzipped CSV and JSON Lines"),
        ("admin", reverse("admin:index"), "Admin", "for curators"),
    ]


@require_safe
def home(request):
    """The landing page, or its JSON: links and the corpus's counts (cached until the data changes)."""
    counts = corpus_counts()
    if request.get_preferred_type(["text/html", "application/json"]) == "application/json":
        body = {
            "title": TITLE,
            "counts": counts,
            "links": {key: request.build_absolute_uri(path) for key, path, _, _ in links()},
        }
        response = JsonResponse(body)
    else:
        context = {
            "title": TITLE,
            "counts": [(key, counts[key], f"{counts[key]:,}", label) for key, label in COUNTED.items()],
            "links": links(),
            "example": request.build_absolute_uri(reverse("excerpt-list")) + "?q=paper+tiger",
        }
        response = render(request, "excerpts/home.html", context)
    patch_vary_headers(response, ["Accept"])
    return response
