"""
Admin login throttling, by django-axes (configured in project/settings.py): what a locked-out client is told.

After ``AXES_FAILURE_LIMIT`` wrong passwords from one IP address, or for one username, every login attempt from
it is refused until ``AXES_COOLOFF_TIME`` has passed since its last failure, the right password included. The
refusal comes from axes' authentication backend, before Django's hashes the password.
"""

from django.conf import settings
from django.http import HttpResponse


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
