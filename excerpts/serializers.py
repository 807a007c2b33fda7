"""One serializer per representation, with explicit field lists."""

from drf_spectacular.utils import OpenApiExample, extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from . import citations
from .models import Event, Excerpt, Source, Speaker, Topic


class SpeakerSummarySerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="speaker-detail", lookup_field="slug")

    class Meta:
        model = Speaker
        fields = ["slug", "name", "url"]


class TopicSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = Topic
        fields = ["slug", "name"]


class EventSummarySerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="event-detail", lookup_field="slug")

    class Meta:
        model = Event
        fields = ["slug", "name", "date", "url"]


class SourceSummarySerializer(serializers.ModelSerializer):
    url = serializers.URLField(help_text="Where the work can be read online; empty if nowhere.")

    class Meta:
        model = Source
        fields = ["id", "title", "author", "date", "url"]


EXCERPT_EXAMPLE = {
    "id": 1,
    "url": "http://127.0.0.1:8000/api/v1/excerpts/1/",
    "text": "the cult of the individual",
    "kind": "speech",
    "attribution": "direct",
    "speaker": {
        "slug": "nikita-khrushchev",
        "name": "Nikita Khrushchev",
        "url": "http://127.0.0.1:8000/api/v1/speakers/nikita-khrushchev/",
    },
    "date": "1956-02-25",
    "date_start": "1956-02-25",
    "date_end": "1956-02-25",
    "date_display": "25 February 1956",
    "event": {
        "slug": "twentieth-party-congress",
        "name": "Twentieth Congress of the CPSU",
        "date": "1956-02-14/1956-02-25",
        "url": "http://127.0.0.1:8000/api/v1/events/twentieth-party-congress/",
    },
    "source": {
        "id": 3,
        "title": "On the Cult of Personality and Its Consequences",
        "author": "Nikita Khrushchev",
        "date": "1956",
        "url": "",
    },
    "locator": "",
    "quoted_in": None,
    "quoted_in_locator": "",
    "topics": [{"slug": "cult-of-personality", "name": "Cult of personality"}],
    "language": "ru",
    "original_text": "",
    "translator": "",
    "context": "Closed session of the congress, the speech later known as the Secret Speech.",
    "citation": "Nikita Khrushchev, speech, 25 February 1956, Twentieth Congress of the CPSU, in On the Cult of "
    "Personality and Its Consequences (1956).",
    "highlight": None,
}


@extend_schema_serializer(examples=[OpenApiExample("Khrushchev's Secret Speech", value=EXCERPT_EXAMPLE)])
class ExcerptSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="excerpt-detail")
    speaker = SpeakerSummarySerializer()
    event = EventSummarySerializer(allow_null=True)
    source = SourceSummarySerializer()
    quoted_in = SourceSummarySerializer(allow_null=True)
    topics = TopicSummarySerializer(many=True)
    citation = serializers.SerializerMethodField(help_text="A Chicago-style note citing the excerpt.")
    highlight = serializers.SerializerMethodField()

    class Meta:
        model = Excerpt
        fields = [
            "id",
            "url",
            "text",
            "kind",
            "attribution",
            "speaker",
            "date",
            "date_start",
            "date_end",
            "date_display",
            "event",
            "source",
            "locator",
            "quoted_in",
            "quoted_in_locator",
            "topics",
            "language",
            "original_text",
            "translator",
            "context",
            "citation",
            "highlight",
        ]

    def get_citation(self, excerpt) -> str:
        return citations.chicago_note(excerpt)

    @extend_schema_field(
        {
            "type": "string",
            "nullable": True,
            "description": "With q: the best matching passage, HTML-escaped, with the hits in <mark> elements. "
            "Otherwise null.",
            "example": "the <mark>people's</mark> <mark>communes</mark> are",
        }
    )
    def get_highlight(self, excerpt):
        return getattr(excerpt, "highlight", None)


class SpeakerSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="speaker-detail", lookup_field="slug")
    aliases = serializers.ListField(child=serializers.CharField(), help_text="Other spellings of the name.")
    excerpt_count = serializers.IntegerField(read_only=True, help_text="Number of published excerpts.")

    class Meta:
        model = Speaker
        fields = ["slug", "url", "name", "aliases", "kind", "description", "born", "died", "excerpt_count"]


class TopicSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="topic-detail", lookup_field="slug")
    parent = serializers.SlugRelatedField(slug_field="slug", read_only=True, help_text="Slug of the broader topic.")

    class Meta:
        model = Topic
        fields = ["slug", "url", "name", "description", "parent"]


class SourceSerializer(serializers.ModelSerializer):
    api_url = serializers.HyperlinkedIdentityField(view_name="source-detail")

    class Meta:
        model = Source
        fields = [
            "id",
            "api_url",
            "slug",
            "title",
            "author",
            "kind",
            "publisher",
            "place",
            "date",
            "url",
            "archive",
            "notes",
        ]


class EventSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="event-detail", lookup_field="slug")

    class Meta:
        model = Event
        fields = ["slug", "url", "name", "date", "place", "description"]


class ProblemErrorSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="The query parameter or body field that was refused.")
    reason = serializers.CharField(help_text="Why it was refused and what is allowed.")


class ProblemSerializer(serializers.Serializer):
    """RFC 9457 problem details."""

    type = serializers.URLField(help_text="URI identifying the kind of problem.")
    title = serializers.CharField(help_text="Short summary of the kind of problem.")
    status = serializers.IntegerField(help_text="HTTP status code.")
    detail = serializers.CharField(help_text="What went wrong with this request, for a person.")
    instance = serializers.CharField(required=False, help_text="The request path.")
    errors = ProblemErrorSerializer(many=True, required=False, help_text="Each refused input, for a 400.")


class FacetValueSerializer(serializers.Serializer):
    value = serializers.CharField(help_text="The filter value: a slug, a choice, a language tag, a year or a decade.")
    label = serializers.CharField(help_text="What to show: a name, a choice's label, 1950s.")
    count = serializers.IntegerField(help_text="Matching excerpts with this value.")


class FacetsSerializer(serializers.Serializer):
    """Counts of the filtered excerpts per facet value. Year and decade are those of date_start."""

    count = serializers.IntegerField(help_text="Matching excerpts.")
    speaker = FacetValueSerializer(many=True)
    topic = FacetValueSerializer(many=True, help_text="An excerpt counts under each of its topics.")
    kind = FacetValueSerializer(many=True)
    attribution = FacetValueSerializer(many=True)
    language = FacetValueSerializer(many=True)
    event = FacetValueSerializer(many=True, help_text="Excerpts without an event are not counted here.")
    year = FacetValueSerializer(many=True, help_text="By the year of date_start, the earliest possible day.")
    decade = FacetValueSerializer(many=True, help_text="By the decade of date_start.")


class RandomQuerySerializer(serializers.Serializer):
    count = serializers.IntegerField(min_value=1, max_value=50, default=1, help_text="How many excerpts, 1 to 50.")
    seed = serializers.IntegerField(
        min_value=0,
        max_value=2**63 - 1,
        required=False,
        help_text="The same seed gives the same excerpts (while the data is the same). Omit for a fresh draw.",
    )


class RandomExcerptsSerializer(serializers.Serializer):
    seed = serializers.IntegerField(help_text="The seed used: pass it again to get the same excerpts.")
    results = ExcerptSerializer(many=True)
