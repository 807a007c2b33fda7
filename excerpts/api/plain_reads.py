"""
One published excerpt read anonymously, answered before URL resolving, the session, authentication and DRF.

``GET /api/v1/excerpts/{id}/`` is what every link to an excerpt asks (a citation, a page quoting it), and a
different one each time: its answer is kept only once it has been read. A plain read of it has exactly one answer,
the one DRF's path gives: the public representation (``representations.excerpts``, as ``ExcerptViewSet.retrieve``
reads it) rendered by the JSON renderer, with the ETag of conditional.py, the headers DRF gives the route
(``Allow``), the caching headers of ``conditional.label`` and those of the inner middleware on the way out
(``X-Frame-Options``, ``Content-Length``; the others add none to such an answer, and the session's
``Vary: Cookie`` is in ``conditional.VARY``). A read is plain when it is a GET of that path with no query, no
credentials, no cookie and no condition (``response_cache.NOT_REPEATED``) and asks for JSON or for anything (no
``Accept``, ``*/*`` or ``application/json``). This middleware gives that answer itself, after Django's
CommonMiddleware has looked at the request as it would have (a refused user agent, a redirect), and counts the
anonymous rate limit as DRF would. On 200,000 excerpts that took an uncached read from 0.59 ms in-process to 0.37
ms (``manage.py benchmark --throughput``: README).

Everything else goes on to DRF, which answers it as it answers any read: another request, a draft or a missing id
(its 404 problem), a client past its anonymous rate limit (refused, counted once more, as
``RepeatedReadsMiddleware`` does), a host not allowed (a 400) and a database that fails (the 503, after DRF's own
attempt). tests/test_plain_reads.py compares the two answers, status, headers and body, for every excerpt of the
seed corpus. ``DJANGO_PLAIN_READS=false`` (``settings.API_PLAIN_READS``) sends every read through DRF.
"""

import functools
import re

from django.conf import settings
from django.core.exceptions import DisallowedHost, PermissionDenied
from django.db import DatabaseError
from django.http import HttpResponse
from django.middleware.clickjacking import XFrameOptionsMiddleware
from django.middleware.common import CommonMiddleware
from django.urls import get_script_prefix, resolve
from django.utils.cache import patch_vary_headers

from ..research import caching
from . import conditional, representations, response_cache, throttling
from .renderers import FastJSONRenderer
from .views import ID_PATTERN

# What DRF's content negotiation answers with the JSON renderer and its media type: no Accept is */*.
JSON_ACCEPTS = ("", "*/*", "application/json")
ID = re.compile(ID_PATTERN)  # the route's own
RENDERER = FastJSONRenderer()


class PlainExcerptReadsMiddleware:
    """Answer a plain anonymous read of one published excerpt as DRF would, without DRF (see the module)."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.common = CommonMiddleware(get_response)
        # The inner middleware whose headers the answer would have had on its way out.
        self.inner = [XFrameOptionsMiddleware(get_response), self.common]

    def __call__(self, request):
        pk = _plain_excerpt_read(request)
        response = None if pk is None else self.answer(request, pk)
        return self.get_response(request) if response is None else response

    def answer(self, request, pk):
        """The answer to a plain read of excerpt ``pk``, or None for the rest of the stack to give."""
        try:
            if self.common.process_request(request) is not None:  # a host not allowed raises, a user agent too
                return None  # a redirect (PREPEND_WWW), which the CommonMiddleware of the stack makes again
            with caching.read_once():  # the ETag names the version the representation was read at, as DRF's does
                version = caching.data_version()
                found = representations.excerpts([pk], representations.Links(request), published=True, kept=True)
        except (DisallowedHost, PermissionDenied, DatabaseError):
            return None
        if version is None or not found or not throttling.allow_anonymous(request):
            return None
        response = HttpResponse(RENDERER.render(found[0]), content_type=RENDERER.media_type)
        for name, value in _route_headers().items():
            if name == "Vary":
                patch_vary_headers(response, [value])  # added to, as DRF's finalize_response does
            else:
                response[name] = value
        # caching.request_parts of an anonymous read without a query; the format negotiated for JSON_ACCEPTS.
        parts = (request.path, False, [])
        host = request.get_host()  # checked above
        etag = conditional.weak_etag(version, request.scheme, host, parts, RENDERER.format, RENDERER.media_type)
        conditional.label(response, etag, authenticated=False)
        response_cache.keep_once_rendered(etag, response)
        response.repeatable = True  # RepeatedReadsMiddleware keeps it for the next such read
        for middleware in self.inner:
            response = middleware.process_response(request, response)
        return response


def _plain_excerpt_read(request):
    """The id asked for, if ``request`` is a plain read of one excerpt (see the module); None otherwise."""
    if not settings.API_PLAIN_READS or request.META.get("QUERY_STRING") or not response_cache.repeatable(request):
        return None
    if request.META.get("HTTP_ACCEPT", "") not in JSON_ACCEPTS:
        return None
    head, tail = _excerpt_path_info()
    path = request.path_info
    if not (path.startswith(head) and path.endswith(tail)):
        return None
    pk = path[len(head) : len(path) - len(tail)]
    return int(pk) if ID.fullmatch(pk) else None


def _excerpt_path_info():
    """The excerpt route's path below the script prefix (what the URLconf resolves), split around the id."""
    head, tail = representations.excerpt_path()
    return "/" + head.removeprefix(get_script_prefix()), tail


@functools.cache
def _route_headers_of(path_info):
    view = resolve(path_info).func  # the excerpt route's view, as DRF's router made it
    # The instance DRF's view function makes for a request (ViewSetMixin.as_view): each method bound to its action,
    # HEAD answered as GET.
    instance = view.cls(**view.initkwargs)
    for method, action in view.actions.items():
        setattr(instance, method, getattr(instance, action))
    if hasattr(instance, "get") and not hasattr(instance, "head"):
        instance.head = instance.get
    return instance.default_response_headers  # Allow, and Vary: Accept when it has several renderers


def _route_headers():
    """The headers DRF gives every answer of the excerpt route, taken once per process from its view."""
    head, tail = _excerpt_path_info()
    return _route_headers_of(f"{head}0{tail}")  # any one id stands for all: the headers are the route's
