"""
create_curator: a staff user in the curators group with a token that re-running rotates, all or nothing;
import_excerpts' progress.
"""

from io import StringIO
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.urls import reverse
from knox.models import AuthToken
from rest_framework.test import APIClient

from excerpts.imports import engine

pytestmark = pytest.mark.django_db


def create_curator(username):
    out = StringIO()
    call_command("create_curator", username, stdout=out, stderr=StringIO())
    return out.getvalue().strip()


def test_create_curator_makes_a_staff_member_of_the_curators_group_and_prints_its_token():
    key = create_curator("alice")

    user = get_user_model().objects.get(username="alice")
    assert user.is_staff and not user.is_superuser
    assert list(user.groups.values_list("name", flat=True)) == ["curators"]
    (token,) = AuthToken.objects.filter(user=user)
    assert (token.token_key, token.expiry) == (key[:15], None)
    assert user.has_perm("excerpts.add_excerpt") and user.has_perm("excerpts.change_speaker")
    assert not user.has_perm("excerpts.delete_excerpt")


def test_running_create_curator_again_rotates_the_token(corpus):
    old = create_curator("alice")
    new = create_curator("alice")

    assert old != new
    assert get_user_model().objects.filter(username="alice").count() == 1
    client = APIClient()
    url = reverse("excerpt-detail", kwargs={"pk": corpus["published"].pk})
    client.credentials(HTTP_AUTHORIZATION=f"Token {old}")
    assert client.patch(url, {"locator": "p. 1"}, format="json").status_code == 401
    client.credentials(HTTP_AUTHORIZATION=f"Token {new}")
    assert client.patch(url, {"locator": "p. 1"}, format="json").status_code == 200


class TokenLost(Exception):
    """The failure injected where the token is written, after the user and its group membership."""


def test_create_curator_that_fails_at_the_token_leaves_no_user_behind():
    with (
        mock.patch.object(AuthToken.objects, "create", side_effect=TokenLost),
        pytest.raises(TokenLost),
    ):
        create_curator("alice")

    assert not get_user_model().objects.filter(username="alice").exists()


def test_a_token_rotation_that_fails_keeps_the_old_token_working():
    old = create_curator("alice")

    with (
        mock.patch.object(AuthToken.objects, "create", side_effect=TokenLost),
        pytest.raises(TokenLost),
    ):
        create_curator("alice")

    assert list(AuthToken.objects.filter(user__username="alice").values_list("token_key", flat=True)) == [old[:15]]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {old}")
    assert client.get(reverse("excerpt-list"), {"status": "draft"}).status_code == 200


class Terminal(StringIO):
    """A stderr that says it is a terminal."""

    def isatty(self):
        return True


def import_file(tmp_path, *rows):
    path = tmp_path / "excerpts.csv"
    header = "text,kind,speaker,date,source,language"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def test_import_excerpts_shows_rows_checked_then_written_on_a_terminal(corpus, tmp_path):
    path = import_file(
        tmp_path, "One.,speech,mao-zedong,1958,peoples-daily,zh", "Two.,speech,mao-zedong,1959,peoples-daily,zh"
    )
    terminal = Terminal()

    call_command("import_excerpts", str(path), stdout=StringIO(), stderr=terminal)

    assert terminal.getvalue() == "\rChecked 2 / 2 rows\n\rWritten 2 / 2 rows\n"


def test_import_excerpts_writes_no_progress_where_stderr_is_not_a_terminal(corpus, tmp_path):
    path = import_file(tmp_path, "One.,speech,mao-zedong,1958,peoples-daily,zh")
    stderr = StringIO()

    call_command("import_excerpts", str(path), stdout=StringIO(), stderr=stderr)

    assert stderr.getvalue() == ""


def test_import_excerpts_lists_the_first_problems_and_counts_the_rest(corpus, tmp_path, monkeypatch):
    monkeypatch.setattr(engine, "MAX_PROBLEMS", 2)
    path = import_file(tmp_path, *[f"Words.,speech,nobody-{n},1958,peoples-daily,zh" for n in range(4)])

    with pytest.raises(CommandError) as raised:
        call_command("import_excerpts", str(path), stdout=StringIO(), stderr=StringIO())

    assert str(raised.value).splitlines()[1:] == [
        "  row 1, column speaker: No speaker has the slug 'nobody-0'.",
        "  row 2, column speaker: No speaker has the slug 'nobody-1'.",
        "  ... and 2 more.",
    ]
    assert "nothing was imported; 4 problem(s)" in str(raised.value)
