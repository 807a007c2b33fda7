"""
Which database a request reads: a replica for a public read, the primary for everything else.

A public read is a GET or HEAD outside the admin, without credentials (an ``Authorization`` header or a session
cookie: curators always read what they wrote) and without the cookie a write's answer sets for
``settings.REPLICA_READ_YOUR_WRITES_SECONDS``, so a caller's next reads see its own write even on a lagging replica.
One replica serves the whole request, the rows and the data version its ETag and cache keys come from alike, and
the body of a streamed export too. Without replicas (DATABASE_REPLICA_URLS unset) this does nothing.
"""

import random

from django.conf import settings
from django.http import StreamingHttpResponse

from excerpts.db.routers import reading_from, replica_aliases

WROTE_COOKIE = "excerpts_wrote"
READS = ("GET", "HEAD")
WRITES = ("POST", "PUT", "PATCH", "DELETE")


class ReplicaReadsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        replicas = replica_aliases()
        if not replicas:
            return self.get_response(request)
        if request.method in WRITES:
            response = self.get_response(request)
            response.set_cookie(
                WROTE_COOKIE,
                "1",
                max_age=settings.REPLICA_READ_YOUR_WRITES_SECONDS,
                secure=settings.SESSION_COOKIE_SECURE,
                httponly=True,
                samesite="Lax",
            )
            return response
        if request.method not in READS or not is_public_read(request):
            return self.get_response(request)
        alias = random.choice(replicas)
        with reading_from(alias):
            response = self.get_response(request)
        if isinstance(response, StreamingHttpResponse) and not response.is_async:
            response.streaming_content = _reading_from(alias, response.streaming_content)
        return response


def is_public_read(request):
    """Whether the request may read a replica (see the module's docstring)."""
    return not (
        request.path.startswith("/admin/")
        or "HTTP_AUTHORIZATION" in request.META
        or settings.SESSION_COOKIE_NAME in request.COOKIES
        or WROTE_COOKIE in request.COOKIES
    )


def _reading_from(alias, chunks):
    """The chunks of a streamed body, each read from ``alias`` (after the view returned and the block ended)."""
    chunks = iter(chunks)
    while True:
        with reading_from(alias):
            chunk = next(chunks, None)
        if chunk is None:
            return
        yield chunk
