"""
Admin login throttling, by django-axes (configured in project/settings.py): what a locked-out client is told.

After ``AXES_FAILURE_LIMIT`` wrong passwords from one IP address, or for one username, every login attempt from
it is refused until ``AXES_COOLOFF_TIME`` has passed since its last failure, the right password included. The
refusal comes from axes' authentication backend, before Django's hashes the password.
"""

import logging

from axes.handlers.cache import AxesCacheHandler
from django.conf import settings
from django.http import HttpResponse

from .research.caching import CACHE_ERRORS

logger = logging.getLogger(__name__)


class FailOpenCacheHandler(AxesCacheHandler):
    """
    Axes' cache handler, going on without the lockout while the cache is down (a Redis restart, say) rather than
    failing every login with a 500: the same choice the API's rate limits make. Each failure is logged.
    """

    def get_failures(self, request, credentials=None):
        try:
            return super().get_failures(request, credentials)
        except CACHE_ERRORS:
            logger.exception("The cache failed; this login is not checked against the lockout.")
            return 0

    def user_login_failed(self, sender, credentials, request=None, **kwargs):
        try:
            return super().user_login_failed(sender, credentials, request, **kwargs)
        except CACHE_ERRORS:
            logger.exception("The cache failed; this failed login is not counted.")
            return None

    def user_logged_in(self, sender, request, user, **kwargs):
        try:
            return super().user_logged_in(sender, request, user, **kwargs)
        except CACHE_ERRORS:
            logger.exception("The cache failed; the failed logins before this one are not reset.")
            return None


def lockout_response(request, original_response=None, credentials=None):
    """429 with Retry-After: the cool-off, which each further failed attempt starts again."""
    seconds = int(settings.AXES_COOLOFF_TIME.total_seconds())
    response = HttpResponse(
        f"Too many failed login attempts. Logins from this address or for this user are refused for "
        f"{seconds} seconds after the last failed attempt.",
        status=429,
        content_type="text/plain; charset=utf-8",
    )
    response["Retry-After"] = str(seconds)
    return response
