"""API v1: excerpts and the reference data they point to; the public reads, curators write."""

import functools
from collections import Counter

from django.db import transaction
from django.db.models import ProtectedError
from django.http import Http404
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView
from rest_framework import viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.settings import api_settings

from ..models import Event, Excerpt, Source, Speaker, Topic
from ..research import caching, citations, search
from . import renderers, representations
from .actions import (
    BIBLIOGRAPHIES,
    EXPORTS,
    CitationsMixin,
    ExportMixin,
    FacetsMixin,
    HistoryMixin,
    LinkedDataMixin,
    RandomMixin,
)
from .conditional import ConditionalGetMixin
from .filters import (
    CACHE_BUSTER,
    EMPTY_VALUE,
    REPEATED_VALUE,
    EventFilterSet,
    ExcerptFilterSet,
    SourceFilterSet,
    SpeakerFilterSet,
    TopicFilterSet,
    request_filters,
)
from .openapi import (
    BOM_PARAMETER,
    DETAIL_FORMAT_PARAMETER,
    DETAIL_RESPONSES,
    EXCERPT_ID,
    FORMAT_PARAMETER,
    JSON,
    LIST_RESPONSES,
    curated_schema,
)
from .ordering import SORT_FIELDS, ExcerptOrdering
from .pagination import CompiledPages
from .permissions import ModelPermissionsOrReadOnly, is_curator
from .problems import Conflict
from .serializers import (
    CuratorExcerptSerializer,
    EventSerializer,
    EventWriteSerializer,
    ExcerptSerializer,
    ExcerptWriteSerializer,
    SourceSerializer,
    SourceWriteSerializer,
    SpeakerSerializer,
    SpeakerWriteSerializer,
    TopicSerializer,
    TopicWriteSerializer,
)

SLUG_PATTERN = r"[-a-zA-Z0-9_]+"
# The list's parameters that change nothing in its query but the order and the position (api/pagination.py), and the
# cache-buster, which changes nothing.
ORDER_AND_POSITION = frozenset({"ordering", "cursor", "page_size", CACHE_BUSTER})
ID_PATTERN = r"[0-9]{1,18}"


class CuratedViewSet(ConditionalGetMixin, viewsets.ModelViewSet):
    """
    Reads for everyone; POST, PUT, PATCH and DELETE need the model permission (curators add and change,
    admins also delete). Writes are answered in the read representation. Every read has an ETag and
    Cache-Control, and a matching If-None-Match is a 304 that runs no page query (conditional.py).

    Each write is one transaction: the row, its topic links, its history entry and the re-read answer are
    committed together or not at all, so a worker killed or a database lost half-way leaves no excerpt
    without its topics and no new text beside old topics. Reads stay outside transactions: ATOMIC_REQUESTS
    would make every GET take SQLite's write lock (the settings begin transactions IMMEDIATE).
    """

    permission_classes = [ModelPermissionsOrReadOnly]
    write_serializer_class = None

    def get_serializer_class(self):
        if self.action in ("create", "update", "partial_update"):
            return self.write_serializer_class
        return super().get_serializer_class()

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if api_settings.URL_FORMAT_OVERRIDE in self.request.query_params:
            # DRF's reverse() keeps a request's ?format= in every link it builds: the links stay the API's plain ones,
            # as the excerpts' are (representations.py), whatever format was asked for.
            context["request"] = renderers.without_format(self.request)
        return context

    def perform_content_negotiation(self, request, force=False):
        if len(request.query_params.getlist(api_settings.URL_FORMAT_OVERRIDE)) > 1:
            raise ValidationError({api_settings.URL_FORMAT_OVERRIDE: [REPEATED_VALUE]})  # DRF would read the first
        try:
            return super().perform_content_negotiation(request, force)
        except Http404:
            # DRF answers an unknown ?format= with 404, as if the resource were missing: it is a bad parameter.
            if not request.query_params.get(api_settings.URL_FORMAT_OVERRIDE, "").strip():
                raise ValidationError({api_settings.URL_FORMAT_OVERRIDE: [EMPTY_VALUE]}) from None
            formats = ", ".join(dict.fromkeys(renderer.format for renderer in self.get_renderers()))
            raise ValidationError(
                {api_settings.URL_FORMAT_OVERRIDE: [f"Unknown format. Use one of: {formats}."]}
            ) from None

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


# The list's schema is ExportMixin's: it documents the CSV and JSON Lines answers too.
@curated_schema(
    "excerpt",
    "excerpts",
    ExcerptSerializer,
    ExcerptWriteSerializer,
    CuratorExcerptSerializer,
    lookup="id",
    skip=["list", "retrieve"],
)
class ExcerptViewSet(
    FacetsMixin, RandomMixin, CitationsMixin, LinkedDataMixin, ExportMixin, HistoryMixin, CuratedViewSet
):
    """
    Published excerpts: the quoted words with their speaker, EDTF date, source, page and topics.

    Filters combine with AND; a repeated parameter (`speaker=a&speaker=b`) matches any of its values.
    Dates match by overlap: an excerpt dated only "1958" may date from July 1958, so it is found by
    `date_after=1958-07-01&date_before=1958-07-31`. Pages are keyset cursors: follow `next` to visit
    every match exactly once.

    `q` is a full-text search, the same on SQLite and PostgreSQL: words ANDed, none stemmed, each of two
    or more characters also the start of longer words; "quoted phrases"; -exclusions; each Chinese or
    Japanese character a word. With `q` the results are ordered by relevance unless `ordering` says
    otherwise, and each carries a `highlight`: its best matching passage with the hits in `<mark>`.

    `export.csv` and `export.jsonl` export the whole filtered list as a streamed file (as `format=csv` and
    `format=jsonl` on the list do); `{id}.jsonld` is an excerpt in JSON-LD, and `cite.json`, `cite.bib`, `cite.ris`
    and `cite.txt` its citation (or, on the list, a bibliography) in each format.

    Curators (token or admin session) also see drafts, with each excerpt's `status`, `created` and
    `updated`, and may filter by `status`. They write speakers, events and topics by slug and sources
    (`source`, `quoted_in`) by id; the EDTF `date` is checked and its bounds computed on save.
    """

    serializer_class = ExcerptSerializer
    write_serializer_class = ExcerptWriteSerializer
    filterset_class = ExcerptFilterSet
    ordering_backend = ExcerptOrdering
    lookup_value_regex = ID_PATTERN
    # get_queryset() depends on the action and the caller's role alone, so the filter backend may keep the filtered
    # queryset per parameters and data version (filters.StrictFilterBackend).
    keeps_filtered_querysets = True

    def get_queryset(self):
        if is_curator(self.request.user):
            return Excerpt.objects.with_related()
        if self.action in ("list", "retrieve", "retrieve_linked_data", *EXPORTS):
            # Rows are read for their ids and sort keys alone; represent() reads what the public sees of them.
            return _published_keys().all()
        return Excerpt.objects.with_related().published()

    def get_serializer_class(self):
        if self.action in ("list", "retrieve") and is_curator(self.request.user):
            return CuratorExcerptSerializer
        return super().get_serializer_class()

    def is_heavy_request(self, request):
        """
        Whether answering reads up to every match, so the stricter ``heavy`` rate limit applies
        (excerpts/api/throttling.py): a CSV or JSON Lines export, a bibliography, filtered facets.
        """
        if self.action == "list":
            return self.exporting(request)
        if self.action == "facets":
            return not self.facets_of_the_whole_corpus(request)
        return self.action in EXPORTS or self.action in BIBLIOGRAPHIES

    def search_plan(self, queryset, ordered=True):
        """
        The request's search plan (research/search.py), built once: for the sort keys the ordering backend gives,
        or for an unordered read (facets, random draws). Without ``q`` it only orders.
        """
        raw = self.request.query_params.get("q", "")
        # The filter set has checked q already: parsing it again cannot fail.
        query = search.parse_query(raw) if raw.strip() else None
        ordering = self.ordering_backend().get_ordering(self.request, queryset, self) if ordered else None
        return search.plan(query, ordering)

    def planned_rows(self, ordered=True):
        """
        The request's search plan and the excerpts it asks for: filtered, searched and (unless ``ordered`` is false)
        sorted.
        """
        queryset = self.filter_queryset(self.get_queryset())
        plan = self.search_plan(queryset, ordered)
        return plan, plan.rows(queryset)

    def matching_rows(self, ordered=True):
        """The excerpts the request asks for: filtered, searched and (unless ``ordered`` is false) sorted."""
        return self.planned_rows(ordered)[1]

    # One media type a 200, so that client generators type the page; export.csv and export.jsonl are the files.
    @extend_schema(
        summary="List excerpts",
        parameters=[FORMAT_PARAMETER, BOM_PARAMETER],
        responses={(200, JSON): ExcerptSerializer(many=True), **LIST_RESPONSES},
    )
    def list(self, request, *args, **kwargs):
        # A page of excerpts: filters, search plan, keyset page, representation, renderer, in that order. (A comment,
        # not a docstring: the schema describes the operation with the class docstring.)
        if self.exporting(request):
            return self.export_matches(request)  # every match as a file, as export.csv answers (ExportMixin)
        queryset = self.filter_queryset(self.get_queryset())  # every parameter checked; all but q and ordering applied
        curator = is_curator(request.user)
        plan = self.search_plan(queryset)
        rows = plan.rows(queryset)  # searched and sorted
        self.byte_order_mark(request)  # checked for a page too: bom=true there is a 400
        page = self.paginator.paginate_queryset(
            rows,
            request,
            view=self,
            counted=plan.counted(queryset),
            lead=plan.lead(rows, excerpts=None if curator else queryset),
            compiled=self.compiled_pages(request, queryset),
            keys_only=not curator,  # the public representation reads the rows' ids alone
        )
        return self.get_paginated_response(self.represent(page, plan.highlights(page), kept=True))

    def compiled_pages(self, request, queryset):
        """
        For the public's lists without a search, the pages read from statements compiled once per process
        (pagination.CompiledPages): the list of every published excerpt (nothing asked but an order, a position and a
        page size) under one name; a filtered list under its filters and the data version, which fix its queryset
        (the filter backend keeps it, see ``keeps_filtered_querysets``). None otherwise.
        """
        if is_curator(request.user):
            return None
        if set(request.query_params) <= ORDER_AND_POSITION:
            return CompiledPages("published excerpts", _published_keys())
        version = caching.data_version()
        if "q" in request.query_params or version is None:
            return None
        return CompiledPages(("filtered excerpts", request_filters(request, self), version), queryset)

    @extend_schema(
        summary="Retrieve one excerpt",
        parameters=[EXCERPT_ID, DETAIL_FORMAT_PARAMETER],
        responses={(200, JSON): ExcerptSerializer, **DETAIL_RESPONSES},
    )
    def retrieve(self, request, *args, **kwargs):
        if is_curator(request.user) or request.query_params:
            excerpt = self.represent([self.get_object()])[0]
        else:
            # The public's excerpt needs no model instance: the representation's queries find it if it is published.
            found = representations.excerpts([int(kwargs["pk"])], self.links(request), published=True, kept=True)
            if not found:
                raise Http404
            excerpt = found[0]
        if self.describing_linked_data(request):
            return Response(self.linked_data(excerpt))  # a schema.org Quotation (LinkedDataMixin)
        return Response(excerpt)

    def represent(self, excerpts, highlights=None, request=None, kept=False):
        """
        The excerpts as the caller may see them, linked for ``request`` (this one by default): the public's
        representation read as plain rows (api/representations.py; those made before at this data version if
        ``kept``, for a page), a curator's by CuratorExcerptSerializer.
        """
        # The role is the caller's; ``request`` only says how to link (an export's plain request has no user).
        request = request or self.request
        if is_curator(self.request.user):
            context = {**self.get_serializer_context(), "request": request, "highlights": highlights or {}}
            return self.get_serializer(excerpts, many=True, context=context).data
        # Published alone, as the rows were chosen: an excerpt a curator has made a draft since is left out.
        ids = [excerpt.pk for excerpt in excerpts]
        return representations.excerpts(ids, self.links(request), highlights, published=True, kept=kept)

    def links(self, request):
        return representations.Links(request, self.format_kwarg)


@functools.cache
def _published_keys():
    """
    The public's excerpts as a list reads them (ids and sort keys), built once per process, never evaluated: each
    request takes a copy (``.all()``). Building the filter anew was 7% of a list's instructions.
    """
    return Excerpt.objects.published().only(*SORT_FIELDS)


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

    def perform_create(self, serializer):
        super().perform_create(serializer)
        citations.store_renderings([serializer.instance])  # in the write's transaction (CuratedViewSet)

    def perform_update(self, serializer):
        super().perform_update(serializer)
        citations.store_renderings([serializer.instance])


@curated_schema("event", "events", EventSerializer, EventWriteSerializer)
class EventViewSet(CuratedViewSet):
    """Occasions the words belong to. Use an event's slug in the excerpt filter `event`."""

    queryset = Event.objects.all()
    serializer_class = EventSerializer
    write_serializer_class = EventWriteSerializer
    filterset_class = EventFilterSet
    lookup_field = "slug"
    lookup_value_regex = SLUG_PATTERN


class SchemaView(ConditionalGetMixin, SpectacularAPIView):
    """The OpenAPI schema, with an ETag: generating it costs far more than a 304. It describes code, not data."""

    reads_data = False
