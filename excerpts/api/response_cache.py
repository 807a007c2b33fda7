"""
Whole answers kept per data version: a read whose answer has been made before is sent again without its view
running, so a repeated request runs no page query at all.

The key is the answer's ETag (api/conditional.py), which names it exactly: the data version, the code that
renders it, the scheme, host, path and query, the caller's role and the format. A write moves the data version,
so an answer of older data is never found again; the cache's timeout (``limits.CACHE_TIMEOUT``) clears it. The
cache is Django's default cache, shared by every worker (and by every server, with Redis at ``REDIS_URL``).

Anonymous reads repeat the most, and RepeatedReadsMiddleware answers them before the rest of the stack: a GET
under /api/v1/ with no credentials, no cookie and no condition (If-None-Match and the like) is looked up under a key
made of what fixes its ETag, the data version included, before the session, authentication, URL resolving and DRF
run. The middleware stands inside those that read a replica and bound each statement, so the version is read
where the answer would be; the ones outside it (security headers, CSP, gzip, CORS, rate-limit headers) treat a
replayed answer as any other. It counts the anonymous rate limit as DRF would; a client past it is passed on to
DRF, which counts it once more and refuses it. Heavy requests (exports, bibliographies, filtered facets) are
never replayed: their stricter limit is DRF's to count.

Only successful answers of a GET are kept, rendered and uncompressed (the gzip middleware compresses either kind
on the way out), with the headers the view gave them besides those the mixin adds again; streamed exports never,
nor bodies past ``API_RESPONSE_CACHE_MAX_BYTES``. Each process also keeps the answers it has lately kept or read
(``RECENT``, up to ``API_RESPONSE_CACHE_PROCESS_BYTES``), and looks there before the shared cache.
``DJANGO_RESPONSE_CACHE=false`` turns the cache off (a benchmark of uncached reads does). A failing cache costs the
view run, never the answer.
"""

import functools
import hashlib
import logging

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import DisallowedHost
from django.db import DatabaseError
from django.http import HttpResponse
from django.template.response import SimpleTemplateResponse

from ..research import caching, limits
from ..research.caching import CACHE_ERRORS
from . import conditional, throttling

logger = logging.getLogger(__name__)

# What a view sets on its answer itself; ETag, Cache-Control, Vary and Allow are set again on every answer. A page's
# Link header holds the request's own URLs, as its body does: the ETag that keys it names the scheme, host and query.
STORED_HEADERS = ("Content-Type", "Content-Disposition", "Link")


def _key(etag):
    return f"excerpts:response:{etag}"


def fetch(etag):
    """The answer kept under ``etag``, as a new response, or None."""
    if not settings.API_RESPONSE_CACHE:
        return None
    response = _get(_key(etag))
    if response is not None:
        response.kept = True  # keep_once_rendered() does not write it back
    return response


def keep_once_rendered(etag, response):
    """Keep a successful answer under ``etag``: now, or once rendered (a DRF Response renders after the view)."""
    if response.streaming or getattr(response, "kept", False) or not settings.API_RESPONSE_CACHE:
        return
    if isinstance(response, SimpleTemplateResponse) and not response.is_rendered:
        response.add_post_render_callback(functools.partial(_keep, etag))
    else:
        _keep(etag, response)


def _keep(etag, response):
    headers = {name: response[name] for name in STORED_HEADERS if response.has_header(name)}
    _put(_key(etag), headers, response.content)


# The answers this process has sent or kept lately, in front of the shared cache: every key names the data version,
# so what is kept under it never changes. Reading the file cache was a quarter of a repeated read in-process.
RECENT = caching.ProcessMemo("API_RESPONSE_CACHE_PROCESS_BYTES", weight=lambda stored: len(stored[1]))


def _get(key):
    """The answer kept under the cache key ``key``, as a new response, or None (a failing cache included)."""
    stored = RECENT.get(key)
    if stored is None:
        try:
            stored = cache.get(key)
        except CACHE_ERRORS:
            logger.exception("The cache failed; the answer is made again.")
            return None
        if stored is None:
            return None
        RECENT.put(key, stored)
    headers, content = stored
    return HttpResponse(content, headers=headers)


def _put(key, headers, content):
    """Keep an answer's ``headers`` and ``content`` under the cache key ``key``, unless the body is past the limit."""
    if len(content) > settings.API_RESPONSE_CACHE_MAX_BYTES:
        return
    RECENT.put(key, (headers, content))
    try:
        cache.set(key, (headers, content), limits.CACHE_TIMEOUT)
    except CACHE_ERRORS:
        logger.exception("The cache failed; the answer is not kept.")


# Request headers that make a GET something other than a plain repeated read: credentials, cookies (a session, the
# read-your-writes cookie of api/replicas.py) and conditions, which DRF's path answers (a 304, say).
NOT_REPEATED = (
    "HTTP_AUTHORIZATION",
    "HTTP_COOKIE",
    "HTTP_IF_NONE_MATCH",
    "HTTP_IF_MODIFIED_SINCE",
    "HTTP_IF_MATCH",
    "HTTP_IF_UNMODIFIED_SINCE",
    "HTTP_RANGE",
)


# The API of the data: the schema, the docs and the health checks read no data version and are not repeated here.
DATA_API = "/api/v1/"


class RepeatedReadsMiddleware:
    """Answer an anonymous read made before from the answers kept, before DRF runs (see the module's docstring)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not settings.API_RESPONSE_CACHE or not repeatable(request):
            return self.get_response(request)
        with caching.read_once():  # the key's version is the one the view reads, if it runs
            key = _repeated_key(request)
            stored = _get(key) if key else None
            if stored is not None and throttling.allow_anonymous(request):
                return stored
            response = self.get_response(request)
        if key and getattr(response, "repeatable", False):
            _set(key, response)
        return response


def repeatable(request):
    """
    Whether ``request`` is an anonymous GET of the data's API without a cookie or a condition (see the module), from a
    user agent that Django's CommonMiddleware lets through (``DISALLOWED_USER_AGENTS``): a refused one must reach it.
    """
    return (
        request.method == "GET"
        and request.path_info.startswith(DATA_API)
        and not any(request.META.get(name) for name in NOT_REPEATED)  # an empty header is none
        and not _disallowed_agent(request)
    )


def _disallowed_agent(request):
    agent = request.META.get("HTTP_USER_AGENT")
    return agent is not None and any(pattern.search(agent) for pattern in settings.DISALLOWED_USER_AGENTS)


def _repeated_key(request):
    """What fixes an anonymous GET's ETag (conditional.py), read off the plain request; None if it cannot be."""
    try:
        version = caching.data_version()
    except DatabaseError:
        return None  # the stack's own read fails the same way, and DRF's handler answers it (a 503)
    if version is None:
        return None
    try:
        host = request.get_host()
    except DisallowedHost:
        return None  # DRF's path answers it with a 400
    query = sorted((name, sorted(values)) for name, values in request.GET.lists())
    # The format is negotiated from the path's suffix, the query's format and Accept, so Accept stands for it.
    accept = request.META.get("HTTP_ACCEPT", "")
    parts = (conditional.code_and_bounds(), version, request.scheme, host, request.path, query, accept)
    return "excerpts:repeated:" + hashlib.sha256(repr(parts).encode()).hexdigest()


def _set(key, response):
    if response.status_code != 200 or response.streaming or response.cookies:
        return
    _put(key, dict(response.items()), response.content)
