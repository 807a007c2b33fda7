"""One serializer per representation, with explicit field lists."""

from collections.abc import Mapping

from django.db import models
from drf_spectacular.utils import OpenApiExample, extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from ..excerpt_fields import FIELDS, PUBLIC_FIELDS, WRITABLE_FIELDS
from ..history import one_version
from ..models import Event, Excerpt, Source, Speaker, Topic, validate_aliases
from ..research import citations, limits


class OptionalURLField(serializers.URLField):
    """A URL that may be absent: null in responses rather than an empty string, which is no URI."""

    def __init__(self, **kwargs):
        kwargs.setdefault("allow_null", True)
        kwargs.setdefault("allow_blank", True)
        super().__init__(**kwargs)

    def to_representation(self, value):
        return value or None


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
    url = OptionalURLField(help_text="Where the work can be read online; null if nowhere.")

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
        "url": None,
    },
    "locator": "",
    "quoted_in": None,
    "quoted_in_locator": "",
    "topics": [{"slug": "cult-of-personality", "name": "Cult of personality"}],
    "language": "ru",
    "original_text": "",
    "translator": "",
    "context": "Closed session of the congress, the speech later known as the Secret Speech.",
    "citation": "Nikita Khrushchev, speech, 25 February 1956, Twentieth Congress of the CPSU, in “On the Cult "
    "of Personality and Its Consequences”, 1956.",
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
    citation = serializers.SerializerMethodField(
        help_text="A Chicago note citing the excerpt: who, what kind of words, when and at what occasion, in the work "
        "that prints them (rendered by citeproc-py in the CSL style chicago-notes-bibliography-16th-edition) with "
        "the pages, then the work that quotes them. A paraphrase cites the work that states the position."
    )
    highlight = serializers.SerializerMethodField()

    class Meta:
        model = Excerpt
        fields = PUBLIC_FIELDS

    def get_citation(self, excerpt) -> str:
        return citations.chicago_note(citations.of_excerpt(excerpt))

    @extend_schema_field(
        {
            "type": "string",
            "nullable": True,
            "description": "With q: the best matching passage, HTML-escaped, with the hits in <mark> elements. "
            "Otherwise null.",
            "example": "the <mark>people</mark>'s <mark>communes</mark> are",
        }
    )
    def get_highlight(self, excerpt):
        # The list puts the search plan's highlights in the context (api/views.py), keyed by excerpt id.
        return self.context.get("highlights", {}).get(excerpt.pk)


class SpeakerSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="speaker-detail", lookup_field="slug")
    aliases = serializers.ListField(child=serializers.CharField(), help_text="Other spellings of the name.")
    excerpt_count = serializers.IntegerField(read_only=True, help_text="Number of published excerpts.")

    class Meta:
        model = Speaker
        fields = ["slug", "url", "name", "aliases", "kind", "description", "born", "died", "excerpt_count"]


class TopicSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="topic-detail", lookup_field="slug")
    parent = serializers.SlugRelatedField(
        slug_field="slug", read_only=True, allow_null=True, help_text="Slug of the broader topic, or null."
    )

    class Meta:
        model = Topic
        fields = ["slug", "url", "name", "description", "parent"]


class SourceSerializer(serializers.ModelSerializer):
    api_url = serializers.HyperlinkedIdentityField(view_name="source-detail")
    url = OptionalURLField(help_text="Where the work can be read online; null if nowhere.")

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


# Writes. A client that sends 1958 where a string belongs, or a field we do not know, has a bug: tell it
# (400 naming the field) instead of storing "1958" or silently dropping the field.

JSON_TYPES = {bool: "a boolean", int: "a number", float: "a number", list: "an array", dict: "an object"}


def json_type(value):
    return JSON_TYPES.get(type(value), type(value).__name__)


class StrictCharField(serializers.CharField):
    """A string field that takes only JSON strings: numbers and booleans are refused, not converted."""

    default_error_messages = {"not_a_string": "Must be a string, not {type}."}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("not_a_string", type=json_type(data))
        return super().to_internal_value(data)


class StrictSlugField(StrictCharField, serializers.SlugField):
    pass


class StrictURLField(StrictCharField, serializers.URLField):
    pass


class StrictSlugRelatedField(serializers.SlugRelatedField):
    """A related object named by its slug, which must be a string naming an existing object."""

    def __init__(self, **kwargs):
        kwargs.setdefault("slug_field", "slug")
        super().__init__(**kwargs)
        name = self.queryset.model._meta.verbose_name
        self.error_messages["does_not_exist"] = f"No {name} has the slug {{value}}."
        self.error_messages["not_a_string"] = f"Must be the slug of a {name} (a string), not {{type}}."

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("not_a_string", type=json_type(data))
        return super().to_internal_value(data)


class StrictPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    """A related object named by its integer id; "3" is refused like any other string."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("incorrect_type", data_type=json_type(data))
        return super().to_internal_value(data)


@extend_schema_field(
    {"type": "array", "items": {"type": "string", "description": "A topic's slug."}, "maxItems": limits.MAX_TOPICS}
)
class TopicSlugsField(serializers.ManyRelatedField):
    """An excerpt's topics by slug: at most MAX_TOPICS, counted before any is looked up."""

    def __init__(self, **kwargs):
        super().__init__(child_relation=StrictSlugRelatedField(queryset=Topic.objects.all()), **kwargs)

    def to_internal_value(self, data):
        if isinstance(data, list) and len(data) > limits.MAX_TOPICS:
            raise serializers.ValidationError(
                f"{len(data):,} topics; an excerpt has at most {limits.MAX_TOPICS} (MAX_TOPICS)."
            )
        return super().to_internal_value(data)


class WriteSerializer(serializers.ModelSerializer):
    """
    Base of the write serializers: strict types, unknown or read-only fields refused, and the answer
    given in the read representation (``read_serializer_class``) so a client sees what it will read.
    """

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.CharField: StrictCharField,
        models.TextField: StrictCharField,
        models.SlugField: StrictSlugField,
        models.URLField: StrictURLField,
    }
    read_serializer_class = None

    def to_internal_value(self, data):
        errors = {}
        if isinstance(data, Mapping):
            writable = sorted(name for name, field in self.fields.items() if not field.read_only)
            reason = f"Unknown or read-only field. Writable fields are: {', '.join(writable)}."
            errors = {name: [reason] for name in sorted(set(data) - set(writable))}
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as error:
            raise serializers.ValidationError({**error.detail, **errors}) from None
        if errors:
            raise serializers.ValidationError(errors)
        return value

    def to_representation(self, instance):
        return self.read_serializer_class(instance, context=self.context).data


class CuratorExcerptSerializer(ExcerptSerializer):
    """An excerpt as curators read it: the public representation plus its status and timestamps."""

    class Meta(ExcerptSerializer.Meta):
        fields = FIELDS


class ExcerptWriteSerializer(WriteSerializer):
    speaker = StrictSlugRelatedField(queryset=Speaker.objects.all(), help_text="Slug of the speaker.")
    event = StrictSlugRelatedField(
        queryset=Event.objects.all(), allow_null=True, required=False, help_text="Slug of the event, or null."
    )
    source = StrictPrimaryKeyRelatedField(queryset=Source.objects.all(), help_text="Id of the source.")
    quoted_in = StrictPrimaryKeyRelatedField(
        queryset=Source.objects.all(),
        allow_null=True,
        required=False,
        help_text="Id of the secondary source the excerpt is known through, or null.",
    )
    topics = TopicSlugsField(required=False, help_text=f"Slugs of the topics, at most {limits.MAX_TOPICS}.")
    read_serializer_class = CuratorExcerptSerializer

    class Meta:
        model = Excerpt
        fields = WRITABLE_FIELDS

    # The row and its topics are saved in two steps, each of which simple-history would record: one version,
    # with the final topics, is what happened (see history.one_version).
    def create(self, validated_data):
        topics = validated_data.pop("topics", [])
        excerpt = Excerpt(**validated_data)
        with one_version(excerpt, created=True):
            excerpt.save()
            excerpt.topics.set(topics)
        return excerpt

    def update(self, instance, validated_data):
        with one_version(instance):
            return super().update(instance, validated_data)


class SpeakerWriteSerializer(WriteSerializer):
    aliases = serializers.ListField(
        child=StrictCharField(),
        required=False,
        validators=[validate_aliases],
        help_text="Other spellings of the name.",
    )
    read_serializer_class = SpeakerSerializer

    class Meta:
        model = Speaker
        fields = ["slug", "name", "aliases", "kind", "description", "born", "died"]


class TopicWriteSerializer(WriteSerializer):
    parent = StrictSlugRelatedField(
        queryset=Topic.objects.all(), allow_null=True, required=False, help_text="Slug of the broader topic, or null."
    )
    read_serializer_class = TopicSerializer

    class Meta:
        model = Topic
        fields = ["slug", "name", "description", "parent"]

    def validate_parent(self, parent):
        ancestor = parent
        while ancestor is not None:
            if self.instance is not None and ancestor.pk == self.instance.pk:
                raise serializers.ValidationError("A topic cannot be its own ancestor.")
            ancestor = ancestor.parent
        return parent


class SourceWriteSerializer(WriteSerializer):
    read_serializer_class = SourceSerializer

    class Meta:
        model = Source
        fields = ["slug", "title", "author", "kind", "publisher", "place", "date", "url", "archive", "notes"]


class EventWriteSerializer(WriteSerializer):
    read_serializer_class = EventSerializer

    class Meta:
        model = Event
        fields = ["slug", "name", "date", "place", "description"]


class HistoryChangeSerializer(serializers.Serializer):
    field = serializers.CharField(help_text="The field that changed; related objects appear by id.")
    old = serializers.JSONField(allow_null=True, help_text="Value before the change (null when created).")
    new = serializers.JSONField(allow_null=True, help_text="Value after the change.")


class HistoryEntrySerializer(serializers.Serializer):
    history_id = serializers.IntegerField(help_text="Id of this history entry.")
    history_date = serializers.DateTimeField(help_text="When the change was made.")
    history_user = serializers.CharField(allow_null=True, help_text="Username of who made it; null if unknown.")
    history_type = serializers.ChoiceField(
        choices=[("+", "created"), ("~", "changed"), ("-", "deleted")], help_text="+ created, ~ changed, - deleted."
    )
    changes = HistoryChangeSerializer(many=True, help_text="Each field that changed, with its old and new value.")


class RandomQuerySerializer(serializers.Serializer):
    count = serializers.IntegerField(min_value=1, max_value=50, default=1, help_text="How many excerpts, 1 to 50.")
    seed = serializers.IntegerField(
        min_value=0,
        max_value=2**63 - 1,
        required=False,
        help_text="The same seed gives the same excerpts (while the data is the same). Omit for a fresh draw.",
    )
