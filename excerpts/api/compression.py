"""
Gzip for the API's bodies, and for nothing else.

Django's GZipMiddleware compresses whatever it is given. Compressing a page that holds a secret (the admin's
CSRF token) beside text an attacker chooses lets the attacker read the secret from the compressed sizes (BREACH),
so only the API's own media types are compressed: JSON, problem details, the CSV and JSON Lines exports, the
citation formats and the schema, none of which holds a secret. Bodies already compressed (the gzipped bulk dumps,
``application/gzip``) and partial content (a Range answer: its bytes are a slice of the stored file) pass as they
are. Streamed exports are compressed as they stream.
"""

from django.conf import settings
from django.middleware.gzip import GZipMiddleware

from ..research import citations
from .problems import PROBLEM_CONTENT_TYPE

COMPRESSED_TYPES = {
    "application/json",
    PROBLEM_CONTENT_TYPE,
    "text/csv",
    "application/jsonl",
    "application/x-ndjson",
    # The schema, as YAML and as JSON (drf-spectacular's renderers).
    "application/vnd.oai.openapi",
    "application/vnd.oai.openapi+json",
    "application/yaml",
    *(media_type.split(";")[0] for media_type in citations.STYLES.values()),
}


def media_type(response):
    return response.get("Content-Type", "").split(";")[0].strip().lower()


class APIGZipMiddleware(GZipMiddleware):
    """GZipMiddleware for the COMPRESSED_TYPES, from settings.API_GZIP_MIN_LENGTH bytes (or streamed)."""

    def process_response(self, request, response):
        if (
            media_type(response) not in COMPRESSED_TYPES
            or response.status_code == 206
            or response.has_header("Content-Range")
            or (not response.streaming and len(response.content) < settings.API_GZIP_MIN_LENGTH)
        ):
            return response
        return super().process_response(request, response)
