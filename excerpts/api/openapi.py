"""
The OpenAPI catalogue: the responses, parameters and schema-only serializers the views document, the
schema of a curated viewset's six operations, and what drf-spectacular cannot infer by itself.

Nothing here runs when a request is served; it is read when the schema is generated.
"""

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import permissions, serializers
from rest_framework.settings import api_settings

from ..db import failures
from ..research import citations, limits
from .filters import CACHE_BUSTER, EMPTY_VALUE, StrictFilterBackend
from .pagination import KeysetPagination
from .problems import DATABASE_FAILURES, PROBLEM_CONTENT_TYPE, problem
from .serializers import ExcerptSerializer

API_PREFIX = "/api/v1/"


class ExcerptsAutoSchema(AutoSchema):
    """
    AutoSchema that knows anonymous reads are allowed where the model permissions say so, that every read is
    conditional (an ETag, If-None-Match, a 304: api/conditional.py), and the rate limits (a 429 and the
    RateLimit-* headers) of every operation a throttle counts (api/throttling.py).
    """

    def get_tags(self):
        # drf-spectacular tags an operation by its path's first segment after the common prefix, /api/: every
        # operation went under "v1". Tag by the resource instead, the segment after the version (excerpts,
        # speakers, ...), as SPECTACULAR_SETTINGS["TAGS"] describes them. An extend_schema(tags=...) still wins.
        segments = self.path.removeprefix(API_PREFIX).split("/")
        return [segments[0]] if self.path.startswith(API_PREFIX) and segments[0] else super().get_tags()

    def rate_limited(self):
        """Whether a throttle with a rate counts this operation's requests."""
        return any(getattr(throttle, "rate", None) for throttle in self.view.get_throttles())

    def conditional(self):
        """Whether this is a read that answers If-None-Match with a 304 (every GET, unless its view says not)."""
        return self.method == "GET" and getattr(self.view, "conditional", True)

    def paginated(self):
        """Whether this is a list answered a page at a time (api/pagination.py), with next and previous links."""
        return getattr(self.view, "action", None) == "list" and isinstance(
            getattr(self.view, "paginator", None), KeysetPagination
        )

    def takes_cache_buster(self):
        """Whether this read's view checks its query parameters (filters.StrictFilterBackend), taking ``_`` too."""
        backends = getattr(self.view, "filter_backends", ())
        return self.method == "GET" and any(issubclass(backend, StrictFilterBackend) for backend in backends)

    def get_override_parameters(self):
        parameters = super().get_override_parameters()
        if self.takes_cache_buster():
            parameters = [*parameters, CACHE_BUSTER_PARAMETER]
        if self.paginated():
            parameters = [*parameters, LINK_HEADER]
        if self.conditional():
            parameters = [*parameters, *CONDITIONAL_GET_HEADERS]
        return [*parameters, *RATE_LIMIT_HEADERS] if self.rate_limited() else parameters

    def _get_response_bodies(self, direction="response"):
        # Every GET may answer 304, every throttled operation 429; drf-spectacular has no public hook that adds a
        # status to every operation.
        responses = super()._get_response_bodies(direction)
        if self.conditional():
            responses["304"] = self._get_response_for_code(NOT_MODIFIED, "304", direction=direction)
        if self.rate_limited() and "429" not in responses:
            responses["429"] = self._get_response_for_code(problem_429(), "429", [PROBLEM_CONTENT_TYPE], direction)
        responses = dict(sorted(responses.items()))
        return responses

    def get_auth(self):
        auths = super().get_auth()
        anonymous_reads = any(
            isinstance(permission, permissions.DjangoModelPermissionsOrAnonReadOnly)
            for permission in self.view.get_permissions()
        )
        if anonymous_reads and self.method in permissions.SAFE_METHODS and {} not in auths:
            auths.append({})
        return auths


def refuse_empty_query_values(result, generator, request, public):
    """
    Say in every query parameter of the schema that an empty value is a 400 (api/filters.py, EMPTY_VALUE), and let its
    schema refuse one: a string without an enum or a pattern of its own gets ``minLength: 1``. A drf-spectacular
    postprocessing hook (SPECTACULAR_SETTINGS), so that no parameter is left out.
    """
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                if parameter["in"] != "query":
                    continue
                parameter["description"] = f"{parameter.get('description', '').rstrip()}\n\n{EMPTY_VALUE}".strip()
                schema = parameter["schema"]
                schema = schema.get("items", schema) if schema.get("type") == "array" else schema
                if schema.get("type") == "string" and not {"enum", "pattern", "minLength"} & set(schema):
                    schema["minLength"] = 1
    return result


class TokenScheme(OpenApiAuthenticationExtension):
    """``Authorization: Token <key>`` with a token from create_curator (django-rest-knox's, behind our shape check)."""

    target_class = "excerpts.api.authentication.StrictTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return build_bearer_security_scheme_object(header_name="Authorization", token_prefix="Token")


# Conditional reads: request and response headers of every GET, and its 304.

CONDITIONAL_GET_HEADERS = [
    OpenApiParameter(
        "If-None-Match",
        str,
        OpenApiParameter.HEADER,
        description=(
            "ETags of the copies the client holds (from earlier answers' `ETag`), or `*`. When one is still "
            "current the answer is 304 with no body, and costs the server no page query."
        ),
    ),
    OpenApiParameter(
        "ETag",
        str,
        OpenApiParameter.HEADER,
        response=[200, 304],
        description=(
            "Identifies this answer (weak: the same for gzipped and plain bodies). It changes with any write to the "
            "data, and differs by query, format and role (anonymous or curator). Absent from a random draw without "
            "a seed."
        ),
    ),
    OpenApiParameter(
        "Cache-Control",
        str,
        OpenApiParameter.HEADER,
        response=[200, 304],
        description=(
            f"`public, max-age={settings.API_CACHE_MAX_AGE}` for anonymous readers (API_CACHE_MAX_AGE, a setting), "
            "`private, no-cache` for authenticated callers, `no-store` for an answer without an ETag."
        ),
    ),
]
# Every read that checks its parameters takes a cache-buster; every page links to the next and previous ones.

CACHE_BUSTER_PARAMETER = OpenApiParameter(
    CACHE_BUSTER,
    str,
    description=(
        "Ignored: a cache-buster some clients add with a fresh value to each request (jQuery's `cache: false` "
        "sends `_=<milliseconds>`). It changes nothing in the answer but its own links, which keep it."
    ),
)
LINK_HEADER = OpenApiParameter(
    "Link",
    str,
    OpenApiParameter.HEADER,
    response=[200],
    description=(
        'The next and previous pages as RFC 8288 links, `<url>; rel="next", <url>; rel="prev"`: the same absolute '
        "URLs as the body's `next` and `previous`, each given when that one is not null (no header when both are). "
        "Browsers on other origins may read it (CORS). None on an export (format=csv or jsonl)."
    ),
)
NOT_MODIFIED = OpenApiResponse(
    description="The copy named in If-None-Match is current: no body. ETag and Cache-Control are as a 200's."
)


# Serializers that only describe a response: the views build these bodies as plain dicts.


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

    count = serializers.IntegerField(
        help_text=(
            f"Matching excerpts, exact up to {limits.SCAN_LIMIT:,} (always exact without filters). When more match, "
            f"count is {limits.SCAN_LIMIT:,}, count_exact is false and every facet counts the "
            f"{limits.SCAN_LIMIT:,} most recently added matches."
        )
    )
    count_exact = serializers.BooleanField(
        help_text=f"False when more than {limits.SCAN_LIMIT:,} excerpts match and only the most recent are counted."
    )
    speaker = FacetValueSerializer(many=True)
    topic = FacetValueSerializer(many=True, help_text="An excerpt counts under each of its topics.")
    kind = FacetValueSerializer(many=True)
    attribution = FacetValueSerializer(many=True)
    language = FacetValueSerializer(many=True)
    event = FacetValueSerializer(many=True, help_text="Excerpts without an event are not counted here.")
    year = FacetValueSerializer(many=True, help_text="By the year of date_start, the earliest possible day.")
    decade = FacetValueSerializer(many=True, help_text="By the decade of date_start.")


class RandomExcerptsSerializer(serializers.Serializer):
    seed = serializers.IntegerField(help_text="The seed used: pass it again to get the same excerpts.")
    results = ExcerptSerializer(many=True)


# Problem-detail responses, one per status a request can be answered with.


def problem_example(summary, status, detail, instance, errors=None):
    """An example problem-details body, built the way the API builds a real one."""
    return OpenApiExample(summary, value=problem(status, detail, errors, instance), response_only=True)


def refusal_example(summary, instance, name, reason):
    """An example 400 that refuses one input, as the API words it."""
    return problem_example(summary, 400, f"{name}: {reason}", instance, [{"name": name, "reason": reason}])


PROBLEM_400 = OpenApiResponse(
    ProblemSerializer,
    description="A query parameter is unknown or has a value that cannot be used; `errors` names it.",
    examples=[
        refusal_example(
            "Unknown parameter",
            "/api/v1/excerpts/?speakr=mao-zedong",
            "speakr",
            "Unknown query parameter. Allowed parameters are: ...",
        )
    ],
)
PROBLEM_404 = OpenApiResponse(ProblemSerializer, description="No such object.")
PROBLEM_400_BODY = OpenApiResponse(
    ProblemSerializer,
    description=(
        "The body is invalid: a field is unknown or read-only, has the wrong type (a number where a string "
        "belongs), names an unknown slug or id, or has a value that cannot be used; `errors` names each one."
    ),
    examples=[
        refusal_example(
            "Invalid EDTF date and an unknown field",
            "/api/v1/excerpts/",
            "date",
            "'1958-13' is not a valid EDTF date. ...",
        )
    ],
)
PROBLEM_401 = OpenApiResponse(
    ProblemSerializer,
    description=(
        "No valid credentials: send `Authorization: Token <key>` (see create_curator). A revoked or expired "
        "token is refused too."
    ),
)
PROBLEM_403 = OpenApiResponse(ProblemSerializer, description="Authenticated, but without the permission this needs.")
PROBLEM_409 = OpenApiResponse(
    ProblemSerializer,
    description="Still in use: excerpts (or narrower topics) refer to it. Reassign or delete them first.",
    examples=[
        problem_example(
            "Speaker still quoted",
            409,
            "Mao Zedong cannot be deleted while in use by 12 excerpts. Reassign or delete them first.",
            "/api/v1/speakers/mao-zedong/",
        )
    ],
)
PROBLEM_413 = OpenApiResponse(
    ProblemSerializer,
    description=f"The body is larger than the API takes ({limits.MAX_BODY_BYTES:,} bytes, MAX_BODY_BYTES).",
)
PROBLEM_415 = OpenApiResponse(
    ProblemSerializer,
    description=(
        "The body is not JSON, is compressed (any Content-Encoding but identity: bodies are never decompressed) or "
        "names a charset other than UTF-8."
    ),
)
PROBLEM_503 = OpenApiResponse(
    ProblemSerializer,
    description=(
        "The database failed in a way the same request may get past later; nothing was written. `type` says how: "
        "database-unavailable (it cannot be reached), database-busy (another writer, an import on SQLite, held the "
        "lock past the wait), query-timeout (a statement of a public read ran past its time budget, "
        "PUBLIC_STATEMENT_TIMEOUT_MS), database-read-only (a write to a read-only database). Send the request again "
        "after the seconds in the `Retry-After` header."
    ),
    examples=[
        OpenApiExample(
            "The database cannot be reached",
            value=problem(
                503,
                DATABASE_FAILURES[failures.UNAVAILABLE][0],
                instance="/api/v1/excerpts/",
                kind=failures.UNAVAILABLE,
            ),
            response_only=True,
        )
    ],
)


# Rate limits (excerpts/api/throttling.py). The headers come with every answer given after the throttles counted the
# request; a 401, 403 or 406 is given before and has none.
COUNTED_STATUSES = [200, 201, 204, 206, 302, 304, 400, 404, 409, 412, 413, 415, 416, 503]
RATE_LIMIT_FIELDS = {
    "RateLimit-Limit": "Requests allowed in the current window of the rate limit closest to refusing.",
    "RateLimit-Remaining": "Requests left in that window; at 0 the next one is refused with 429.",
    "RateLimit-Reset": "Seconds until that window ends and its count starts again.",
}


def header(name, description, statuses, required):
    return OpenApiParameter(
        name, int, OpenApiParameter.HEADER, response=statuses, required=required, description=description
    )


RATE_LIMIT_HEADERS = [
    *(header(name, description, COUNTED_STATUSES, required=False) for name, description in RATE_LIMIT_FIELDS.items()),
    *(header(name, description, [429], required=True) for name, description in RATE_LIMIT_FIELDS.items()),
    header("Retry-After", "Seconds to wait before sending the request again.", [429], required=True),
]


def problem_429():
    """The 429 answer, with the rates in force when the schema is generated."""
    rates = api_settings.DEFAULT_THROTTLE_RATES
    limits = {
        "anon": "anonymous requests, per IP address",
        "heavy": "anonymous exports (format=csv or jsonl), bibliographies and filtered facets, per IP address",
        "user": "authenticated requests (curators), per user",
    }
    described = "; ".join(f"{rates[scope]} for {what}" for scope, what in limits.items() if rates.get(scope))
    return OpenApiResponse(
        ProblemSerializer,
        description=(
            f"Too many requests: a rate limit ({described}) is used up for the current window. Send the request "
            "again after the seconds in `Retry-After`. Every counted answer carries `RateLimit-Limit`, "
            "`RateLimit-Remaining` and `RateLimit-Reset`."
        ),
        examples=[
            problem_example(
                "Rate limit used up",
                429,
                "Request was throttled. Expected available in 42 seconds.",
                "/api/v1/excerpts/?format=csv",
            )
        ],
    )


def problem_responses(responses):
    """Key problem-detail responses by (status, media type), so the schema says application/problem+json."""
    return {(status, PROBLEM_CONTENT_TYPE): response for status, response in responses.items()}


LIST_RESPONSES = problem_responses({400: PROBLEM_400, 503: PROBLEM_503})
DETAIL_RESPONSES = problem_responses({400: PROBLEM_400, 404: PROBLEM_404, 503: PROBLEM_503})
CURATOR_DETAIL_RESPONSES = problem_responses({401: PROBLEM_401, 403: PROBLEM_403, 404: PROBLEM_404, 503: PROBLEM_503})
WRITE_RESPONSES = problem_responses(
    {400: PROBLEM_400_BODY, 401: PROBLEM_401, 403: PROBLEM_403, 413: PROBLEM_413, 415: PROBLEM_415, 503: PROBLEM_503}
)
CHANGE_RESPONSES = {**WRITE_RESPONSES, **problem_responses({404: PROBLEM_404})}
DELETE_RESPONSES = problem_responses(
    {400: PROBLEM_400, 401: PROBLEM_401, 403: PROBLEM_403, 404: PROBLEM_404, 409: PROBLEM_409, 503: PROBLEM_503}
)
JSON = "application/json"


def path_parameter(name, lookup="slug"):
    """The path parameter of a detail URL: the object's slug or its numeric id."""
    if lookup == "slug":
        return OpenApiParameter("slug", str, OpenApiParameter.PATH, description=f"The {name}'s slug.")
    return OpenApiParameter("id", int, OpenApiParameter.PATH, description=f"The {name}'s numeric id.")


EXCERPT_ID = path_parameter("excerpt", lookup="id")


def curated_schema(name, plural, serializer, write_serializer, written=None, lookup="slug", skip=()):
    """
    Summaries, path parameter and every documented response of a viewset the public reads and curators write.

    The operations named in ``skip`` are left to the view (a mixin's own ``extend_schema``).
    """
    written = written or serializer
    path = [path_parameter(name, lookup)]
    a_name = f"{'an' if name[0] in 'aeiou' else 'a'} {name}"

    def write(summary, status=200, responses=CHANGE_RESPONSES, parameters=path):
        return extend_schema(
            summary=summary,
            parameters=parameters,
            request=write_serializer,
            responses={(status, JSON): written, **responses},
        )

    operations = {
        "list": extend_schema(
            summary=f"List {plural}",
            parameters=[REFERENCE_FORMAT_PARAMETER],
            responses={(200, JSON): serializer(many=True), **LIST_RESPONSES},
        ),
        "retrieve": extend_schema(
            summary=f"Retrieve one {name}", parameters=path, responses={(200, JSON): serializer, **DETAIL_RESPONSES}
        ),
        "create": write(f"Create {a_name} (curators)", status=201, responses=WRITE_RESPONSES, parameters=None),
        "update": write(f"Replace {a_name} (curators)"),
        "partial_update": write(f"Change some fields of {a_name} (curators)"),
        "destroy": extend_schema(
            summary=f"Delete {a_name} (admins)", parameters=path, responses={204: None, **DELETE_RESPONSES}
        ),
    }
    return extend_schema_view(
        **{operation: schema for operation, schema in operations.items() if operation not in skip}
    )


# The excerpt list's export formats.

FORMAT_PARAMETER = OpenApiParameter(
    "format",
    str,
    enum=["json"],
    description=(
        "json (default): one page, this operation's one format. The whole filtered list as a file has operations of "
        "its own, export.csv and export.jsonl, whose schema declares the file (format=csv and format=jsonl here, "
        "or Accept: text/csv, application/jsonl or application/x-ndjson, still answer with the same files for "
        "clients written before them)."
    ),
)
REFERENCE_FORMAT_PARAMETER = OpenApiParameter(
    "format",
    str,
    enum=["json"],
    description=(
        "json, this list's only format (the default; the same as Accept: application/json). Any other value is a "
        "400 naming the formats there are, as on the excerpt list."
    ),
)
BOM_PARAMETER = OpenApiParameter(
    "bom",
    bool,
    default=False,
    description=(
        "true: the CSV export (export.csv, or format=csv on the list) starts with a UTF-8 byte-order mark, so that "
        "Excel opens Chinese, Russian and other non-Latin text correctly (without one it reads the file in the "
        "computer's legacy code page). "
        "Leave it out (false) for programs, which may not expect the mark. true with any other format is a 400."
    ),
)
EXPORT_DESCRIPTION = (
    "Every matching excerpt, one row or line each, streamed: {}. The Excerpt-Count header, counted in the same "
    "snapshot as the rows, is the number of rows (CSV records after the header, lines) a complete body has: fewer "
    "means the transfer was cut off. A HEAD gets the headers without Excerpt-Count and runs no query. "
    "Content-Disposition names the file after what was exported: excerpts, each filter as name-value, and the day "
    "(UTC), as in excerpts_speaker-mao-zedong_date_after-1958_2026-12-04.csv; filename* (RFC 8187) carries the "
    "name in UTF-8, filename an ASCII form of it."
)
# One excerpt as JSON-LD (api/linked_data.py).

DETAIL_FORMAT_PARAMETER = OpenApiParameter(
    "format",
    str,
    enum=["json"],
    description=(
        "json (default): the excerpt as the API shows it, this operation's one format. The excerpt as a schema.org "
        "Quotation in JSON-LD has an operation of its own, {id}.jsonld (format=jsonld or Accept: "
        "application/ld+json here still answer with it, for clients written before it)."
    ),
)


def _node(description, **properties):
    return {"type": "object", "description": description, "properties": properties}


_STRING = {"type": "string"}
_URI = {"type": "string", "format": "uri"}
_EDTF_LITERAL = {
    "type": "object",
    "description": "A date that is not a plain day, month or year, as entered (EDTF), typed as EDTF.",
    "properties": {
        "@type": {"type": "string", "enum": ["http://id.loc.gov/datatypes/edtf/EDTF"]},
        "@value": {"type": "string", "example": "1953-03/1956-02"},
    },
    "required": ["@type", "@value"],
}
_DATE = {"oneOf": [{"type": "string", "description": "ISO 8601: a day, a month or a year."}, _EDTF_LITERAL]}
_WORK = _node(
    "A source: Book, PublicationIssue (a newspaper), ArchiveComponent, Article, WebPage or CreativeWork, identified "
    "by its URL in the API.",
    **{"@type": _STRING, "@id": _URI, "name": _STRING, "author": _STRING, "datePublished": _DATE, "url": _URI},
    publisher=_node("The publisher.", **{"@type": _STRING, "name": _STRING}),
)
QUOTATION_SCHEMA = {
    "type": "object",
    "description": (
        "The excerpt as a schema.org Quotation in JSON-LD: creator is the speaker, isBasedOn the work the words are "
        "printed in, isPartOf the work that quotes them (the same work when nothing else does), about the topics, "
        "recordedAt the occasion. text is English (inLanguage en); translationOfWork is the original in its language. "
        "dateCreated is the EDTF date itself when it is a plain day, month or year (ISO 8601), and otherwise the EDTF "
        "date as a literal typed http://id.loc.gov/datatypes/edtf/EDTF. genre gives the kind and the attribution: a "
        "paraphrase's text states the speaker's position in other words."
    ),
    "properties": {
        "@context": {"type": "string", "enum": ["https://schema.org"]},
        "@type": {"type": "string", "enum": ["Quotation"]},
        "@id": _URI,
        "url": _URI,
        "identifier": {"type": "integer"},
        "text": _STRING,
        "inLanguage": {"type": "string", "enum": ["en"]},
        "creator": _node(
            "The speaker: a Person or an Organization.",
            **{"@type": {"type": "string", "enum": ["Person", "Organization"]}, "@id": _URI, "name": _STRING},
            alternateName={"type": "array", "items": _STRING},
        ),
        "dateCreated": _DATE,
        "genre": {"type": "array", "items": _STRING, "description": "The kind of words and their attribution."},
        "isBasedOn": _WORK,
        "isPartOf": _WORK,
        "about": {
            "type": "array",
            "items": _node(
                "A topic, a DefinedTerm.", **{"@type": _STRING, "@id": _URI, "name": _STRING, "termCode": _STRING}
            ),
        },
        "citation": _STRING,
        "translationOfWork": _node(
            "The words in the language first spoken or written, with their text when known.",
            **{"@type": _STRING, "inLanguage": _STRING, "text": _STRING},
        ),
        "translator": _STRING,
        "recordedAt": _node("The occasion, an Event.", **{"@type": _STRING, "@id": _URI, "name": _STRING}),
    },
    "required": [
        "@context",
        "@type",
        "@id",
        "url",
        "identifier",
        "text",
        "inLanguage",
        "creator",
        "dateCreated",
        "genre",
        "isBasedOn",
        "isPartOf",
        "about",
        "citation",
    ],
}
LINKED_DATA_RESPONSE = OpenApiResponse(QUOTATION_SCHEMA, description="The excerpt as a schema.org Quotation.")

# The bulk dumps (api/downloads.py).


class DumpFileSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="The file's immutable name: excerpts-<data version>.<format>.gz.")
    format = serializers.ChoiceField(choices=["csv", "jsonl"], help_text="csv or jsonl, gzipped.")
    url = serializers.URLField(help_text="Where to download it (Range requests welcome).")
    bytes = serializers.IntegerField(help_text="Its size: the Content-Length of a whole download.")
    sha256 = serializers.CharField(help_text="SHA-256 of its bytes, in hex: also its ETag and its Repr-Digest.")
    rows = serializers.IntegerField(help_text="Excerpts in it: CSV records after the header, or JSON Lines lines.")
    data_version = serializers.CharField(help_text="The data version its rows were all read at.")
    built_at = serializers.DateTimeField(help_text="When it was built; its Last-Modified.")
    current = serializers.BooleanField(help_text="Whether it holds the data as it is now.")


class DumpLatestSerializer(serializers.Serializer):
    csv = serializers.URLField(help_text="Redirects to the newest CSV dump.")
    jsonl = serializers.URLField(help_text="Redirects to the newest JSON Lines dump.")


class DumpListingSerializer(serializers.Serializer):
    data_version = serializers.CharField(help_text="The data version now.")
    current = serializers.BooleanField(
        help_text="Whether the newest dump holds the data as it is now. When false, a rebuild has been started and "
        "the newest complete dump is served meanwhile."
    )
    building = serializers.BooleanField(help_text="Whether a build is under way.")
    latest = DumpLatestSerializer(help_text="Stable URLs of the newest dump of each format.")
    files = DumpFileSerializer(
        many=True, help_text="Every file kept, newest first: the newest build and the one before."
    )


def response_header(name, description, codes):
    return OpenApiParameter(name, str, OpenApiParameter.HEADER, description=description, response=codes)


DUMP_FILE_PARAMETERS = [
    OpenApiParameter("name", str, OpenApiParameter.PATH, description="The file's name, from the listing."),
    OpenApiParameter(
        "Range",
        str,
        OpenApiParameter.HEADER,
        description="One byte range: bytes=first-last, bytes=first- or bytes=-length. Several ranges are ignored.",
    ),
    OpenApiParameter(
        "If-Range", str, OpenApiParameter.HEADER, description="The ETag (or Last-Modified) a resumed Range is for."
    ),
    response_header("ETag", "The file's SHA-256 in hex, quoted: a strong validator.", [200, 206, 304]),
    response_header("Repr-Digest", "sha-256=:<base64 SHA-256>: (RFC 9530), of the whole file.", [200, 206]),
    response_header("Content-Length", "The bytes in this response.", [200, 206]),
    response_header("Content-Range", "206: bytes first-last/size. 416: bytes */size.", [206, 416]),
    response_header("Accept-Ranges", "bytes", [200, 206]),
    response_header("Last-Modified", "When the file was built.", [200, 206, 304]),
]
PROBLEM_404_DUMP = OpenApiResponse(ProblemSerializer, description="No such file: never built, or pruned since.")
PROBLEM_416 = OpenApiResponse(
    ProblemSerializer, description="The range starts past the end of the file; Content-Range says its size."
)
PROBLEM_503_NO_DUMP = OpenApiResponse(
    ProblemSerializer,
    description="No dump has been built yet. One is being built: try again after the seconds in Retry-After.",
)
DUMP_FILE_RESPONSES = {
    (200, "application/gzip"): OpenApiResponse(OpenApiTypes.BINARY, description="The whole file."),
    (206, "application/gzip"): OpenApiResponse(OpenApiTypes.BINARY, description="The one range asked for."),
    304: OpenApiResponse(description="If-None-Match named the file's ETag: it has not changed."),
    412: OpenApiResponse(description="An If-Match or If-Unmodified-Since condition sent did not hold."),
    **problem_responses({404: PROBLEM_404_DUMP, 416: PROBLEM_416}),
}
DUMP_LATEST_RESPONSES = {
    302: OpenApiResponse(
        description="Location is the newest file of the format. Dump-Current says whether it holds the data as it "
        "is now (when false, a rebuild has been started)."
    ),
    **problem_responses({404: PROBLEM_404, 503: PROBLEM_503_NO_DUMP}),
}

# Citations.

STYLE_PARAMETER = OpenApiParameter(
    "style",
    str,
    enum=[citations.DEFAULT_STYLE],
    default=citations.DEFAULT_STYLE,
    description=(
        "csl-json (default): an array of CSL-JSON items, for Zotero, Mendeley and citeproc; this operation's one "
        "documented format. Each format has an operation of its own whose schema declares its media type: "
        "cite.json (CSL-JSON), cite.bib (BibTeX, biblatex fields), cite.ris (RIS) and cite.txt (Chicago notes, one "
        "a line). style=bibtex, ris and chicago here still answer with them, for clients written before them."
    ),
)
CITATION_RESPONSES = {
    (200, citations.STYLES[citations.DEFAULT_STYLE]): OpenApiResponse(
        {"type": "array", "items": {"type": "object"}}, description="The citation as CSL-JSON: an array of items."
    ),
}
