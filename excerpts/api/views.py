"""API v1: excerpts and the reference data they point to; the public reads, curators write."""

import secrets
from collections import Counter

from django.db import transaction
from django.db.models import ProtectedError
from django.http import Http404, HttpResponse
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import DjangoModelPermissionsOrAnonReadOnly
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from ..history import history_entries
from ..models import Event, Excerpt, Source, Speaker, Topic
from ..research import caching, citations, facets, search
from . import renderers
from .caching import request_parts
from .filters import EventFilterSet, ExcerptFilterSet, SourceFilterSet, SpeakerFilterSet, TopicFilterSet
from .openapi import (
    CITATION_RESPONSES,
    CURATOR_DETAIL_RESPONSES,
    DETAIL_RESPONSES,
    EXCERPT_ID,
    EXPORT_RESPONSES,
    FORMAT_PARAMETER,
    JSON,
    LIST_RESPONSES,
    STYLE_PARAMETER,
    FacetsSerializer,
    RandomExcerptsSerializer,
    curated_schema,
)
from .permissions import IsCurator, is_curator
from .problems import Conflict
from .serializers import (
    CuratorExcerptSerializer,
    EventSerializer,
    EventWriteSerializer,
    ExcerptSerializer,
    ExcerptWriteSerializer,
    HistoryEntrySerializer,
    RandomQuerySerializer,
    SourceSerializer,
    SourceWriteSerializer,
    SpeakerSerializer,
    SpeakerWriteSerializer,
    TopicSerializer,
    TopicWriteSerializer,
)

SLUG_PATTERN = r"[-a-zA-Z0-9_]+"
ID_PATTERN = r"[0-9]{1,18}"
MAX_BIBLIOGRAPHY = 1000


class CuratedViewSet(viewsets.ModelViewSet):
    """
    Reads for everyone; POST, PUT, PATCH and DELETE need the model permission (curators add and change,
    admins also delete). Writes are answered in the read representation.

    Each write is one transaction: the row, its topic links, its history entry and the re-read answer are
    committed together or not at all, so a worker killed or a database lost half-way leaves no excerpt
    without its topics and no new text beside old topics. Reads stay outside transactions: ATOMIC_REQUESTS
    would make every GET take SQLite's write lock (the settings begin transactions IMMEDIATE).
    """

    permission_classes = [DjangoModelPermissionsOrAnonReadOnly]
    write_serializer_class = None

    def get_serializer_class(self):
        if self.action in ("create", "update", "partial_update"):
            return self.write_serializer_class
        return super().get_serializer_class()

    # partial_update calls update, so PATCH is covered too.
    @transaction.atomic
    def create(self, request, *args, **kwargs):
        return super().create(request, *args, **kwargs)

    @transaction.atomic
    def update(self, request, *args, **kwargs):
        return super().update(request, *args, **kwargs)

    @transaction.atomic
    def destroy(self, request, *args, **kwargs):
        return super().destroy(request, *args, **kwargs)

    def reread(self, serializer):
        """Answer with the object as the list and detail show it (annotations, prefetched relations)."""
        serializer.instance = self.get_queryset().get(pk=serializer.instance.pk)

    def perform_create(self, serializer):
        serializer.save()
        self.reread(serializer)

    def perform_update(self, serializer):
        serializer.save()
        self.reread(serializer)

    def perform_destroy(self, instance):
        try:
            instance.delete()
        except ProtectedError as error:
            counts = Counter(type(obj) for obj in error.protected_objects)
            users = ", ".join(
                f"{count} {model._meta.verbose_name if count == 1 else model._meta.verbose_name_plural}"
                for model, count in counts.items()
            )
            raise Conflict(
                f"{instance} cannot be deleted while in use by {users}. Reassign or delete them first."
            ) from None


@extend_schema_view(
    list=extend_schema(
        summary="List excerpts, or export them all as CSV or JSON Lines",
        parameters=[FORMAT_PARAMETER],
        responses={
            (200, JSON): ExcerptSerializer(many=True),
            **EXPORT_RESPONSES,
            # Errors are JSON problem details whatever the format asked for.
            **LIST_RESPONSES,
        },
    ),
)
@curated_schema(
    "excerpt", "excerpts", ExcerptSerializer, ExcerptWriteSerializer, CuratorExcerptSerializer, lookup="id"
)
class ExcerptViewSet(CuratedViewSet):
    """
    Published excerpts: the quoted words with their speaker, EDTF date, source, page and topics.

    Filters combine with AND; a repeated parameter (`speaker=a&speaker=b`) matches any of its values.
    Dates match by overlap: an excerpt dated only "1958" may date from July 1958, so it is found by
    `date_after=1958-07-01&date_before=1958-07-31`. Pages are keyset cursors: follow `next` to visit
    every match exactly once.

    `q` is a full-text search (stemmed; words ANDed, "quoted phrases", -exclusions). With `q` the
    results are ordered by relevance unless `ordering` says otherwise, and each carries a
    `highlight`: its best matching passage with the hits in `<mark>` elements.

    `format=csv` or `format=jsonl` exports the whole filtered list as a streamed file.

    Curators (token or admin session) also see drafts, with each excerpt's `status`, `created` and
    `updated`, and may filter by `status`. They write speakers, events and topics by slug and sources
    (`source`, `quoted_in`) by id; the EDTF `date` is checked and its bounds computed on save.
    """

    serializer_class = ExcerptSerializer
    write_serializer_class = ExcerptWriteSerializer
    filterset_class = ExcerptFilterSet
    lookup_value_regex = ID_PATTERN
    extra_query_params = ()  # per action: the query parameters it takes besides the filters

    def get_queryset(self):
        excerpts = Excerpt.objects.with_related()
        return excerpts if is_curator(self.request.user) else excerpts.published()

    def get_serializer_class(self):
        if self.action in ("list", "retrieve") and is_curator(self.request.user):
            return CuratorExcerptSerializer
        return super().get_serializer_class()

    def get_renderers(self):
        if self.action == "list":
            return [renderer() for renderer in renderers.LIST_RENDERERS]
        return super().get_renderers()

    def perform_content_negotiation(self, request, force=False):
        try:
            return super().perform_content_negotiation(request, force)
        except Http404:
            # DRF answers an unknown ?format= with 404, as if the resource were missing: it is a bad parameter.
            formats = ", ".join(dict.fromkeys(renderer.format for renderer in self.get_renderers()))
            raise ValidationError({"format": [f"Unknown format. Use one of: {formats}."]}) from None

    def finalize_response(self, request, response, *args, **kwargs):
        if isinstance(response, Response) and isinstance(
            getattr(request, "accepted_renderer", None), renderers.ExportRenderer
        ):
            # Only the export itself is CSV or JSON Lines; an error about it is a JSON problem.
            request.accepted_renderer, request.accepted_media_type = JSONRenderer(), JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)

    def list(self, request, *args, **kwargs):
        if isinstance(request.accepted_renderer, renderers.ExportRenderer):
            queryset = self.filter_queryset(self.get_queryset())
            return renderers.stream_export(queryset, request.accepted_renderer, self.get_serializer())
        return super().list(request, *args, **kwargs)

    def citation_response(self, excerpts):
        style = self.request.query_params.get("style", citations.DEFAULT_STYLE)
        if style not in citations.STYLES:
            raise ValidationError({"style": [f"Unknown citation style. Use one of: {', '.join(citations.STYLES)}."]})
        response = HttpResponse(citations.render(excerpts, style), content_type=citations.STYLES[style])
        response["Content-Disposition"] = f'inline; filename="citations.{style.replace("csl-", "")}"'
        return response

    @extend_schema(
        summary="Cite one excerpt",
        operation_id="v1_excerpts_cite",
        parameters=[STYLE_PARAMETER, EXCERPT_ID],
        responses={
            **CITATION_RESPONSES,
            **DETAIL_RESPONSES,
        },
    )
    @action(detail=True, pagination_class=None, extra_query_params=("style",))
    def cite(self, request, pk=None):
        """The excerpt's citation in the format a reference manager imports."""
        return self.citation_response([self.get_object()])

    @extend_schema(
        summary="Cite every matching excerpt: a bibliography",
        operation_id="v1_excerpts_cite_list",
        parameters=[STYLE_PARAMETER],
        filters=True,
        responses={**CITATION_RESPONSES, **LIST_RESPONSES},
    )
    @action(detail=False, url_path="cite", pagination_class=None, extra_query_params=("style",))
    def cite_list(self, request):
        """
        Citations of every excerpt the filters match, in list order: at most 1000 (MAX_BIBLIOGRAPHY); narrow
        the filters for more (a larger set is a 400).
        """
        excerpts = list(self.filter_queryset(self.get_queryset())[: MAX_BIBLIOGRAPHY + 1])
        if len(excerpts) > MAX_BIBLIOGRAPHY:
            raise ValidationError(
                {
                    "request": [
                        f"More than {MAX_BIBLIOGRAPHY} excerpts match; a bibliography holds at most "
                        f"{MAX_BIBLIOGRAPHY}. Narrow the filters, or export the list with format=csv or format=jsonl."
                    ]
                }
            )
        return self.citation_response(excerpts)

    @extend_schema(
        summary="Count the matching excerpts per speaker, topic, kind, attribution, language, event, year, decade",
        filters=True,
        responses={(200, JSON): FacetsSerializer, **LIST_RESPONSES},
    )
    @action(detail=False, pagination_class=None)
    def facets(self, request):
        """
        Facet counts for the excerpts the filters match (every list filter works here), largest first;
        years and decades in order, taken from date_start (the earliest possible day).

        Without filters the counts are always exact. A filtered set is counted exactly up to 10,000
        matches, like a list's `count`; when more match, `count_exact` is false, `count` is 10,000 and
        every facet counts the 10,000 most recently added matches (narrow the filters for exact counts).
        """
        queryset = self.filter_queryset(self.get_queryset())
        if set(request.query_params) <= {"format", "status"}:
            # The whole corpus (or all of it in some statuses): exact counts from the trigger-kept summary table.
            visible = Excerpt.Status.values if is_curator(request.user) else [Excerpt.Status.PUBLISHED]
            asked = request.query_params.getlist("status") or visible
            statuses = [status for status in visible if status in asked]
            return Response(facets.summary_counts(statuses))
        # A filtered set is counted in one pass over at most SCAN_LIMIT matches, cached until the data changes.
        counts = caching.cached("facets", request_parts(request), lambda: facets.facet_counts(queryset))
        return Response(counts)

    @extend_schema(
        summary="Random excerpts, reproducible with a seed",
        parameters=[RandomQuerySerializer],
        filters=True,
        responses={(200, JSON): RandomExcerptsSerializer, **LIST_RESPONSES},
    )
    @action(detail=False, pagination_class=None, extra_query_params=("count", "seed"))
    def random(self, request):
        """
        `count` (1-50) random excerpts among those the filters match. The same `seed` gives the same
        excerpts while the data is the same; the response says which seed it used. Up to 1,000 matches
        are sampled exactly; from more, the draw is made from five stretches of 200 consecutive matches
        (by id) at seeded random points, so a draw costs the same at any size.
        """
        params = RandomQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        seed = params.validated_data.get("seed", secrets.randbelow(2**31))
        queryset = self.filter_queryset(self.get_queryset())
        ids = facets.random_ids(queryset, params.validated_data["count"], seed)
        found = queryset.order_by().filter(id__in=ids).in_bulk()
        excerpts = [found[pk] for pk in ids]
        return Response({"seed": seed, "results": self.get_serializer(excerpts, many=True).data})

    @property
    def search_query(self):
        """The request's q as the filterset parsed it (the same object its search uses), or None."""
        filterset = getattr(self, "filterset", None)
        return filterset.form.cleaned_data.get("q") if filterset is not None else None

    def counted(self, queryset):
        """
        The queryset the list's total counts. A search tested per excerpt (a common term sorted by date on
        SQLite) is counted through the FTS5 join instead, which finds its first 10,000 matches at once
        where testing each excerpt cost a probe per row (0.8 s for five common words).
        """
        filterset = getattr(self, "filterset", None)
        if not getattr(filterset, "tested_per_excerpt", False):
            return queryset
        self.counting = True
        try:
            return self.filter_queryset(self.get_queryset())
        finally:
            self.counting = False

    def ranked_only(self, queryset):
        """The request's search narrowed to its ranked matches, which the pagination tries first."""
        return search.ranked_only(queryset, self.search_query)

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        query = self.search_query if page is not None and self.action == "list" else None
        if query is not None:
            passages = search.highlights(query, [excerpt.pk for excerpt in page])
            for excerpt in page:
                excerpt.highlight = passages.get(excerpt.pk)
        return page

    @extend_schema(
        summary="History of one excerpt (curators)",
        parameters=[EXCERPT_ID],
        responses={(200, JSON): HistoryEntrySerializer(many=True), **CURATOR_DETAIL_RESPONSES},
    )
    @action(detail=True, methods=["get"], permission_classes=[IsCurator], pagination_class=None, filter_backends=[])
    def history(self, request, pk=None):
        """Every change to the excerpt, newest first: who, when, and each field's old and new value."""
        return Response(HistoryEntrySerializer(history_entries(self.get_object()), many=True).data)


@curated_schema("speaker", "speakers", SpeakerSerializer, SpeakerWriteSerializer)
class SpeakerViewSet(CuratedViewSet):
    """People and bodies whose words are quoted, with other spellings of their names and excerpt counts."""

    queryset = Speaker.objects.with_excerpt_count()
    serializer_class = SpeakerSerializer
    write_serializer_class = SpeakerWriteSerializer
    filterset_class = SpeakerFilterSet
    lookup_field = "slug"
    lookup_value_regex = SLUG_PATTERN


@curated_schema("topic", "topics", TopicSerializer, TopicWriteSerializer)
class TopicViewSet(CuratedViewSet):
    """The subject taxonomy. Use a topic's slug in the excerpt filter `topic`."""

    queryset = Topic.objects.select_related("parent")
    serializer_class = TopicSerializer
    write_serializer_class = TopicWriteSerializer
    filterset_class = TopicFilterSet
    lookup_field = "slug"
    lookup_value_regex = SLUG_PATTERN


@curated_schema("source", "sources", SourceSerializer, SourceWriteSerializer, lookup="id")
class SourceViewSet(CuratedViewSet):
    """Citable works in which the excerpts are printed. Use a source's id in the excerpt filter `source`."""

    queryset = Source.objects.all()
    serializer_class = SourceSerializer
    write_serializer_class = SourceWriteSerializer
    filterset_class = SourceFilterSet
    lookup_value_regex = ID_PATTERN


@curated_schema("event", "events", EventSerializer, EventWriteSerializer)
class EventViewSet(CuratedViewSet):
    """Occasions the words belong to. Use an event's slug in the excerpt filter `event`."""

    queryset = Event.objects.all()
    serializer_class = EventSerializer
    write_serializer_class = EventWriteSerializer
    filterset_class = EventFilterSet
    lookup_field = "slug"
    lookup_value_regex = SLUG_PATTERN
