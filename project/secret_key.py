"""
The secret key when DJANGO_SECRET_KEY is not set: a random key made on first use and kept in a file only its owner
can read, so every process of one installation (runserver and its reloader, each gunicorn worker, manage.py
commands, the test suite) signs with the same key, the key survives restarts, and no key is ever written in the
code. Several servers behind one address must share one key: set DJANGO_SECRET_KEY (or DJANGO_SECRET_KEY_FILE)
to the same value on each.
"""

import os
import secrets
import tempfile
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

# check --deploy (security.W009) asks for at least 50 characters; token_urlsafe(50) gives 67 (400 random bits).
MINIMUM_LENGTH = 50


def read_or_create(path: Path) -> str:
    """Return the key kept at ``path``, first creating the file with a new random key if there is none."""
    if not path.exists():
        create(path)
    key = path.read_text(encoding="ascii").strip()
    if len(key) < MINIMUM_LENGTH:
        raise ImproperlyConfigured(f"The secret key in {path} is shorter than {MINIMUM_LENGTH} characters.")
    return key


def create(path: Path) -> None:
    """
    Write a new key to ``path`` unless another process got there first.

    The key is written in full to a private temporary file (mkstemp makes it 0600) beside ``path``, then linked
    into place: the link either appears whole or fails because another process linked its key first, whose key
    then stands. So concurrent first starts agree on one key and none reads a half-written file.
    """
    try:
        descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-")
        try:
            with os.fdopen(descriptor, "w", encoding="ascii") as file:
                file.write(secrets.token_urlsafe(MINIMUM_LENGTH) + "\n")
                file.flush()
                os.fsync(file.fileno())
            os.link(temporary, path)
        except FileExistsError:
            pass
        finally:
            os.unlink(temporary)
    except OSError as error:
        raise ImproperlyConfigured(
            f"DJANGO_SECRET_KEY is not set and the secret key file {path} cannot be created ({error}). Set "
            "DJANGO_SECRET_KEY, or DJANGO_SECRET_KEY_FILE to a file or a writable place for one."
        ) from error
