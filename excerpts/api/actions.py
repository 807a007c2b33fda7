"""
What the excerpt API does besides list, read and write, one mixin per concern: facet counts, random
excerpts, citations, the streamed export of the list, and an excerpt's history.

Each mixin documents its own operations. They expect a GenericViewSet over excerpts (``get_queryset``,
``get_object``, ``get_serializer``, and ``matching_rows`` or ``planned_rows``: the filtered, searched excerpts,
the latter with their search plan); ``ExcerptViewSet`` composes them.
"""

import functools
import secrets

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.fields import BooleanField
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from ..history import history_entries
from ..models import Excerpt
from ..research import caching, citations, facets, limits, sampling
from . import filenames, linked_data, renderers
from .caching import request_parts
from .filters import CACHE_BUSTER
from .openapi import (
    BOM_PARAMETER,
    CITATION_RESPONSES,
    CURATOR_DETAIL_RESPONSES,
    DETAIL_RESPONSES,
    EXCERPT_ID,
    EXPORT_DESCRIPTION,
    JSON,
    LINKED_DATA_RESPONSE,
    LIST_RESPONSES,
    STYLE_PARAMETER,
    FacetsSerializer,
    RandomExcerptsSerializer,
)
from .permissions import IsCurator, is_curator
from .serializers import HistoryEntrySerializer, RandomQuerySerializer
from .statement_budget import lift_statement_budget

# The list's parameter asking for a CSV export that starts with a UTF-8 byte-order mark (ExportMixin).
BOM = "bom"
# Every text format has an operation of its own too, at a URL that names the format (api/urls.py): its one 200
# declares that one media type, so that a client generator types the answer (a string, or JSON), where the list's
# and cite/'s answers depend on a parameter. The file extension of each citation style's URL:
CITATION_EXTENSIONS = {"csl-json": "json", "bibtex": "bib", "ris": "ris", "chicago": "txt"}
# The actions that answer with every match at once (the heavier rate limit applies, api/views.py).
EXPORTS = ("export_csv", "export_jsonl")
BIBLIOGRAPHIES = ("cite_list", *(f"cite_list_{style.replace('-', '_')}" for style in citations.STYLES))


class FacetsMixin:
    """``facets/``: how many of the filtered excerpts have each speaker, topic, kind, year..."""

    @staticmethod
    def facets_of_the_whole_corpus(request):
        """Whether no filter narrows the facets asked for, so the trigger-kept summary table answers."""
        return set(request.query_params) <= {"format", "status", CACHE_BUSTER}

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
        plan, queryset = self.planned_rows(ordered=False)
        if self.facets_of_the_whole_corpus(request):
            # The whole corpus (or all of it in some statuses): exact counts from the trigger-kept summary table.
            visible = Excerpt.Status.values if is_curator(request.user) else [Excerpt.Status.PUBLISHED]
            asked = request.query_params.getlist("status") or visible
            statuses = [status for status in visible if status in asked]
            return Response(facets.summary_counts(statuses))
        # A filtered set is counted in one pass over at most SCAN_LIMIT matches, cached until the data changes.
        parts = request_parts(request, ignore={CACHE_BUSTER})
        counts = caching.cached("facets", parts, lambda: facets.facet_counts(queryset, plan=plan))
        return Response(counts)


class RandomMixin:
    """``random/``: a seeded, reproducible draw among the filtered excerpts."""

    @extend_schema(
        summary="Random excerpts, reproducible with a seed",
        parameters=[RandomQuerySerializer],
        filters=True,
        responses={(200, JSON): RandomExcerptsSerializer, **LIST_RESPONSES},
    )
    # Without a seed every draw differs: it has no ETag and is not stored.
    @action(detail=False, pagination_class=None, extra_query_params=("count", "seed"), cacheable_only_with=("seed",))
    def random(self, request):
        """
        `count` (1-50) random excerpts among those the filters match. The same `seed` gives the same
        excerpts while the data is the same; the response says which seed it used. Up to 1,000 matches
        are sampled exactly; from more, the draw is made from five stretches of 200 consecutive matches
        (by id) at seeded random points, so a draw costs the same at any size.
        """
        queryset = self.matching_rows(ordered=False)  # every parameter known and none empty (filters.py), count too
        params = RandomQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        seed = params.validated_data.get("seed", secrets.randbelow(2**31))
        ids = sampling.random_ids(queryset, params.validated_data["count"], seed)
        # The ids are matches already: fetch them without searching again.
        found = self.get_queryset().order_by().filter(id__in=ids).in_bulk()
        excerpts = [found[pk] for pk in ids]
        return Response({"seed": seed, "results": self.get_serializer(excerpts, many=True).data})


def _citation_operation(style, *, many):
    """The operation citing one excerpt (or, if ``many``, every match) in ``style`` alone: cite.bib and the like."""
    media_type = citations.STYLES[style].split(";")[0]
    extension = CITATION_EXTENSIONS[style]
    body = {"type": "array", "items": {"type": "object"}} if style == "csl-json" else OpenApiTypes.STR

    def operation(self, request, pk=None):
        return self.citation_response(self.bibliography() if many else [self.get_object()], style)

    operation.__doc__ = (
        f"Citations of every excerpt the filters match, as {style}, in list order: cite/?style={style} with this "
        f"one media type. At most 1000 (MAX_BIBLIOGRAPHY); a larger set is a 400."
        if many
        else f"The excerpt's citation as {style}: cite/?style={style} with this one media type."
    )
    return extend_schema(
        summary=f"Cite every matching excerpt as {style} (cite.{extension})"
        if many
        else f"Cite one excerpt as {style} (cite.{extension})",
        operation_id=f"v1_excerpts_cite_{'list_' if many else ''}{style.replace('-', '_')}",
        parameters=None if many else [EXCERPT_ID],
        filters=many,
        responses={
            (200, media_type): OpenApiResponse(body, description=f"The citation{'s' if many else ''} as {style}."),
            **(LIST_RESPONSES if many else DETAIL_RESPONSES),
        },
    )(operation)


class CitationsMixin:
    """
    ``cite/``: one excerpt's citation, or a bibliography of the filtered list, in a reference manager's format
    (``style``); and the same at URLs that name the format, one operation each (``cite.bib``, ...).
    """

    def citation_response(self, excerpts, style=None):
        if style is None:
            style = self.request.query_params.get("style", citations.DEFAULT_STYLE)
        if style not in citations.STYLES:
            raise ValidationError({"style": [f"Unknown citation style. Use one of: {', '.join(citations.STYLES)}."]})
        cited = [citations.of_excerpt(excerpt) for excerpt in excerpts]
        response = HttpResponse(citations.render(cited, style), content_type=citations.STYLES[style])
        response["Content-Disposition"] = f'inline; filename="citations.{CITATION_EXTENSIONS[style]}"'
        return response

    def bibliography(self):
        """Every excerpt the filters match, in list order, if they are at most MAX_BIBLIOGRAPHY; else a 400."""
        bound = limits.MAX_BIBLIOGRAPHY
        excerpts = list(self.matching_rows()[: bound + 1])
        if len(excerpts) > bound:
            raise ValidationError(
                {
                    "request": [
                        f"More than {bound} excerpts match; a bibliography holds at most {bound}. "
                        "Narrow the filters, or export the list with format=csv or format=jsonl."
                    ]
                }
            )
        return excerpts

    @extend_schema(
        summary="Cite one excerpt",
        operation_id="v1_excerpts_cite",
        parameters=[STYLE_PARAMETER, EXCERPT_ID],
        responses={**CITATION_RESPONSES, **DETAIL_RESPONSES},
    )
    @action(detail=True, pagination_class=None, extra_query_params=("style",))
    def cite(self, request, pk=None):
        """
        The excerpt's citation in the format a reference manager imports. Each format also has an operation of its
        own, whose schema declares its one media type: cite.json, cite.bib, cite.ris and cite.txt.
        """
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
        the filters for more (a larger set is a 400). Each format also has an operation of its own, whose schema
        declares its one media type: cite.json, cite.bib, cite.ris and cite.txt.
        """
        return self.citation_response(self.bibliography())

    cite_csl_json = _citation_operation("csl-json", many=False)
    cite_bibtex = _citation_operation("bibtex", many=False)
    cite_ris = _citation_operation("ris", many=False)
    cite_chicago = _citation_operation("chicago", many=False)
    cite_list_csl_json = _citation_operation("csl-json", many=True)
    cite_list_bibtex = _citation_operation("bibtex", many=True)
    cite_list_ris = _citation_operation("ris", many=True)
    cite_list_chicago = _citation_operation("chicago", many=True)


class ExportMixin:
    """
    The list as a streamed CSV or JSON Lines file (``?format=csv``, ``?format=jsonl`` or their Accept
    types), every match at once; errors about it stay JSON problem details. ``bom=true`` starts a CSV with a UTF-8
    byte-order mark, for Excel. The file is named after what was exported (api/filenames.py).
    """

    @property
    def extra_query_params(self):
        """
        The query parameters the action takes besides the filters and the page's (filters.StrictFilterBackend): an
        @action's own, and ``bom`` on the list alone (``list`` is no @action to declare it).
        """
        return self.__dict__.get("_extra_query_params", (BOM,) if self.action in ("list", "export_csv") else ())

    @extra_query_params.setter
    def extra_query_params(self, value):
        # DRF sets an @action's ``extra_query_params=`` on the view it makes for that action.
        self._extra_query_params = value

    def get_renderers(self):
        if self.action == "list":
            return [renderer() for renderer in renderers.LIST_RENDERERS]
        if self.action == "export_csv":
            return [renderers.CSVRenderer()]
        if self.action == "export_jsonl":
            return [renderers.JSONLinesRenderer(), renderers.NDJSONRenderer()]
        return super().get_renderers()

    @extend_schema(
        summary="Export every matching excerpt as CSV (export.csv)",
        operation_id="v1_excerpts_export_csv",
        parameters=[BOM_PARAMETER],
        filters=True,
        responses={
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description=EXPORT_DESCRIPTION.format("CSV")),
            **LIST_RESPONSES,
        },
    )
    def export_csv(self, request):
        """The whole filtered list as a CSV file, streamed: the list's format=csv, with this one media type."""
        return self.export_matches(request)

    @extend_schema(
        summary="Export every matching excerpt as JSON Lines (export.jsonl)",
        operation_id="v1_excerpts_export_jsonl",
        filters=True,
        responses={
            (200, "application/jsonl"): OpenApiResponse(
                OpenApiTypes.STR, description=EXPORT_DESCRIPTION.format("JSON Lines, one excerpt as JSON a line")
            ),
            **LIST_RESPONSES,
        },
    )
    def export_jsonl(self, request):
        """The whole filtered list as a JSON Lines file, streamed: the list's format=jsonl, with one media type."""
        return self.export_matches(request)

    def export_matches(self, request):
        """Every excerpt the filters and the search match, in list order, as the accepted export format."""
        queryset = self.filter_queryset(self.get_queryset())
        plan = self.search_plan(queryset)
        byte_order_mark = self.byte_order_mark(request)
        return self.export(plan.rows(queryset), plan.counted(queryset), byte_order_mark)

    def finalize_response(self, request, response, *args, **kwargs):
        if isinstance(response, Response) and isinstance(
            getattr(request, "accepted_renderer", None), renderers.ExportRenderer
        ):
            # Only the export itself is CSV or JSON Lines; an error about it is a JSON problem.
            request.accepted_renderer, request.accepted_media_type = JSONRenderer(), JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)

    def exporting(self, request):
        """Whether the request asks for the whole list as a file rather than a page."""
        return isinstance(request.accepted_renderer, renderers.ExportRenderer)

    def byte_order_mark(self, request):
        """
        Whether the CSV export asked for starts with a byte-order mark (``bom``, false by default). A value that is
        not a boolean, a repeated ``bom``, or ``bom=true`` on anything but a CSV export is a 400.
        """
        values = request.query_params.getlist(BOM)
        if not values:
            return False
        if len(values) > 1:
            raise ValidationError({BOM: ["Give bom once, true or false."]})
        try:
            wanted = BooleanField().to_internal_value(values[0])
        except ValidationError:
            raise ValidationError({BOM: [f"Must be true or false, not {values[0]!r}."]}) from None
        if wanted and not isinstance(request.accepted_renderer, renderers.CSVRenderer):
            raise ValidationError(
                {BOM: ["Only a CSV export has a byte-order mark: use it with format=csv (or Accept: text/csv)."]}
            )
        return wanted

    def export(self, rows, counted=None, byte_order_mark=False):
        """
        Stream every row of the searched, ordered list in the accepted format (a CSV with a byte-order mark if asked),
        with their number (``counted``: the same rows, cheapest to count); a HEAD gets the headers alone, without
        running the export.
        """
        head = self.request.method == "HEAD"
        # An export may read for minutes, a cheap step at a time, and its count is one statement over every match:
        # the public reads' time budget is for pages, not for this.
        lift_statement_budget(self.request)
        plain = renderers.without_format(self.request)  # the exported links are the API's plain links
        if not is_curator(self.request.user):
            # The public's representation reads the rows' ids alone (a page's too): no model instance is made.
            rows = rows.values_list("pk", named=True)
        renderer = self.request.accepted_renderer
        if byte_order_mark:
            renderer = renderers.CSVRenderer(byte_order_mark=True)
        asked = [(name, value) for name, values in self.request.query_params.lists() for value in values]
        name = filenames.export_name("excerpts", asked, renderer.extension)
        return renderers.stream_export(
            rows,
            renderer,
            functools.partial(self.represent, request=plain),
            counted=counted,
            head=head,
            disposition=filenames.content_disposition(name),
        )


class LinkedDataMixin:
    """
    One excerpt as JSON-LD, a schema.org Quotation (``Accept: application/ld+json`` or ``?format=jsonld`` on the
    detail; api/linked_data.py). The list has no JSON-LD: it is a page of excerpts, or an export.
    """

    def get_renderers(self):
        if self.action == "retrieve":
            return [renderer() for renderer in renderers.DETAIL_RENDERERS]
        if self.action == "retrieve_linked_data":
            return [renderers.JSONLDRenderer()]
        return super().get_renderers()

    @extend_schema(
        summary="Retrieve one excerpt as JSON-LD ({id}.jsonld)",
        operation_id="v1_excerpts_retrieve_linked_data",
        parameters=[EXCERPT_ID],
        responses={(200, renderers.JSONLDRenderer.media_type): LINKED_DATA_RESPONSE, **DETAIL_RESPONSES},
    )
    def retrieve_linked_data(self, request, pk=None):
        """The excerpt as a schema.org Quotation in JSON-LD: the detail's format=jsonld, with this one media type."""
        return self.retrieve(request, pk=pk)

    def describing_linked_data(self, request):
        """Whether the request asks for JSON-LD rather than the API's JSON."""
        return isinstance(request.accepted_renderer, renderers.JSONLDRenderer)

    def linked_data(self, excerpt):
        """The JSON-LD document of one excerpt as the API shows it."""
        return linked_data.quotation(excerpt, linked_data.details(excerpt["id"]), self.request.build_absolute_uri)


class HistoryMixin:
    """``history/``: every change to one excerpt, for curators."""

    @extend_schema(
        summary="History of one excerpt (curators)",
        parameters=[EXCERPT_ID],
        responses={(200, JSON): HistoryEntrySerializer(many=True), **CURATOR_DETAIL_RESPONSES},
    )
    @action(detail=True, methods=["get"], permission_classes=[IsCurator], pagination_class=None, filter_backends=[])
    def history(self, request, pk=None):
        """Every change to the excerpt, newest first: who, when, and each field's old and new value."""
        return Response(HistoryEntrySerializer(history_entries(self.get_object()), many=True).data)
