"""
Rate limits: DRF throttles counting requests in the shared cache, and the headers that report them.

Three scopes, each with a rate in ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]`` (see project/settings.py):

- ``anon``: every request of an anonymous client, per IP address (excerpts/api/clients.py);
- ``heavy``: an anonymous client's requests that read many excerpts (a view says which: ``is_heavy_request``),
  also per IP address, at a stricter rate;
- ``user``: every request of an authenticated user (curators, by token or session), per user.

Requests are counted in fixed windows (a minute of the clock for "N/minute"): one integer per client and window,
raised by the cache's ``count`` (created with ``cache.add`` and raised with ``cache.incr`` on a cache without it).
Each is atomic, on Redis (one MULTI) and on the file cache of project/caches.py (under a lock), so concurrent
workers and servers never lose a count. (DRF's own throttles rewrite a list of every request's time on each
request, as long as the rate is high, and concurrent requests overwrite each other's lists.)

Every answer a throttle counted says where the client stands, in the IETF httpapi draft's fields
(draft-ietf-httpapi-ratelimit-headers): ``RateLimit-Limit`` (requests allowed in the window),
``RateLimit-Remaining`` (left in it) and ``RateLimit-Reset`` (seconds until it ends), for the scope closest to
refusing. A refused request is a 429 problem detail with ``Retry-After``, from DRF's exception handler.
"""

import logging
import math
from dataclasses import dataclass

from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from ..research.caching import CACHE_ERRORS
from .clients import client_ip

logger = logging.getLogger(__name__)

# Where the throttles leave what they counted for RateLimitHeadersMiddleware: an attribute of Django's request.
QUOTAS_ATTRIBUTE = "rate_limit_quotas"
# A window's counter outlives the window by this long, so servers whose clocks differ a little share it.
CLOCK_SKEW_SECONDS = 60


@dataclass(frozen=True)
class Quota:
    """Where one client stands in one scope's current window."""

    scope: str
    limit: int
    remaining: int
    reset: int  # seconds until the window ends


class WindowRateThrottle(SimpleRateThrottle):
    """
    A DRF throttle counting requests per client in fixed windows of the rate's period. ``get_cache_key`` names the
    client, or returns None for requests this scope does not count.
    """

    def get_rate(self):
        # Read the settings now, not when DRF was imported, so a changed setting (a test's, say) takes effect.
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        client = self.get_cache_key(request, view)
        if client is None:
            return True
        return self.allow_client(request, client)

    def allow_client(self, request, client):
        """Count one more request of ``client`` (DRF's or Django's ``request``); whether it is within the rate."""
        if self.rate is None:
            return True
        window, elapsed = divmod(self.timer(), self.duration)
        count = self.count(f"throttle:{self.scope}:{client}:{int(window)}")
        if count is None:
            return True  # no cache to count in: serve rather than refuse everyone
        self.reset = max(1, math.ceil(self.duration - elapsed))
        quota = Quota(self.scope, self.num_requests, max(0, self.num_requests - count), self.reset)
        http_request = getattr(request, "_request", request)
        setattr(http_request, QUOTAS_ATTRIBUTE, [*getattr(http_request, QUOTAS_ATTRIBUTE, []), quota])
        return count <= self.num_requests

    def count(self, key):
        """Count one more request under ``key`` and return the window's count, or None when the cache fails."""
        timeout = self.duration + CLOCK_SKEW_SECONDS
        try:
            if hasattr(self.cache, "count"):  # one locked step or round trip (project/caches.py)
                return self.cache.count(key, timeout)
            if self.cache.add(key, 1, timeout):
                return 1
            try:
                return self.cache.incr(key)
            except ValueError:  # the key expired between add and incr
                self.cache.add(key, 1, timeout)
                return 1
        except CACHE_ERRORS:
            logger.exception("The cache failed; the %s rate limit is not applied to this request.", self.scope)
            return None

    def wait(self):
        return self.reset


class AnonymousRateThrottle(WindowRateThrottle):
    """Every request of an anonymous client, per IP address."""

    scope = "anon"

    def get_cache_key(self, request, view):
        return None if request.user and request.user.is_authenticated else client_ip(request)


def allow_anonymous(request):
    """
    AnonymousRateThrottle's verdict on a Django request known to be anonymous, counted as DRF counts it, for an
    answer sent before DRF runs (response_cache.RepeatedReadsMiddleware). Such answers are never heavy requests.
    """
    return AnonymousRateThrottle().allow_client(request, client_ip(request))


class HeavyRequestThrottle(WindowRateThrottle):
    """
    An anonymous client's heavy requests, per IP address: those the view's ``is_heavy_request(request)`` names
    (exports, bibliographies, filtered facets: each reads up to every matching excerpt).
    """

    scope = "heavy"

    def get_cache_key(self, request, view):
        if request.user and request.user.is_authenticated:
            return None
        is_heavy = getattr(view, "is_heavy_request", None)
        return client_ip(request) if is_heavy is not None and is_heavy(request) else None


class UserRateThrottle(WindowRateThrottle):
    """Every request of an authenticated user (a curator's token or admin session), per user."""

    scope = "user"

    def get_cache_key(self, request, view):
        return str(request.user.pk) if request.user and request.user.is_authenticated else None


def rate_limit_headers(quotas):
    """The RateLimit-* headers for the quota closest to refusing (the longest wait among those at zero)."""
    quota = min(quotas, key=lambda quota: (quota.remaining, -quota.reset))
    return {
        "RateLimit-Limit": str(quota.limit),
        "RateLimit-Remaining": str(quota.remaining),
        "RateLimit-Reset": str(quota.reset),
    }


class RateLimitHeadersMiddleware:
    """Add the RateLimit-* headers to every answer whose request a throttle counted, refused ones included."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        quotas = getattr(request, QUOTAS_ATTRIBUTE, None)
        if quotas:
            for name, value in rate_limit_headers(quotas).items():
                response[name] = value
        return response
