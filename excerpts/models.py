"""
Speakers, sources, topics, events and the excerpts that tie them together, and the read-only model of
SQLite's search index.

A little over 400 lines, kept whole on purpose: Django finds an app's models in one module, and each model
here is short (fields with their help text, Meta, a few methods); splitting would only scatter them.
"""

import datetime
import math

from django.core.exceptions import ValidationError
from django.core.validators import MinLengthValidator, RegexValidator
from django.db import connections, models
from django.db.models import Q
from django.db.models.expressions import RawSQL
from django.urls import reverse
from simple_history.models import HistoricalRecords

from .dates import parse_bounds, validate_edtf, validate_optional_edtf

# A primary language subtag and up to three more (script, region, variant): zh, zh-Hant, zh-Hant-TW.
LANGUAGE_TAG_PATTERN = r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8}){0,3}$"
language_validator = RegexValidator(
    LANGUAGE_TAG_PATTERN,
    "Use a BCP 47 language tag such as zh, ru, en or zh-Hant.",
)


def validate_aliases(value):
    """Aliases are a list of distinct, non-empty strings."""
    if not isinstance(value, list) or not all(isinstance(item, str) and item.strip() for item in value):
        raise ValidationError("Aliases must be a list of non-empty names.")
    if len({item.strip().casefold() for item in value}) != len(value):
        raise ValidationError("Aliases must not repeat.")


class SlugManager(models.Manager):
    """Look reference data up by slug, its natural key in fixtures."""

    def get_by_natural_key(self, slug):
        return self.get(slug=slug)


class SpeakerQuerySet(models.QuerySet):
    def with_excerpt_count(self):
        """
        Annotate each speaker with the number of its published excerpts, read from the facet summary
        table that triggers keep (excerpts/db/facet_summary.py): an index seek per speaker, where counting the
        excerpts themselves grouped a million rows for a page of twenty speakers.
        """
        return self.annotate(
            excerpt_count=RawSQL(
                "SELECT CAST(coalesce(sum(c.count), 0) AS bigint) FROM excerpts_facet_count c "
                "WHERE c.status = %s AND c.facet = 'speaker' AND c.value = CAST(excerpts_speaker.id AS text)",
                (Excerpt.Status.PUBLISHED,),
                output_field=models.BigIntegerField(),
            )
        )


class Speaker(models.Model):
    """A person or a body (editorial board, party committee, conference) whose words are quoted."""

    class Kind(models.TextChoices):
        PERSON = "person", "Person"
        ORGANIZATION = "organization", "Organization"

    slug = models.SlugField(max_length=100, unique=True, help_text="Stable identifier used in URLs, e.g. mao-zedong.")
    name = models.CharField(max_length=200, help_text="Canonical name, e.g. Mao Zedong.")
    aliases = models.JSONField(
        default=list,
        blank=True,
        validators=[validate_aliases],
        help_text='Other spellings and romanizations seen in sources, e.g. ["Mao Tse-tung"].',
    )
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.PERSON, help_text="Person or body.")
    description = models.TextField(blank=True, help_text="Who this is, in a sentence or two.")
    born = models.CharField(
        max_length=50, blank=True, validators=[validate_optional_edtf], help_text="EDTF date of birth or founding."
    )
    died = models.CharField(
        max_length=50, blank=True, validators=[validate_optional_edtf], help_text="EDTF date of death or dissolution."
    )
    history = HistoricalRecords()

    objects = SlugManager.from_queryset(SpeakerQuerySet)()

    class Meta:
        ordering = ["name", "id"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("speaker-detail", kwargs={"slug": self.slug})

    def natural_key(self):
        return (self.slug,)


class Source(models.Model):
    """A citable work in which excerpts are printed: a book, a newspaper issue, an archival document."""

    class Kind(models.TextChoices):
        BOOK = "book", "Book"
        NEWSPAPER = "newspaper", "Newspaper"
        ARCHIVAL = "archival", "Archival document"
        TRANSCRIPT = "transcript", "Transcript"
        ARTICLE = "article", "Article"
        WEBSITE = "website", "Website"

    slug = models.SlugField(max_length=100, unique=True, help_text="Stable identifier, the source's natural key.")
    title = models.CharField(max_length=500, help_text="Title as cited.")
    author = models.CharField(max_length=300, blank=True, help_text="Author or editor(s), as cited.")
    kind = models.CharField(max_length=20, choices=Kind.choices, help_text="What sort of work this is.")
    publisher = models.CharField(max_length=300, blank=True, help_text="Publisher or issuing body.")
    place = models.CharField(max_length=200, blank=True, help_text="Place of publication.")
    date = models.CharField(
        max_length=50, blank=True, validators=[validate_optional_edtf], help_text="EDTF date of publication."
    )
    url = models.URLField(max_length=500, blank=True, help_text="Where the work can be read online.")
    archive = models.CharField(max_length=300, blank=True, help_text="Repository holding the document, if archival.")
    notes = models.TextField(blank=True, help_text="Anything a reader should know about this source.")
    # Null rather than "" until rendered: adding a column with a default makes Django rebuild the SQLite table,
    # which would drop the triggers on it (excerpts/db/).
    citation_rendering = models.TextField(  # noqa: DJ001
        null=True,
        editable=False,
        help_text="How a Chicago note cites the source, rendered by citeproc-py when it was written, with a digest of "
        "what it was rendered from (research/citations.py); null until then. A note reads it instead of rendering.",
    )
    history = HistoricalRecords(excluded_fields=["citation_rendering"])

    objects = SlugManager()

    class Meta:
        ordering = ["title", "id"]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("source-detail", kwargs={"pk": self.pk})

    def natural_key(self):
        return (self.slug,)


class Topic(models.Model):
    """A subject in a shallow taxonomy, e.g. de-Stalinization or the Great Leap Forward."""

    slug = models.SlugField(max_length=100, unique=True, help_text="Stable identifier used in filters.")
    name = models.CharField(max_length=200, help_text="Display name.")
    description = models.TextField(blank=True, help_text="What belongs under this topic.")
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        help_text="Broader topic, if any.",
    )
    history = HistoricalRecords()

    objects = SlugManager()

    class Meta:
        ordering = ["name", "id"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("topic-detail", kwargs={"slug": self.slug})

    def natural_key(self):
        return (self.slug,)


class Event(models.Model):
    """An occasion the words belong to, e.g. the Twentieth Congress of the CPSU."""

    slug = models.SlugField(max_length=100, unique=True, help_text="Stable identifier used in filters.")
    name = models.CharField(max_length=300, help_text="Display name.")
    date = models.CharField(
        max_length=50, blank=True, validators=[validate_optional_edtf], help_text="EDTF date or interval."
    )
    place = models.CharField(max_length=200, blank=True, help_text="Where it took place.")
    description = models.TextField(blank=True, help_text="What happened, in a sentence or two.")
    history = HistoricalRecords()

    objects = SlugManager()

    class Meta:
        ordering = ["name", "id"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("event-detail", kwargs={"slug": self.slug})

    def natural_key(self):
        return (self.slug,)


# The longest possible-date range of any excerpt, in days; an expression index on it (migration 0007) answers both.
DATE_SPAN_SQL = {
    "sqlite": "SELECT max(julianday(date_end) - julianday(date_start)) FROM excerpts_excerpt",
    "postgresql": "SELECT max(date_end - date_start) FROM excerpts_excerpt",
}


def longest_date_span(using="default"):
    """The longest date_end - date_start of any excerpt as a timedelta, or None (no excerpts, other engines)."""
    connection = connections[using]
    sql = DATE_SPAN_SQL.get(connection.vendor)
    if sql is None:
        return None
    with connection.cursor() as cursor:
        cursor.execute(sql)
        days = cursor.fetchone()[0]
    return None if days is None else datetime.timedelta(days=math.ceil(days))


class ExcerptQuerySet(models.QuerySet):
    def published(self):
        """Excerpts the public may read."""
        return self.filter(status=Excerpt.Status.PUBLISHED)

    def with_related(self):
        """Fetch speaker, event, source, quoted_in and topics in a fixed number of queries."""
        return self.select_related("speaker", "event", "source", "quoted_in").prefetch_related(
            models.Prefetch("topics", queryset=Topic.objects.only("id", "slug", "name"))
        )

    def overlapping(self, start=None, end=None, span=None):
        """
        Excerpts whose possible dates [date_start, date_end] overlap [start, end]; None is open. ``span`` is
        ``longest_date_span()`` if the caller knows it already.
        """
        queryset = self
        if start is not None:
            queryset = queryset.filter(date_end__gte=start)
            if span is None:
                span = longest_date_span(self.db)
            if span is not None and start - datetime.date.min > span:
                # Implied by the line above, but a lower bound on date_start lets the (date_start, id) indexes
                # start at the range instead of walking every earlier excerpt (seconds at a million).
                queryset = queryset.filter(date_start__gte=start - span)
        if end is not None:
            queryset = queryset.filter(date_start__lte=end)
        return queryset


class Excerpt(models.Model):
    """Words of a historical actor or body, with who, when, where printed and what about."""

    class Kind(models.TextChoices):
        SPEECH = "speech", "Speech"
        EDITORIAL = "editorial", "Editorial"
        QUOTATION = "quotation", "Quotation"
        LETTER = "letter", "Letter"
        DECLARATION = "declaration", "Declaration"
        REPORT = "report", "Report"
        MEMOIR = "memoir", "Memoir"

    class Attribution(models.TextChoices):
        DIRECT = "direct", "Direct (verbatim, in translation)"
        PARAPHRASE = "paraphrase", "Paraphrase (summary of a stated position)"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"

    text = models.TextField(
        validators=[MinLengthValidator(1)], help_text="The quoted words in English, exactly as printed."
    )
    kind = models.CharField(max_length=20, choices=Kind.choices, help_text="What sort of utterance this is.")
    attribution = models.CharField(
        max_length=20,
        choices=Attribution.choices,
        default=Attribution.DIRECT,
        help_text="Direct quotation, or a paraphrase of the speaker's stated position.",
    )
    speaker = models.ForeignKey(
        Speaker, on_delete=models.PROTECT, related_name="excerpts", help_text="Who said or wrote it."
    )
    speaker_name = models.CharField(
        max_length=200,
        default="",
        editable=False,
        help_text="A copy of the speaker's name for ordering=speaker, kept by triggers (excerpts/db/speaker_name.py).",
    )
    date = models.CharField(
        max_length=50,
        validators=[validate_edtf],
        help_text="EDTF date, exactly as precise as the evidence: 1956-02-25, 1958-07, 1958-22 (summer), 1958?.",
    )
    date_start = models.DateField(editable=False, help_text="Earliest possible day, derived from date.")
    date_end = models.DateField(editable=False, help_text="Latest possible day, derived from date.")
    date_display = models.CharField(max_length=100, editable=False, help_text="Human form of date.")
    event = models.ForeignKey(
        Event,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="excerpts",
        help_text="The occasion, if known.",
    )
    source = models.ForeignKey(
        Source, on_delete=models.PROTECT, related_name="excerpts", help_text="The work the words are printed in."
    )
    locator = models.CharField(
        max_length=100, blank=True, help_text='Page or pages in the source, e.g. "pp. 321-322".'
    )
    quoted_in = models.ForeignKey(
        Source,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="quoted_excerpts",
        help_text="The secondary work through which the excerpt is known, if any.",
    )
    quoted_in_locator = models.CharField(max_length=100, blank=True, help_text="Page or pages in quoted_in.")
    topics = models.ManyToManyField(Topic, blank=True, related_name="excerpts", help_text="What it is about.")
    language = models.CharField(
        max_length=35,
        validators=[language_validator],
        help_text="BCP 47 code of the language the words were first spoken or written in (zh, ru, en).",
    )
    original_text = models.TextField(blank=True, help_text="The words in their original language, if known.")
    translator = models.CharField(max_length=200, blank=True, help_text="Who translated the words into English.")
    context = models.TextField(blank=True, help_text="A curator's note on the circumstances.")
    status = models.CharField(
        max_length=20,
        choices=Status.choices,
        default=Status.DRAFT,
        help_text="Only published excerpts are visible to the public.",
    )
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)
    # Who changed what and when, from the admin, the API or an import; topics are tracked too.
    history = HistoricalRecords(m2m_fields=[topics], excluded_fields=["speaker_name"])

    objects = ExcerptQuerySet.as_manager()

    class Meta:
        ordering = ["date_start", "id"]
        indexes = [
            # The date and speaker orders' indexes also carry the unindexed filter columns, so a count or a page
            # of such filters reads the index alone instead of every row it passes (0.6 s -> 40 ms at 1M on SQLite).
            models.Index(
                fields=["date_start", "id", "date_end", "kind", "language", "attribution", "status"],
                name="excerpt_date_covering",
            ),
            models.Index(fields=["date_end"], name="excerpt_date_end"),
            models.Index(
                fields=["status", "date_start", "id", "date_end", "kind", "language", "attribution"],
                name="excerpt_status_date_covering",
            ),
            models.Index(
                fields=["speaker_name", "date_start", "id", "date_end", "kind", "language", "attribution", "status"],
                name="excerpt_speaker_covering",
            ),
            models.Index(
                fields=["status", "speaker_name", "date_start", "id", "date_end", "kind", "language", "attribution"],
                name="excerpt_status_speaker_cover",
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(text=""), name="excerpt_text_not_empty"),
            models.CheckConstraint(
                condition=Q(date_start__lte=models.F("date_end")), name="excerpt_date_bounds_ordered"
            ),
        ]

    def __str__(self):
        words = self.text if len(self.text) <= 60 else self.text[:57] + "..."
        return f"{self.speaker.name}, {self.date_display}: {words}" if self.speaker_id else words

    def save(self, *args, **kwargs):
        self.refresh_date_bounds()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "date" in update_fields:
            kwargs["update_fields"] = {*update_fields, "date_start", "date_end", "date_display"}
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("excerpt-detail", kwargs={"pk": self.pk})

    def clean(self):
        if not (self.text or "").strip():
            raise ValidationError({"text": "The text must not be empty."})

    def refresh_date_bounds(self):
        """Derive date_start, date_end and date_display from the EDTF date."""
        bounds = parse_bounds(self.date)
        self.date_start, self.date_end, self.date_display = bounds.start, bounds.end, bounds.display


class Match(models.Lookup):
    """``document__match``: the FTS5 MATCH operator, which takes a full-text query expression."""

    lookup_name = "match"

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} MATCH {rhs}", [*lhs_params, *rhs_params]


class FullTextDocument(models.TextField):
    """FTS5's hidden column named after its table: every indexed column at once, the left side of MATCH."""


FullTextDocument.register_lookup(Match)


class SearchEntry(models.Model):
    """
    One excerpt's row in SQLite's full-text index: the FTS5 table that database triggers keep
    (``excerpts.db.search_index``), whose rowid is the excerpt's id. Read-only and unmanaged: Django never
    creates or writes the table, and it does not exist on PostgreSQL, which keeps a tsvector column instead.
    """

    excerpt = models.OneToOneField(
        Excerpt,
        primary_key=True,
        db_column="rowid",
        db_constraint=False,
        on_delete=models.DO_NOTHING,  # the triggers delete the row with its excerpt
        related_name="search_entry",
    )
    document = FullTextDocument(db_column="excerpts_excerpt_search")
    rank = models.FloatField(help_text="FTS5's BM25 rank of the row for the current MATCH: lower is better.")

    class Meta:
        managed = False
        db_table = "excerpts_excerpt_search"

    def __str__(self):
        return f"search entry of excerpt {self.pk}"
