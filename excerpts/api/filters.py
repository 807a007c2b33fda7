"""
Query-parameter filters for the list endpoints.

Every list refuses parameters it does not know (a typo such as ``speakr=`` must not quietly return
every row) and every value it cannot use, with a 400 problem detail naming the parameter. An empty value
(``date_before=``, ``q=``, or only spaces) is one it cannot use, for every parameter alike: it is never read as
"not given", which a client that meant a value would not notice (EMPTY_VALUE).
"""

import copy
import functools
import re
from functools import reduce
from operator import or_

import django_filters
from django import forms
from django.db.models import Q
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.drainage import set_override
from rest_framework.exceptions import ValidationError

from ..dates import query_period
from ..models import LANGUAGE_TAG_PATTERN, Event, Excerpt, Source, Speaker, Topic, longest_date_span
from ..research import caching, limits, search
from .ordering import ORDERINGS
from .permissions import is_curator

MAX_BIGINT = 2**63 - 1
LANGUAGE_TAG = re.compile(LANGUAGE_TAG_PATTERN)
SLUG = re.compile(r"^[-a-zA-Z0-9_]{1,100}$")
# A parameter every read takes and ignores: the cache-buster some clients add with a fresh value to each request
# (jQuery's ``cache: false`` sends ``_=<milliseconds>``), which would otherwise be refused as unknown. It is part of
# what identifies an answer (its ETag, the answers kept: the links in the body carry it) but not of what is computed
# for the filters (the filtered querysets, counts and facets kept per data version).
CACHE_BUSTER = "_"
# The one rule for an empty value, said to the client of every parameter (and in the schema: api/openapi.py).
EMPTY_VALUE = "An empty value is not allowed: leave the parameter out to not use it."


def literal_error(message, code="invalid"):
    """
    A form error whose text may quote the user's input.

    django-filter formats every message with ``%`` (``message % params``); a value such as ``19%58``
    quoted in a plain message would break that formatting and turn a 400 into a 500.
    """
    return forms.ValidationError("%(message)s", code=code, params={"message": message})


REPEATED_VALUE = "Give this parameter once: it takes one value."


def takes_many(filter):
    """Whether a filter reads every value of its parameter (speaker=a&speaker=b), not one."""
    return isinstance(filter, django_filters.MultipleChoiceFilter | django_filters.ModelMultipleChoiceFilter)


class StrictFilterBackend(DjangoFilterBackend):
    """DjangoFilterBackend that answers 400 to query parameters the endpoint does not define."""

    always_allowed = frozenset({"format", CACHE_BUSTER})

    def filter_queryset(self, request, queryset, view):
        if not request.query_params:
            # Nothing to check, and a filter set of empty values changes nothing: building one cost more than
            # the rest of a detail request.
            return queryset
        if not getattr(view, "keeps_filtered_querysets", False):
            return self.checked_and_filtered(request, queryset, view)
        # The same parameters, checked and applied to the same base queryset at the same data version, give the same
        # queryset: it is kept, unevaluated, and a copy handed out (the one kept is never run). Checking the filters
        # and building their conditions was a quarter of a filtered list's request. An error is never kept.
        key = (type(view), view.action, is_curator(request.user), request_filters(request, view))
        return FILTERED_QUERYSETS.kept(key, lambda: self.checked_and_filtered(request, queryset, view)).all()

    def checked_and_filtered(self, request, queryset, view):
        """The queryset filtered by the request's parameters, once every parameter is known and every value valid."""
        allowed = set(self.always_allowed)
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is not None:
            allowed.update(filterset_class.base_filters)
        paginator = getattr(view, "paginator", None)
        if paginator is not None:
            allowed.update(
                getattr(paginator, name)
                for name in ("cursor_query_param", "page_size_query_param")
                if getattr(paginator, name, None)
            )
        allowed.update(getattr(view, "extra_query_params", ()))
        unknown = sorted(set(request.query_params) - allowed)
        if unknown:
            raise ValidationError(
                {
                    name: [f"Unknown query parameter. Allowed parameters are: {', '.join(sorted(allowed))}."]
                    for name in unknown
                }
            )
        empty = sorted(name for name, values in request.query_params.lists() if not all(map(str.strip, values)))
        if empty:
            raise ValidationError({name: [EMPTY_VALUE] for name in empty})
        # A parameter of one value given twice: Django's QueryDict would read the last and drop the rest unchecked.
        several = {
            name
            for name, filter in (filterset_class.base_filters if filterset_class else {}).items()
            if takes_many(filter)
        }
        repeated = sorted(
            name for name, values in request.query_params.lists() if len(values) > 1 and name not in several
        )
        if repeated:
            raise ValidationError({name: [REPEATED_VALUE] for name in repeated})
        return super().filter_queryset(request, queryset, view)

    def get_filterset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is None:
            return None
        asked = narrowed(filterset_class, frozenset(request.query_params))
        return asked(**self.get_filterset_kwargs(request, queryset, view))


def request_filters(request, view):
    """
    The request's query parameters that filter, in a fixed order: all but the paginator's position and size, and the
    cache-buster.
    """
    paginator = getattr(view, "paginator", None)
    position = {
        getattr(paginator, "cursor_query_param", None),
        getattr(paginator, "page_size_query_param", None),
        CACHE_BUSTER,
    }
    params = request.query_params.lists()
    return tuple(sorted((name, tuple(values)) for name, values in params if name not in position))


@functools.lru_cache(maxsize=512)
def narrowed(filterset_class, names):
    """
    ``filterset_class`` with only the filters named in ``names``: a filter not asked for finds nothing to check and
    changes nothing, but django-filter copies every filter and builds and cleans a form field for each on every
    request, which cost more than the rest of a filtered list. The schema still documents the whole class.
    """
    filters = {name: filter for name, filter in filterset_class.base_filters.items() if name in names}
    if len(filters) == len(filterset_class.base_filters):
        return filterset_class
    subclass = type(filterset_class.__name__, (filterset_class,), {"__module__": filterset_class.__module__})
    subclass.base_filters = filters  # after the metaclass, which collects every declared filter again
    return subclass


class PartialDateField(forms.CharField):
    """A YYYY, YYYY-MM or YYYY-MM-DD value, cleaned to its (first_day, last_day) period."""

    def to_python(self, value):
        value = super().to_python(value)
        if not value:
            return None
        try:
            return query_period(value)
        except ValueError as error:
            raise literal_error(str(error), code="invalid_date") from None


class BigIntegerListField(forms.MultipleChoiceField):
    """Repeated integer ids, refused before they reach the database if they are not valid ids."""

    default_error_messages = {"invalid_choice": f"%(value)s is not an id: use a whole number from 1 to {MAX_BIGINT}."}

    def valid_value(self, value):
        return value.isascii() and value.isdigit() and 1 <= int(value) <= MAX_BIGINT

    def to_python(self, value):
        return [str(item) for item in super().to_python(value)]


class LanguageListField(forms.MultipleChoiceField):
    """Repeated BCP 47 language tags."""

    default_error_messages = {"invalid_choice": "%(value)s is not a BCP 47 language tag such as zh, ru or en."}

    def valid_value(self, value):
        return bool(LANGUAGE_TAG.match(value))


class SearchQueryField(forms.CharField):
    """A full-text query (words, "phrases", -exclusions), cleaned to a search.SearchQuery."""

    def to_python(self, value):
        value = super().to_python(value)
        if not value:
            return None
        if len(value) > limits.MAX_Q_LENGTH:
            raise forms.ValidationError(
                f"The query is {len(value)} characters long; at most {limits.MAX_Q_LENGTH} are allowed.",
                code="max_length",
            )
        if "\x00" in value:
            raise forms.ValidationError("Null characters are not allowed.", code="null_characters_not_allowed")
        try:
            return search.parse_query(value)
        except search.QueryError as error:
            raise literal_error(str(error), code="invalid_query") from None


class ExcerptFilterForm(forms.Form):
    def clean(self):
        cleaned = super().clean()
        if cleaned.get("ordering") == "relevance" and not cleaned.get("q") and "q" not in self.errors:
            raise forms.ValidationError(
                {"ordering": "ordering=relevance needs a search: give q as well."}, code="relevance_without_q"
            )
        after, before = cleaned.get("date_after"), cleaned.get("date_before")
        if after and before and after[0] > before[1]:
            raise forms.ValidationError(
                {"date_after": "date_after is later than date_before: the range is empty."}, code="empty_range"
            )
        return cleaned


class SharedFieldMixin:
    """
    A filter whose copies share its form field. django-filter deep-copies each filter of the filter set for every
    request (its ``extra`` with its queryset, its label, its method) and each copy builds its form field again;
    here the copy is shallow and the field is built once per process. Each request's form still cleans with
    fields of its own: Django's Form copies the fields of its class.
    """

    def __deepcopy__(self, memo):
        self.field  # noqa: B018 (built on the filter set's own filter, once)
        clone = copy.copy(self)
        if self.method is not None:
            # A FilterMethod bound to the copy, which finds the method on its parent: the request's filter set.
            clone.method = self.method
        return clone


class PreparedFilterSet(django_filters.FilterSet):
    """A filter set whose form class is built once per process (its filters' fields are shared: SharedFieldMixin)."""

    def get_form_class(self):
        form_class = type(self).__dict__.get("prepared_form_class")
        if form_class is None:
            form_class = type(self).prepared_form_class = super().get_form_class()
        return form_class


class DocumentedSchemaMixin:
    """Give the OpenAPI parameter an explicit schema (``value_schema``) and the filter's label as description."""

    value_schema = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.value_schema is not None:
            set_override(self, "field", {**self.value_schema, "description": self.label})


class MultipleValueFilter(SharedFieldMixin, django_filters.MultipleChoiceFilter):
    """Repeated values ORed together. No DISTINCT: the field is on the filtered table itself."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("distinct", False)
        super().__init__(*args, **kwargs)


class SourceIdFilter(DocumentedSchemaMixin, MultipleValueFilter):
    field_class = BigIntegerListField
    value_schema = {"type": "integer", "minimum": 1, "maximum": MAX_BIGINT}


class LanguageFilter(DocumentedSchemaMixin, MultipleValueFilter):
    field_class = LanguageListField
    value_schema = {"type": "string", "pattern": LANGUAGE_TAG.pattern}


class PartialDateFilter(SharedFieldMixin, DocumentedSchemaMixin, django_filters.Filter):
    field_class = PartialDateField
    # No "example": Swagger UI's "Try it out" fills a parameter's example in as its value, and every request sent from
    # the page would be filtered by it unseen. The labels give examples in prose.
    value_schema = {"type": "string", "pattern": r"^[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?$"}


class SlugListField(django_filters.fields.ModelMultipleChoiceField):
    """
    Repeated slugs, checked for shape before they are looked up. The objects they name are looked up once per data
    version in each process (``KNOWN_OBJECTS``): a filtered list looked them up with a query of its own, and built a
    queryset per slug to check its type, on every request. The field's queryset is always a whole table.
    """

    def clean(self, value):
        for item in value or ():
            if not isinstance(item, str) or not SLUG.match(item):
                raise literal_error(f"{item!r} is not a slug: use letters, digits, hyphens and underscores.")
        return super().clean(value)

    def _check_values(self, value):
        slugs, check = frozenset(value), super()._check_values
        key = (self.queryset.model._meta.label, self.to_field_name, slugs)
        # An unknown slug raises, and is not kept. The caller gets a list of its own.
        return list(KNOWN_OBJECTS.kept(key, lambda: list(check(list(slugs)))))


def known_date_span(using):
    """
    ``longest_date_span()`` of database ``using``, read once per data version in each process (``KNOWN_SPANS``): a
    query of its own on every request with ``date_after``.
    """
    return KNOWN_SPANS.kept((using,), lambda: longest_date_span(using))


# What each process keeps per data version (caching.ProcessMemo, the oldest going first past the bound): the objects
# slugs named, by (model, slug field, slugs), for SlugListField; the longest date span, by database, for date_after;
# and the filtered querysets of the views that keep them, by (view, action, role, filters), for StrictFilterBackend
# (fewer: each holds a query).
KNOWN_OBJECTS = caching.ProcessMemo(4096)
KNOWN_SPANS = caching.ProcessMemo(64)
FILTERED_QUERYSETS = caching.ProcessMemo(512)


class SearchQueryFilter(SharedFieldMixin, DocumentedSchemaMixin, django_filters.CharFilter):
    field_class = SearchQueryField
    value_schema = {
        "type": "string",
        "minLength": 1,
        "maxLength": limits.MAX_Q_LENGTH,
        "pattern": r"\S",
    }


class SlugMultipleFilter(SharedFieldMixin, DocumentedSchemaMixin, django_filters.ModelMultipleChoiceFilter):
    """Repeated slugs of existing objects; an unknown slug is a 400, not an empty result."""

    field_class = SlugListField
    value_schema = {"type": "string", "pattern": SLUG.pattern}

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("distinct", False)
        model = kwargs["queryset"].model._meta
        kwargs.setdefault(
            "error_messages",
            {
                "invalid_choice": f"No {model.verbose_name} has the slug %(value)s. "
                f"The list of {model.verbose_name_plural} gives the valid slugs."
            },
        )
        super().__init__(*args, **kwargs)

    def get_filter_predicate(self, v):
        # Filter on the foreign key itself (an indexed integer), not on a join to the slug column.
        return {self.field_name: v}


class SearchTextFilter(SharedFieldMixin, DocumentedSchemaMixin, django_filters.CharFilter):
    """Free text, capped so a runaway query string cannot become a runaway database query."""

    value_schema = {"type": "string", "minLength": 1, "maxLength": limits.MAX_Q_LENGTH, "pattern": r"\S"}

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", limits.MAX_Q_LENGTH)
        super().__init__(*args, **kwargs)


class OrderingChoiceFilter(SharedFieldMixin, django_filters.ChoiceFilter):
    """``ordering``: one of the orders api/ordering.py knows."""


def text_search(*fields, label):
    """A case-insensitive `q` over the given fields (any of them may contain the text)."""

    def filter_text(queryset, name, value: str):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(reduce(or_, (Q(**{f"{field}__icontains": value}) for field in fields)))

    return SearchTextFilter(field_name=fields[0], lookup_expr="icontains", method=filter_text, label=label)


class ExcerptFilterSet(PreparedFilterSet):
    """
    The excerpt list's parameters. Every one is checked here, so one 400 names every bad value; all but two
    filter here too. ``q`` and ``ordering`` depend on each other (a date order tests a common term per excerpt,
    a relevance order ranks), so the view applies them after the filters: the search plan
    (``research/search.py``), then the order (``api/ordering.py``).
    """

    applied_later = ("q", "ordering")

    speaker = SlugMultipleFilter(
        field_name="speaker",
        to_field_name="slug",
        queryset=Speaker.objects.all(),
        method="filter_speakers",
        label="Speaker slug (e.g. mao-zedong). Repeat for any of several speakers.",
    )
    topic = SlugMultipleFilter(
        field_name="topics",
        to_field_name="slug",
        queryset=Topic.objects.all(),
        method="filter_topics",
        label="Topic slug (e.g. de-stalinization). Repeat for excerpts on any of several topics.",
    )
    event = SlugMultipleFilter(
        field_name="event",
        to_field_name="slug",
        queryset=Event.objects.all(),
        label="Event slug (e.g. twentieth-party-congress). Repeat for any of several events.",
    )
    kind = MultipleValueFilter(
        field_name="kind",
        lookup_expr="exact",
        choices=Excerpt.Kind.choices,
        label="Kind of excerpt. Repeat for any of several kinds.",
    )
    attribution = MultipleValueFilter(
        field_name="attribution",
        lookup_expr="exact",
        choices=Excerpt.Attribution.choices,
        label="direct (verbatim, in translation) or paraphrase.",
    )
    language = LanguageFilter(
        field_name="language",
        lookup_expr="exact",
        label="BCP 47 code of the original language (zh, ru, en). Repeat for any of several.",
    )
    status = MultipleValueFilter(
        field_name="status",
        lookup_expr="exact",
        choices=Excerpt.Status.choices,
        label="draft or published. Only curators see drafts; for everyone else every excerpt is published.",
    )
    source = SourceIdFilter(
        field_name="source_id",
        lookup_expr="exact",
        label="Source id. Repeat for any of several sources.",
    )
    date_after = PartialDateFilter(
        field_name="date_end",
        lookup_expr="gte",
        method="filter_date_after",
        label=(
            "Excerpts that may date from this day or later: YYYY, YYYY-MM or YYYY-MM-DD (1958, 1958-07, "
            "1958-07-31), a partial date meaning its first day. Matches when the excerpt's possible range overlaps, "
            "so an excerpt dated only 1958 is found by date_after=1958-07-01."
        ),
    )
    date_before = PartialDateFilter(
        field_name="date_start",
        lookup_expr="lte",
        method="filter_date_before",
        label=(
            "Excerpts that may date from this day or earlier: YYYY, YYYY-MM or YYYY-MM-DD (1958, 1958-07, "
            "1958-07-31), a partial date meaning its last day (date_before=1958 means up to 1958-12-31)."
        ),
    )
    q = SearchQueryFilter(
        field_name="text",
        lookup_expr="search",
        label=(
            "Full-text search in the words, original text and context, the speaker's name and aliases, and the "
            "source title. Every word must match, in any case; a word of two or more characters also matches longer "
            "words it begins (commune finds communes, communi finds communism), nothing is stemmed, accents count "
            '(Zhōu is not Zhou) and no word is ignored. "A quoted phrase" matches its words whole and in order; '
            'punctuation inside a word makes a phrase of its parts (Tse-tung). -word or -"a phrase" excludes. Each '
            "Chinese or Japanese character is a word: 东风 finds the two characters together inside 东风压倒西风. "
            "Results are then ordered by relevance unless ordering says otherwise (excerpts whose own text or "
            "original text holds every word first, the newest first among equals), and each carries a highlight. "
            f"At most {limits.MAX_Q_LENGTH} characters and {limits.MAX_TERMS} words or phrases. For example: "
            '`commune -"people\'s daily"`.'
        ),
    )
    ordering = OrderingChoiceFilter(
        field_name="ordering",  # not a column: the ordering backend sorts (api/ordering.py)
        lookup_expr="exact",
        choices=[(key, key) for key in ORDERINGS],
        empty_label=None,
        label=(
            "Sort order: date (default), -date, speaker or -speaker (by name, then date), or relevance (the "
            "default with q, and only with q: excerpts whose own text or original text holds every word of q "
            "before those matched through their context, speaker or source; the newest matches first among "
            "equals). Ties are broken by id."
        ),
    )

    class Meta:
        model = Excerpt
        form = ExcerptFilterForm
        fields = []

    def filter_speakers(self, queryset, name, value: list[Speaker]):
        if not value:
            return queryset
        # The copied names say the same again, so the speaker-ordering index can lead: without them PostgreSQL
        # walked that index from the first name to the asked speaker's for ordering=speaker (1.5 s at 1M).
        return queryset.filter(speaker__in=value, speaker_name__in={speaker.name for speaker in value})

    def filter_topics(self, queryset, name, value: list[Topic]):
        if not value:
            return queryset
        # IN, not a correlated EXISTS: SQLite then reads a topic's excerpts from the links index instead of testing
        # every excerpt in date order for a link (a count of a common topic's first 10,000 walked 270,000 rows).
        tagged = Excerpt.topics.through.objects.filter(topic__in=value).values("excerpt_id")
        return queryset.filter(id__in=tagged)

    def filter_date_after(self, queryset, name, value: tuple):
        return queryset.overlapping(start=value[0], span=known_date_span(queryset.db)) if value else queryset

    def filter_date_before(self, queryset, name, value: tuple):
        return queryset.overlapping(end=value[1]) if value else queryset

    def filter_queryset(self, queryset):
        """Apply every filter but ``q`` and ``ordering`` (see the class docstring)."""
        for name, value in self.form.cleaned_data.items():
            if name not in self.applied_later:
                queryset = self.filters[name].filter(queryset, value)
        return queryset


class SpeakerFilterSet(PreparedFilterSet):
    q = text_search("name", "aliases", label="Text in the name or any alias.")
    kind = MultipleValueFilter(
        field_name="kind", lookup_expr="exact", choices=Speaker.Kind.choices, label="person or organization."
    )

    class Meta:
        model = Speaker
        fields = []


class TopicFilterSet(PreparedFilterSet):
    q = text_search("name", label="Text in the topic's name.")
    parent = SlugMultipleFilter(
        field_name="parent", to_field_name="slug", queryset=Topic.objects.all(), label="Slug of the broader topic."
    )

    class Meta:
        model = Topic
        fields = []


class SourceFilterSet(PreparedFilterSet):
    q = text_search("title", "author", label="Text in the title or author.")
    kind = MultipleValueFilter(
        field_name="kind", lookup_expr="exact", choices=Source.Kind.choices, label="Kind of work."
    )

    class Meta:
        model = Source
        fields = []


class EventFilterSet(PreparedFilterSet):
    q = text_search("name", "place", label="Text in the name or place.")

    class Meta:
        model = Event
        fields = []
