"""
The public representation of excerpts, read as plain rows.

``ExcerptSerializer`` declares what the public sees of an excerpt, and the OpenAPI schema is generated from it.
This module gives exactly that output (tests compare the two over the seed corpus and synthetic data, field by
field and byte for byte once rendered) without what made it the larger part of a read: building five model
instances per excerpt and walking nested serializers field by field. One query reads the rows of the excerpts
asked for, with their speaker, event, source and quoted-in source; one reads their topics; each row becomes a
dict. Both queries are compiled by the ORM, once per process for each number of ids (compiling a five-table join
cost more than running it), and then run with the ids as their only parameters.

A page or an excerpt read again while the data has not changed costs neither query nor row: each process keeps the
representations it has made (``FRAGMENTS``), keyed by the data version, the links' base and the excerpt, up to
``settings.API_FRAGMENTS`` of them. On 200,000 excerpts that halved the instructions of a list's first page
(README). Exports make every representation anew: they read each excerpt once.

Curators' representation (drafts, status, timestamps) stays with ``CuratorExcerptSerializer``: few requests read
it, and its timestamps are formatted by DRF.
"""

import datetime
import functools
from typing import Any, NamedTuple

from django.conf import settings
from django.db import connections, router
from django.urls import get_script_prefix, get_urlconf
from rest_framework.reverse import reverse

from ..models import Excerpt
from ..research import caching, citations

# A source's columns, in the order of SourceRow's fields.
SOURCE_COLUMNS = (
    "id",
    "title",
    "author",
    "date",
    "url",
    "place",
    "publisher",
    "kind",
    "archive",
    "citation_rendering",
)
# The columns read for each excerpt, in the order ``_representation`` unpacks them.
COLUMNS = (
    "id",
    "text",
    "kind",
    "attribution",
    "speaker__slug",
    "speaker__name",
    "date",
    "date_start",
    "date_end",
    "date_display",
    "event__slug",
    "event__name",
    "event__date",
    "locator",
    "quoted_in_locator",
    "language",
    "original_text",
    "translator",
    "context",
    *(f"source__{name}" for name in SOURCE_COLUMNS),
    *(f"quoted_in__{name}" for name in SOURCE_COLUMNS),
)
KIND_LABELS = {value: str(label) for value, label in Excerpt.Kind.choices}
# Sentinels that fit the URL patterns' lookups (api/views.py), replaced by each row's own id or slug.
ID_SENTINEL = "987654321987654321"
SLUG_SENTINEL = "slug-sentinel-5e1d"


class SourceRow(NamedTuple):
    """A source as the rows give it: its summary's fields, and what its citation reads."""

    id: int
    title: str
    author: str
    date: str
    url: str
    place: str
    publisher: str
    kind: str
    archive: str
    citation_rendering: str | None

    @property
    def pk(self) -> int:
        """The source's id under the name citations.work_of reads, as a Source has it."""
        return self.id

    def summary(self) -> dict[str, Any]:
        # As SourceSummarySerializer: a source without a URL has null, not "".
        return {"id": self.id, "title": self.title, "author": self.author, "date": self.date, "url": self.url or None}


@functools.lru_cache(maxsize=256)
def _compiled(alias: str, count: int, published: bool) -> tuple[str, tuple[Any, ...], str]:
    """
    The SQL of the row query and of the topic query for ``count`` ids on database ``alias``, and the row query's
    parameters after the ids (the published status, if only published excerpts are read).
    """
    ids = list(range(1, count + 1))
    rows = Excerpt.objects.using(alias).filter(pk__in=ids)
    if published:
        rows = rows.published()
    rows = rows.order_by().values_list(*COLUMNS)
    topics = (
        Excerpt.topics.through.objects.using(alias)
        .filter(excerpt_id__in=ids)
        .order_by("topic__name", "topic__id")  # the Topic model's ordering, as the nested serializer lists them
        .values_list("excerpt_id", "topic__slug", "topic__name")
    )
    rows_sql, rows_params = rows.query.get_compiler(alias).as_sql()
    topics_sql, topics_params = topics.query.get_compiler(alias).as_sql()
    assert list(rows_params[:count]) == ids, "the ids must come first in the row query's parameters"
    assert list(topics_params) == ids, "the ids must be the topic query's only parameters"
    return rows_sql, tuple(rows_params[count:]), topics_sql


def _iso(value: datetime.date | str | None) -> str | None:
    # SQLite hands a raw query its dates as ISO strings already; PostgreSQL as dates.
    return value.isoformat() if isinstance(value, datetime.date) else value


@functools.lru_cache(maxsize=64)
def _path_templates(format, prefix, urlconf):
    """
    The paths linked to, each split around its lookup, for a format suffix (or None); ``prefix`` and ``urlconf``
    (the script prefix and the URLconf, which ``reverse`` reads from the thread) key the cache only.
    """

    def template(view_name, kwarg, sentinel):
        head, _, tail = reverse(view_name, kwargs={kwarg: sentinel}, format=format).rpartition(sentinel)
        return head, tail

    return (
        template("excerpt-detail", "pk", ID_SENTINEL),
        template("speaker-detail", "slug", SLUG_SENTINEL),
        template("event-detail", "slug", SLUG_SENTINEL),
    )


def excerpt_path():
    """The path of one excerpt (for this thread's script prefix and URLconf), split around its id: (head, tail)."""
    return _path_templates(None, get_script_prefix(), get_urlconf())[0]


class Links:
    """
    The absolute URLs the representation links to, built for one request as DRF's hyperlinked fields build them
    (``reverse`` of the path, made absolute by the request), with each path reversed once per process.
    """

    def __init__(self, request, format=None):
        templates = _path_templates(format, get_script_prefix(), get_urlconf())
        self._excerpt, self._speaker, self._event = (
            (request.build_absolute_uri(head), tail) for head, tail in templates
        )
        self.base = (self._excerpt, self._speaker, self._event)  # what the links depend on

    def excerpt(self, pk):
        return f"{self._excerpt[0]}{pk}{self._excerpt[1]}"

    def speaker(self, slug):
        return f"{self._speaker[0]}{slug}{self._speaker[1]}"

    def event(self, slug):
        return f"{self._event[0]}{slug}{self._event[1]}"


# Representations this process has made, each under the data version it was read at, the links' base, whether only
# a published excerpt was asked for, and the excerpt's id, up to settings.API_FRAGMENTS of them. The version is read
# before the rows, so a representation is never older than its key: once a write moves the version, no reader finds
# what it changed. Each is kept as made, without a highlight (a search's passage is the request's: a highlighted
# excerpt is a copy).
FRAGMENTS = caching.ProcessMemo("API_FRAGMENTS")


def excerpts(ids, links, highlights=None, *, published=False, using=None, kept=False):
    """
    The excerpts with ``ids`` as ExcerptSerializer shows them, in the order of ``ids``; an id with no row (or, if
    ``published``, with no published row) is left out. ``highlights`` maps an id to its search passage (null
    without one). With ``kept``, representations made before at the current data version are taken from
    FRAGMENTS, and the others kept there (for a page or an excerpt; an export reads each once).
    """
    ids = list(ids)
    if not ids:
        return []
    version = caching.data_version() if kept and settings.API_FRAGMENTS else None
    if version is None:
        found = {excerpt["id"]: excerpt for excerpt in _made(ids, links, published, using)}
    else:
        base = (version, links.base, published)
        found = {pk: FRAGMENTS.get((*base, pk)) for pk in ids}
        missing = [pk for pk, excerpt in found.items() if excerpt is None]
        for excerpt in _made(missing, links, published, using) if missing else ():
            FRAGMENTS.put((*base, excerpt["id"]), excerpt)
            found[excerpt["id"]] = excerpt
    highlights = highlights or {}
    return [_highlighted(found[pk], highlights) for pk in ids if found.get(pk) is not None]


def _highlighted(excerpt, highlights):
    highlight = highlights.get(excerpt["id"])
    return excerpt if highlight is None else {**excerpt, "highlight": highlight}


def _made(ids, links, published, using):
    """The representations of the excerpts with ``ids`` found, read from the database, in no particular order."""
    using = using or router.db_for_read(Excerpt)
    rows_sql, rows_params, topics_sql = _compiled(using, len(ids), published)
    with connections[using].cursor() as cursor:
        cursor.execute(rows_sql, [*ids, *rows_params])
        rows = cursor.fetchall()
        cursor.execute(topics_sql, ids)
        topics: dict[int, list[dict[str, str]]] = {}
        for excerpt_id, slug, name in cursor.fetchall():
            topics.setdefault(excerpt_id, []).append({"slug": slug, "name": name})
    return [_representation(row, topics.get(row[0], []), links) for row in rows]


def _representation(row, topics, links):
    (
        pk,
        text,
        kind,
        attribution,
        speaker_slug,
        speaker_name,
        date,
        date_start,
        date_end,
        date_display,
        event_slug,
        event_name,
        event_date,
        locator,
        quoted_in_locator,
        language,
        original_text,
        translator,
        context,
    ) = row[:19]
    width = len(SOURCE_COLUMNS)
    source = SourceRow(*row[19 : 19 + width])
    quoted_in = SourceRow(*row[19 + width :]) if row[19 + width] is not None else None
    citation = citations.Citation(
        id=pk,
        speaker=speaker_name,
        kind=kind,
        kind_label=KIND_LABELS.get(kind, kind),
        paraphrase=attribution == Excerpt.Attribution.PARAPHRASE,
        date_display=date_display,
        event=event_name if event_slug is not None else None,
        translator=translator,
        work=citations.work_of(source),
        pages=citations.pages(locator),
        quoted_in=None if quoted_in is None else citations.work_of(quoted_in),
        quoted_in_pages=citations.pages(quoted_in_locator),
        work_rendering=source.citation_rendering,
        quoted_in_rendering=None if quoted_in is None else quoted_in.citation_rendering,
    )
    return {
        "id": pk,
        "url": links.excerpt(pk),
        "text": text,
        "kind": kind,
        "attribution": attribution,
        "speaker": {"slug": speaker_slug, "name": speaker_name, "url": links.speaker(speaker_slug)},
        "date": date,
        "date_start": _iso(date_start),
        "date_end": _iso(date_end),
        "date_display": date_display,
        "event": None
        if event_slug is None
        else {"slug": event_slug, "name": event_name, "date": event_date, "url": links.event(event_slug)},
        "source": source.summary(),
        "locator": locator,
        "quoted_in": None if quoted_in is None else quoted_in.summary(),
        "quoted_in_locator": quoted_in_locator,
        "topics": topics,
        "language": language,
        "original_text": original_text,
        "translator": translator,
        "context": context,
        "citation": citations.chicago_note(citation),
        "highlight": None,
    }
