"""
Credentials are checked for shape before they reach the database.

A token or session key is a short ASCII string of letters and digits. Anything else (a NUL byte,
which PostgreSQL refuses in text, or a megabyte of junk) is simply not a valid credential: a 401
for a token, no session for a cookie; never a database error.
"""

from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed

MAX_KEY_LENGTH = 64


def well_formed_key(key):
    return isinstance(key, str) and 0 < len(key) <= MAX_KEY_LENGTH and key.isascii() and key.isalnum()


class StrictTokenAuthentication(TokenAuthentication):
    """``Authorization: Token <key>``, refusing malformed keys without a lookup."""

    def authenticate_credentials(self, key):
        if not well_formed_key(key):
            raise AuthenticationFailed("Invalid token.")
        return super().authenticate_credentials(key)


class SessionStore(DatabaseSessionStore):
    """Database sessions that treat a malformed session cookie as no session at all."""

    def _validate_session_key(self, key):
        return super()._validate_session_key(key) and well_formed_key(key)
