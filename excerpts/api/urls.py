"""API routes: one router for v1, the bulk dumps, plus the schema and its two documentation pages."""

from django.urls import include, path, re_path
from rest_framework.routers import DefaultRouter

from . import docs, downloads, dumps, views
from .actions import CITATION_EXTENSIONS
from .problems import api_not_found

router = DefaultRouter()
router.register("excerpts", views.ExcerptViewSet, basename="excerpt")
router.register("speakers", views.SpeakerViewSet, basename="speaker")
router.register("topics", views.TopicViewSet, basename="topic")
router.register("sources", views.SourceViewSet, basename="source")
router.register("events", views.EventViewSet, basename="event")


def excerpt_operation(pattern, method, name):
    """A route to one method of the excerpt viewset (the router routes the rest, each with a trailing slash)."""
    return re_path(rf"^v1/excerpts/{pattern}$", views.ExcerptViewSet.as_view({"get": method}), name=name)


# Each text format's own operation (api/actions.py), ahead of the router, whose format-suffix routes would take
# cite.bib for cite/ with format=bib.
FORMATTED = [
    excerpt_operation(r"export\.csv", "export_csv", "excerpt-export-csv"),
    excerpt_operation(r"export\.jsonl", "export_jsonl", "excerpt-export-jsonl"),
    excerpt_operation(rf"(?P<pk>{views.ID_PATTERN})\.jsonld", "retrieve_linked_data", "excerpt-linked-data"),
    *(
        route
        for style, extension in CITATION_EXTENSIONS.items()
        for route in (
            excerpt_operation(
                rf"cite\.{extension}", f"cite_list_{style.replace('-', '_')}", f"excerpt-cite-list-{extension}"
            ),
            excerpt_operation(
                rf"(?P<pk>{views.ID_PATTERN})/cite\.{extension}",
                f"cite_{style.replace('-', '_')}",
                f"excerpt-cite-{extension}",
            ),
        )
    ),
]

urlpatterns = [
    *FORMATTED,
    path("v1/", include(router.urls)),
    path("v1/dumps/", downloads.DumpListView.as_view(), name="dump-list"),
    re_path(r"^v1/dumps/latest\.(?P<format>csv|jsonl)\.gz$", downloads.DumpLatestView.as_view(), name="dump-latest"),
    re_path(rf"^v1/dumps/(?P<name>{dumps.NAME.pattern})$", downloads.DumpFileView.as_view(), name="dump-file"),
    path("schema/", views.SchemaView.as_view(), name="schema"),
    path("docs/", docs.SwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("redoc/", docs.RedocView.as_view(url_name="schema"), name="redoc"),
    # Whatever else is asked under /api/ is a JSON 404, whatever DEBUG says.
    re_path(r"^.*$", api_not_found),
]
