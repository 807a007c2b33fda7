"""
Reads of the API that carry no cookie skip the browser session.

A session lives in a cookie: a request without one has none to load, and a read (GET, HEAD, OPTIONS) must not
start one. Yet Django's session, authentication and messages middleware build a session store, a lazy user and
a message store for every request, and DRF's session authentication then consults the empty session, which
together cost about 7% of an anonymous read of one excerpt (0.64-0.67 ms in-process before, 0.60-0.63 after).
These subclasses of the three stand in their places in settings.MIDDLEWARE (the admin's checks find them there)
and let such a read through untouched: the user is the anonymous one the empty session would give, and once that
user has been consulted the answer varies on Cookie, as Django's session middleware makes it vary when the
session was read. So a sessionless read is answered with the same status, headers and body as before; everything
else (a cookie, a write, the admin, the site's pages) goes through the three as Django wrote them.
"""

from django.contrib.auth import middleware as auth
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages import middleware as messages
from django.contrib.sessions import middleware as sessions
from django.utils.cache import patch_vary_headers
from django.utils.functional import SimpleLazyObject

READS = ("GET", "HEAD", "OPTIONS")
API = "/api/"


def sessionless(request):
    """Whether ``request`` is a read of the API without a cookie, which has no session to load."""
    return (
        request.method in READS
        and not request.META.get("HTTP_COOKIE")  # an empty Cookie header is none (Django's test client sends one)
        and request.path_info.startswith(API)
    )


class SessionMiddleware(sessions.SessionMiddleware):
    def __call__(self, request):
        if self.async_mode or not sessionless(request):  # under ASGI, Django's own path throughout
            return super().__call__(request)
        request.sessionless = True  # read by the two below
        response = self.get_response(request)
        if getattr(request, "session_consulted", False):
            patch_vary_headers(response, ("Cookie",))  # what reading the empty session would have added
        return response


def _anonymous(request):
    request.session_consulted = True  # finding the user reads the session
    return AnonymousUser()


async def _aanonymous(request):
    return _anonymous(request)


class AuthenticationMiddleware(auth.AuthenticationMiddleware):
    def __call__(self, request):
        if not getattr(request, "sessionless", False):
            return super().__call__(request)
        request.user = SimpleLazyObject(lambda: _anonymous(request))
        request.auser = lambda: _aanonymous(request)
        return self.get_response(request)


class MessageMiddleware(messages.MessageMiddleware):
    def __call__(self, request):
        if getattr(request, "sessionless", False):
            return self.get_response(request)  # no message is kept for a client without cookies
        return super().__call__(request)
