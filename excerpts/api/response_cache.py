"""
Whole answers kept per data version: a read whose answer has been made before is sent again without its view
running, so a repeated request runs no page query at all.

The key is the answer's ETag (api/conditional.py), which names it exactly: the data version, the code that
renders it, the scheme, host, path and query, the caller's role and the format. A write moves the data version,
so an answer of older data is never found again; the cache's timeout (``limits.CACHE_TIMEOUT``) clears it. The
cache is Django's default cache, shared by every worker (and by every server, with Redis at ``REDIS_URL``).

Only successful answers of a GET are kept, rendered and uncompressed (the gzip middleware compresses either kind
on the way out), with the headers the view gave them besides those the mixin adds again; streamed exports never,
nor bodies past ``API_RESPONSE_CACHE_MAX_BYTES``. ``DJANGO_RESPONSE_CACHE=false`` turns the cache off (a
benchmark of uncached reads does). A failing cache costs the view run, never the answer.
"""

import functools
import logging

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse
from django.template.response import SimpleTemplateResponse

from ..research import limits
from ..research.caching import CACHE_ERRORS

logger = logging.getLogger(__name__)

# What a view sets on its answer itself; ETag, Cache-Control, Vary and Allow are set again on every answer.
STORED_HEADERS = ("Content-Type", "Content-Disposition")


def _key(etag):
    return f"excerpts:response:{etag}"


def fetch(etag):
    """The answer kept under ``etag``, as a new response, or None."""
    if not settings.API_RESPONSE_CACHE:
        return None
    try:
        stored = cache.get(_key(etag))
    except CACHE_ERRORS:
        logger.exception("The cache failed; the answer is made again.")
        return None
    if stored is None:
        return None
    headers, content = stored
    response = HttpResponse(content, headers=headers)
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
    if len(response.content) > settings.API_RESPONSE_CACHE_MAX_BYTES:
        return
    headers = {name: response[name] for name in STORED_HEADERS if response.has_header(name)}
    try:
        cache.set(_key(etag), (headers, response.content), limits.CACHE_TIMEOUT)
    except CACHE_ERRORS:
        logger.exception("The cache failed; the answer is not kept.")
