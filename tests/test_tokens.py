"""
API tokens and admin sessions: the database keeps digests, never a working credential; tokens expire when asked to
and are revoked by a command or in the admin. Upgrading a database that holds DRF's plain tokens and plain session
keys is tests/test_upgrades.py's.
"""

import hashlib
from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from tests import factories

pytestmark = pytest.mark.django_db


def create_curator(username, *options):
    out, err = StringIO(), StringIO()
    call_command("create_curator", username, *options, stdout=out, stderr=err)
    return out.getvalue().strip(), err.getvalue()


def revoke_tokens(*arguments):
    out = StringIO()
    call_command("revoke_tokens", *arguments, stdout=out)
    return out.getvalue()


def write_with(key, corpus, locator="p. 7"):
    """A curator's PATCH sent with ``key``: a 200 when the token works, a 401 when it does not."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    url = reverse("excerpt-detail", kwargs={"pk": corpus["published"].pk})
    return client.patch(url, {"locator": locator}, format="json")


def every_stored_value():
    """Every value of every row of every table, as text: what a leaked database would hand over."""
    values = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            values.extend(str(value) for row in cursor.fetchall() for value in row)
    return values


def test_the_database_keeps_a_digest_of_the_token_never_the_token(corpus):
    key, _ = create_curator("alice")

    (token,) = AuthToken.objects.all()
    assert len(key) == 64
    assert token.digest == hashlib.sha512(key.encode()).hexdigest()
    assert not [value for value in every_stored_value() if key in value]
    assert write_with(key, corpus).status_code == 200


def test_a_token_made_to_expire_works_until_then_and_is_a_401_problem_after(corpus):
    key, message = create_curator("alice", "--expires-in", "30")

    (token,) = AuthToken.objects.all()
    expected = timezone.now() + timedelta(days=30)
    assert abs((token.expiry - expected).total_seconds()) < 60
    assert f"It expires at {token.expiry:%Y-%m-%d %H:%M} UTC." in message
    assert write_with(key, corpus).status_code == 200

    AuthToken.objects.update(expiry=timezone.now() - timedelta(seconds=1))
    response = write_with(key, corpus, locator="p. 8")

    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert response["WWW-Authenticate"] == "Token"
    assert response.json()["detail"] == "Invalid token."
    corpus["published"].refresh_from_db()
    assert corpus["published"].locator == "p. 7"


def test_a_token_without_an_expiry_never_expires(corpus):
    _, message = create_curator("alice")

    assert AuthToken.objects.get().expiry is None
    assert "expires" not in message


@pytest.mark.parametrize("days", ["0", "-3", "seven", "1.5"])
def test_an_expiry_that_is_not_a_whole_number_of_days_is_refused_and_nothing_is_made(days):
    with pytest.raises(CommandError, match="is not a whole number of days, 1 or more"):
        create_curator("alice", "--expires-in", days)
    assert not get_user_model().objects.filter(username="alice").exists()


def test_revoke_tokens_revokes_every_token_of_the_named_users_and_only_theirs(corpus):
    alice, _ = create_curator("alice")
    _, alice_second = AuthToken.objects.create(get_user_model().objects.get(username="alice"), expiry=None)
    bob, _ = create_curator("bob")

    assert revoke_tokens("alice") == "Revoked 2 token(s) of 'alice'.\n"

    assert write_with(alice, corpus).status_code == 401
    assert write_with(alice_second, corpus).status_code == 401
    assert write_with(bob, corpus).status_code == 200


def test_revoke_tokens_naming_an_unknown_user_revokes_nothing(corpus):
    alice, _ = create_curator("alice")

    with pytest.raises(CommandError, match=r"No such user: mallory\. Nothing was revoked\."):
        revoke_tokens("alice", "mallory")

    assert write_with(alice, corpus).status_code == 200


def test_revoke_tokens_expired_deletes_the_expired_tokens_of_every_user_and_no_other(corpus):
    create_curator("alice", "--expires-in", "1")
    create_curator("bob", "--expires-in", "1")
    carol, _ = create_curator("carol", "--expires-in", "1")
    AuthToken.objects.exclude(user__username="carol").update(expiry=timezone.now() - timedelta(minutes=1))

    assert revoke_tokens("--expired") == "Deleted 2 expired token(s).\n"

    assert list(AuthToken.objects.values_list("user__username", flat=True)) == ["carol"]
    assert write_with(carol, corpus).status_code == 200


@pytest.mark.parametrize("arguments", [(), ("alice", "--expired")])
def test_revoke_tokens_asks_for_users_or_expired(arguments):
    with pytest.raises(CommandError, match="Name the users whose tokens to revoke, or give --expired"):
        revoke_tokens(*arguments)


def test_the_admin_lists_tokens_without_their_secrets_and_deleting_one_revokes_it(client, corpus):
    key, _ = create_curator("alice", "--expires-in", "7")
    token = AuthToken.objects.get()
    client.force_login(factories.admin())

    listing = client.get(reverse("admin:knox_authtoken_changelist")).content.decode()
    detail = client.get(reverse("admin:knox_authtoken_change", args=[token.pk])).content.decode()

    assert "alice" in listing
    assert f"{key[:8]}…" in listing
    for page in (listing, detail):
        assert key[8:16] not in page
    assert client.get(reverse("admin:knox_authtoken_add")).status_code == 403

    response = client.post(reverse("admin:knox_authtoken_delete", args=[token.pk]), {"post": "yes"})

    assert response.status_code == 302
    assert write_with(key, corpus).status_code == 401


def test_curators_do_not_see_the_tokens_in_the_admin(client, curator):
    client.force_login(curator)
    assert client.get(reverse("admin:knox_authtoken_changelist")).status_code == 403


@pytest.mark.parametrize("junk", ["x" * 65, "ab-cd", "caf\u00e9", "\u00ff" * 10])
def test_a_malformed_token_is_refused_without_a_database_lookup(client, corpus, django_assert_num_queries, junk):
    with django_assert_num_queries(0):
        response = client.get(reverse("excerpt-list"), HTTP_AUTHORIZATION=f"Token {junk}")
    assert response.status_code == 401
    assert response.json()["detail"] == "Invalid token."


def test_a_session_is_stored_under_a_digest_of_its_key_and_logging_out_ends_it(client, curator):
    # Through the admin's login form, as a person signs in (the login lockout wants the request).
    signed_in = client.post(
        reverse("admin:login"), {"username": curator.username, "password": factories.CURATOR_PASSWORD}
    )
    assert signed_in.status_code == 302
    key = client.cookies["sessionid"].value

    assert client.get(reverse("admin:index")).status_code == 200
    (stored,) = Session.objects.values_list("session_key", flat=True)
    assert stored == hashlib.sha256(key.encode()).hexdigest()[:40]
    assert not [value for value in every_stored_value() if key in value]

    client.post(reverse("admin:logout"))

    assert not Session.objects.exists()
    client.cookies["sessionid"] = key  # the stolen cookie, presented again
    assert client.get(reverse("admin:index")).status_code == 302
