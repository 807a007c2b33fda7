"""Read API v1: excerpts and the reference data they point to."""

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import viewsets

from .filtersets import EventFilterSet, ExcerptFilterSet, SourceFilterSet, SpeakerFilterSet, TopicFilterSet
from .models import Event, Excerpt, Source, Speaker, Topic
from .problems import PROBLEM_CONTENT_TYPE
from .serializers import (
    EventSerializer,
    ExcerptSerializer,
    ProblemSerializer,
    SourceSerializer,
    SpeakerSerializer,
    TopicSerializer,
)

PROBLEM_400 = OpenApiResponse(
    ProblemSerializer,
    description="A query parameter is unknown or has a value that cannot be used; `errors` names it.",
    examples=[
        OpenApiExample(
            "Unknown parameter",
            value={
                "type": "https://excerpts.invalid/problems/invalid-request",
                "title": "Invalid request",
                "status": 400,
                "detail": "speakr: Unknown query parameter. Allowed parameters are: ...",
                "instance": "/api/v1/excerpts/?speakr=mao-zedong",
                "errors": [{"name": "speakr", "reason": "Unknown query parameter. Allowed parameters are: ..."}],
            },
            response_only=True,
        )
    ],
)
PROBLEM_404 = OpenApiResponse(ProblemSerializer, description="No such object.")

LIST_RESPONSES = {(400, PROBLEM_CONTENT_TYPE): PROBLEM_400}
DETAIL_RESPONSES = {(400, PROBLEM_CONTENT_TYPE): PROBLEM_400, (404, PROBLEM_CONTENT_TYPE): PROBLEM_404}
SLUG_PATTERN = r"[-a-zA-Z0-9_]+"
ID_PATTERN = r"[0-9]{1,18}"


def read_only_schema(name, plural, serializer, lookup="slug"):
    """Summaries, the path parameter and documented error responses for a read-only viewset."""
    if lookup == "slug":
        path_parameter = OpenApiParameter(
            "slug", str, OpenApiParameter.PATH, description=f"The {name}'s slug, e.g. from its `url`."
        )
    else:
        path_parameter = OpenApiParameter("id", int, OpenApiParameter.PATH, description=f"The {name}'s numeric id.")
    return extend_schema_view(
        list=extend_schema(
            summary=f"List {plural}", responses={(200, "application/json"): serializer(many=True), **LIST_RESPONSES}
        ),
        retrieve=extend_schema(
            summary=f"Retrieve one {name}",
            parameters=[path_parameter],
            responses={(200, "application/json"): serializer, **DETAIL_RESPONSES},
        ),
    )


@read_only_schema("excerpt", "excerpts", ExcerptSerializer, lookup="id")
class ExcerptViewSet(viewsets.ReadOnlyModelViewSet):
    """
    Published excerpts: the quoted words with their speaker, EDTF date, source, page and topics.

    Filters combine with AND; a repeated parameter (`speaker=a&speaker=b`) matches any of its values.
    Dates match by overlap: an excerpt dated only "1958" may date from July 1958, so it is found by
    `date_after=1958-07-01&date_before=1958-07-31`. Pages are keyset cursors: follow `next` to visit
    every match exactly once.
    """

    queryset = Excerpt.objects.published().with_related()
    serializer_class = ExcerptSerializer
    filterset_class = ExcerptFilterSet
    lookup_value_regex = ID_PATTERN


@read_only_schema("speaker", "speakers", SpeakerSerializer)
class SpeakerViewSet(viewsets.ReadOnlyModelViewSet):
    """People and bodies whose words are quoted, with other spellings of their names and excerpt counts."""

    queryset = Speaker.objects.with_excerpt_count()
    serializer_class = SpeakerSerializer
    filterset_class = SpeakerFilterSet
    lookup_field = "slug"
    lookup_value_regex = SLUG_PATTERN


@read_only_schema("topic", "topics", TopicSerializer)
class TopicViewSet(viewsets.ReadOnlyModelViewSet):
    """The subject taxonomy. Use a topic's slug in the excerpt filter `topic`."""

    queryset = Topic.objects.select_related("parent")
    serializer_class = TopicSerializer
    filterset_class = TopicFilterSet
    lookup_field = "slug"
    lookup_value_regex = SLUG_PATTERN


@read_only_schema("source", "sources", SourceSerializer, lookup="id")
class SourceViewSet(viewsets.ReadOnlyModelViewSet):
    """Citable works in which the excerpts are printed. Use a source's id in the excerpt filter `source`."""

    queryset = Source.objects.all()
    serializer_class = SourceSerializer
    filterset_class = SourceFilterSet
    lookup_value_regex = ID_PATTERN


@read_only_schema("event", "events", EventSerializer)
class EventViewSet(viewsets.ReadOnlyModelViewSet):
    """Occasions the words belong to. Use an event's slug in the excerpt filter `event`."""

    queryset = Event.objects.all()
    serializer_class = EventSerializer
    filterset_class = EventFilterSet
    lookup_field = "slug"
    lookup_value_regex = SLUG_PATTERN
