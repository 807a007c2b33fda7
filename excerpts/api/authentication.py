"""
API tokens and admin sessions, neither of them stored in a form that works as a credential, and both checked for
shape before they reach the database.

Tokens are django-rest-knox's: the database keeps a SHA-512 digest of each token (and its first 15 characters, to
find it), never the token, so a leaked database or backup lets no one call the API as a curator. A token may have
an expiry; revoking one deletes it (``manage.py revoke_tokens``, or the admin). Sessions stay in the database, so
that logging out or deleting a session ends it at once, but under a hash of the cookie's key (see SessionStore).

A token or session key is a short ASCII string of letters and digits. Anything else (a NUL byte, which PostgreSQL
refuses in text, bytes that are not ASCII, or a megabyte of junk) is simply not a valid credential: a 401 for a
token, no session for a cookie; never a database error.
"""

import hashlib

from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.utils import timezone
from knox.auth import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed

MAX_KEY_LENGTH = 64


def well_formed_key(key):
    return isinstance(key, str) and 0 < len(key) <= MAX_KEY_LENGTH and key.isascii() and key.isalnum()


class StrictTokenAuthentication(TokenAuthentication):
    """``Authorization: Token <key>`` with a knox token, refusing malformed keys without a lookup."""

    def authenticate_credentials(self, token):
        key = token.decode("latin-1")  # the header's own encoding: any bytes decode, and junk stays junk
        if not well_formed_key(key):
            raise AuthenticationFailed("Invalid token.")
        return super().authenticate_credentials(token)


def stored_session_key(key):
    """
    What the session table keeps for the session whose cookie holds ``key``: a SHA-256 digest, cut to the 40
    characters of Django's session_key column (160 bits of a digest of a 32-character random key).
    """
    return hashlib.sha256(key.encode()).hexdigest()[:40]


class SessionStore(DatabaseSessionStore):
    """
    Database sessions keyed by a digest of the cookie's key, and a malformed cookie is no session at all.

    The session table is what a leaked database would hand over: with the keys themselves in it, anyone could
    present one as a cookie and be that logged-in admin. Signed-cookie sessions would keep nothing server-side,
    but then logging out could not end a stolen session; here deleting the row still does.
    """

    def _validate_session_key(self, key):
        return super()._validate_session_key(key) and well_formed_key(key)

    def _get_session_from_db(self):
        try:
            return self.model.objects.get(
                session_key=stored_session_key(self.session_key), expire_date__gt=timezone.now()
            )
        except self.model.DoesNotExist:
            self._session_key = None

    async def _aget_session_from_db(self):
        try:
            return await self.model.objects.aget(
                session_key=stored_session_key(self.session_key), expire_date__gt=timezone.now()
            )
        except self.model.DoesNotExist:
            self._session_key = None

    def exists(self, session_key):
        return super().exists(stored_session_key(session_key))

    async def aexists(self, session_key):
        return await super().aexists(stored_session_key(session_key))

    def create_model_instance(self, data):
        session = super().create_model_instance(data)
        session.session_key = stored_session_key(session.session_key)
        return session

    async def acreate_model_instance(self, data):
        session = await super().acreate_model_instance(data)
        session.session_key = stored_session_key(session.session_key)
        return session

    def delete(self, session_key=None):
        session_key = session_key or self.session_key
        if session_key is not None:
            super().delete(stored_session_key(session_key))

    async def adelete(self, session_key=None):
        session_key = session_key or self.session_key
        if session_key is not None:
            await super().adelete(stored_session_key(session_key))
