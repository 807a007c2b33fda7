"""
Admin login throttling (django-axes with its cache handler): after AXES_FAILURE_LIMIT wrong passwords from one
address, or for one username, every login is refused with a 429 until the cool-off has passed, the right password
included; a refusal hashes no password and touches no database.
"""

import time
from datetime import timedelta

import pytest
from axes.handlers.proxy import AxesProxyHandler
from axes.models import AccessAttempt, AccessLog
from django.contrib.auth.hashers import MD5PasswordHasher
from django.urls import reverse

from tests import factories

pytestmark = pytest.mark.django_db

LIMIT = 3
COOL_OFF = 900


@pytest.fixture(autouse=True)
def lockout_settings(settings):
    settings.AXES_FAILURE_LIMIT = LIMIT
    settings.AXES_COOLOFF_TIME = timedelta(seconds=COOL_OFF)


@pytest.fixture
def hashings(monkeypatch):
    """How many times a password was hashed, to check it or to waste the time an unknown user's check takes."""
    calls = []
    verify, encode = MD5PasswordHasher.verify, MD5PasswordHasher.encode
    monkeypatch.setattr(MD5PasswordHasher, "verify", lambda self, *args: calls.append("verify") or verify(self, *args))
    monkeypatch.setattr(MD5PasswordHasher, "encode", lambda self, *args: calls.append("encode") or encode(self, *args))
    return calls


def log_in(client, username, password, address="192.0.2.10", **headers):
    return client.post(
        reverse("admin:login"),
        {"username": username, "password": password, "next": reverse("admin:index")},
        REMOTE_ADDR=address,
        **headers,
    )


def logged_in(client):
    return "_auth_user_id" in client.session


def test_after_the_limit_of_wrong_passwords_even_the_right_one_is_refused_without_hashing(
    client, curator, hashings, django_assert_num_queries
):
    answers = [log_in(client, curator.username, f"wrong-{n}").status_code for n in range(LIMIT)]
    assert answers == [200] * (LIMIT - 1) + [429]
    assert hashings.count("verify") == LIMIT

    hashings.clear()
    with django_assert_num_queries(0):
        refused = log_in(client, curator.username, factories.CURATOR_PASSWORD)
    assert refused.status_code == 429
    assert refused["Retry-After"] == str(COOL_OFF)
    assert refused.content.decode() == (
        f"Too many failed login attempts. Logins from this address or for this user are refused for {COOL_OFF} "
        "seconds after the last failed attempt."
    )
    assert hashings == []
    assert not logged_in(client)
    # Failures are counted in the cache: the database keeps no trace of the flood.
    assert (AccessAttempt.objects.count(), AccessLog.objects.count()) == (0, 0)


def test_the_username_is_locked_from_every_address_and_other_users_are_not(client, curator, superuser):
    for n in range(LIMIT):
        log_in(client, curator.username, "wrong", address=f"198.51.100.{n}")
    assert log_in(client, curator.username, factories.CURATOR_PASSWORD, address="203.0.113.5").status_code == 429
    admin = log_in(client, superuser.username, factories.ADMIN_PASSWORD, address="203.0.113.6")
    assert (admin.status_code, admin["Location"], logged_in(client)) == (302, reverse("admin:index"), True)


def test_the_address_is_locked_whatever_usernames_and_forwarded_addresses_it_tries(client, curator):
    for n in range(LIMIT):
        log_in(client, f"guess-{n}", "wrong", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}")
    refused = log_in(client, curator.username, factories.CURATOR_PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.99")
    assert refused.status_code == 429
    assert log_in(client, curator.username, factories.CURATOR_PASSWORD, address="192.0.2.11").status_code == 302


def test_after_the_cool_off_the_right_password_logs_in(client, curator, settings):
    settings.AXES_COOLOFF_TIME = timedelta(seconds=1)
    for n in range(LIMIT):
        log_in(client, curator.username, f"wrong-{n}")
    assert log_in(client, curator.username, factories.CURATOR_PASSWORD).status_code == 429
    time.sleep(1.1)
    assert log_in(client, curator.username, factories.CURATOR_PASSWORD).status_code == 302
    assert logged_in(client)


@pytest.fixture
def cache_down(settings):
    """The shared cache stops answering (nothing listens on port 1), as when Redis restarts."""
    working = settings.CACHES
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 1},
        }
    }
    AxesProxyHandler.get_implementation(force=True)  # its handler holds the cache it was made with
    yield
    settings.CACHES = working
    AxesProxyHandler.get_implementation(force=True)  # back on the working cache for the tests after this one


def test_while_the_cache_is_down_logins_go_on_without_the_lockout_rather_than_failing(client, curator, cache_down):
    wrong = [log_in(client, curator.username, f"wrong-{n}").status_code for n in range(LIMIT + 1)]
    right = log_in(client, curator.username, factories.CURATOR_PASSWORD)

    assert wrong == [200] * (LIMIT + 1)  # the form again, never a 500, and no lockout to count with
    assert right.status_code == 302
    assert logged_in(client)
