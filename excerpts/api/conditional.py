"""
Conditional reads: an ETag on every GET, and a 304 with no page query when the client holds the answer already.

What a read answers is fixed, before the view runs, by the data version (one small query, kept by triggers:
research/caching.py), what was asked (scheme, host, path, sorted query parameters, the negotiated format), the
caller's role (anonymous or curator: curators see drafts) and the code that renders it (``release()``). DRF's
``initial()`` has authenticated, checked permissions and throttles and negotiated the format by then, so the
ETag is computed right after it; a matching ``If-None-Match`` ends the request there. The view runs only when
the client has no current copy.

The ETags are weak (``W/"..."``): a gzipped body and a plain one are the same answer in different bytes, and
If-None-Match compares weakly anyway.

``Cache-Control``: anonymous answers are ``public, max-age=API_CACHE_MAX_AGE`` (settings.py), so browsers and
shared caches keep them briefly and then revalidate; an authenticated caller's are ``private, no-cache``, kept by
that client only and revalidated every time, so a curator sees their own write at once. An answer that cannot be
identified in advance (a random draw without a seed) is ``no-store`` and has no ETag. Errors get neither.

The ETag also keys the answers kept whole (response_cache.py): a request that finds its answer there is answered
right after the ETag is known, like a 304, with the body. An anonymous GET without conditions finds it earlier
still, before DRF and most middleware run (response_cache.RepeatedReadsMiddleware).
"""

import functools
import hashlib

from django.conf import settings
from django.http import HttpResponseNotModified
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.http import parse_etags, quote_etag

from ..research import caching, limits
from . import response_cache
from .caching import request_parts

READS = ("GET", "HEAD")
# What else besides the URL an answer depends on: the format (Accept), the caller (Authorization, the session
# cookie), CORS headers (Origin) and the content coding (Accept-Encoding, also on bodies too short to compress, so
# that a 200 and its 304 always agree).
VARY = ("Accept", "Accept-Encoding", "Authorization", "Cookie", "Origin")


@functools.cache
def release():
    """
    A digest of the code and the pinned requirements, taken once per process: a deploy that changes how an
    answer is rendered changes every ETag, so no client keeps an answer of the old code through its 304s.
    """
    digest = hashlib.sha256()
    files = [settings.BASE_DIR / "requirements.txt"]
    for package in ("excerpts", "project"):
        files += (settings.BASE_DIR / package).rglob("*.py")
        files += (settings.BASE_DIR / package).rglob("*.html")
    for path in sorted(file for file in files if file.is_file()):
        digest.update(str(path.relative_to(settings.BASE_DIR)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def code_and_bounds():
    """
    What an answer depends on besides the data and the request: the code (``release()``) and the page sizes and
    other bounds of research/limits.py.
    """
    return release(), sorted((name, getattr(limits, name)) for name in limits.DEFAULTS)


def if_none_match(request):
    """The request's If-None-Match: a list of ETags, ["*"], or [] (absent or unreadable)."""
    return parse_etags(request.headers.get("If-None-Match", ""))


def names(etags, etag):
    """Whether a list of ETags names ``etag``, comparing weakly (W/ is ignored)."""
    return etag.removeprefix("W/") in {tag.removeprefix("W/") for tag in etags}


def weak_etag(version, scheme, host, parts, format, media_type):
    """
    The ETag of the answer that these fix, besides the code and the bounds: the data version, the scheme and host
    (links are absolute), the path, role and query (``caching.request_parts``) and the negotiated format.
    """
    fixed = (code_and_bounds(), version, scheme, host, parts, format, media_type)
    return "W/" + quote_etag(hashlib.sha256(repr(fixed).encode()).hexdigest()[:32])


def label(response, etag, authenticated):
    """
    Give a successful read its validators and caching headers: the ETag, if it has one (``no-store`` without), and
    ``private, no-cache`` for an authenticated caller or ``public`` with ``API_CACHE_MAX_AGE`` for anyone else.
    """
    patch_vary_headers(response, VARY)
    if not etag:
        patch_cache_control(response, no_store=True)
        return
    response["ETag"] = etag
    if authenticated:
        patch_cache_control(response, private=True, no_cache=True)
    else:
        patch_cache_control(response, public=True, max_age=settings.API_CACHE_MAX_AGE)


class NotModified(Exception):
    """The client's copy is current: answer 304 without running the view."""


class Answered(Exception):
    """The answer was made before and kept (response_cache.py): send it without running the view."""

    def __init__(self, response):
        super().__init__()
        self.response = response


class ConditionalGetMixin:
    """
    ETag, 304 and Cache-Control for an APIView's reads. An action whose answer is only repeatable with some
    query parameters names them: ``@action(..., cacheable_only_with=("seed",))``.
    """

    cacheable_only_with: tuple[str, ...] = ()
    # False for a view whose answer depends on the code alone (the schema): its ETag costs no query.
    reads_data = True
    etag = None

    def dispatch(self, request, *args, **kwargs):
        if request.method not in READS:
            return super().dispatch(request, *args, **kwargs)
        with caching.read_once():  # the ETag and the cached counts and facets read one version, once
            return super().dispatch(request, *args, **kwargs)

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)  # authenticated, permitted, throttled, format negotiated
        if request.method not in READS:
            return
        self.etag = self.identify(request)
        # "*" matches any current answer, but whether there is one (or a 400 or a 404) is known only once the view
        # has run: finalize_response() answers it.
        if self.etag and names(if_none_match(request), self.etag):
            raise NotModified
        stored = response_cache.fetch(self.etag) if self.etag else None
        if stored is not None:
            raise Answered(stored)

    def identify(self, request):
        """The answer's ETag, or None when it cannot be known before it is made."""
        if not all(name in request.query_params for name in self.cacheable_only_with):
            return None
        version = caching.data_version() if self.reads_data else "code only"
        if version is None:
            return None
        return weak_etag(
            version,
            request.scheme,
            request.get_host(),  # pagination links are absolute
            request_parts(request),  # path, role, query
            request.accepted_renderer.format,
            request.accepted_media_type,
        )

    def handle_exception(self, exc):
        if isinstance(exc, NotModified):
            return HttpResponseNotModified()
        if isinstance(exc, Answered):
            return exc.response
        return super().handle_exception(exc)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if request.method not in READS or not (200 <= response.status_code < 300 or response.status_code == 304):
            return response
        if response.has_header("ETag") or response.has_header("Cache-Control"):
            return response  # the view validates its answer itself (a stored file with its own strong ETag)
        if self.etag and response.status_code == 200 and if_none_match(request) == ["*"]:
            response = HttpResponseNotModified()  # there is an answer, so the client's "any copy" is current
        label(response, self.etag, authenticated=bool(request.user and request.user.is_authenticated))
        if self.etag and request.method == "GET" and response.status_code == 200:
            response_cache.keep_once_rendered(self.etag, response)
            # RepeatedReadsMiddleware may send it again before DRF runs, where only the anonymous rate limit counts.
            is_heavy = getattr(self, "is_heavy_request", None)
            response.repeatable = not (is_heavy is not None and is_heavy(request))
        return response
