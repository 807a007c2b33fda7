"""Bad input gets a clear RFC 9457 problem detail naming the problem: never a 500, never silence."""

import sqlite3

import pytest
from django.db import OperationalError
from django.db.utils import DatabaseErrorWrapper
from django.urls import reverse

from excerpts.admin import ExcerptAdmin
from excerpts.api.views import CuratedViewSet
from excerpts.db.failures import BUSY, database_failure
from tests import factories

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"


# The type and title of each status the tests here expect.
PROBLEM_KINDS = {
    400: ("https://excerpts.invalid/problems/invalid-request", "Invalid request"),
    401: ("https://excerpts.invalid/problems/not-authenticated", "Authentication required"),
    404: ("https://excerpts.invalid/problems/not-found", "Not found"),
    503: ("https://excerpts.invalid/problems/database-busy", "Service unavailable"),
}


def problem(response, status):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert (body["status"], body["type"], body["title"]) == (status, *PROBLEM_KINDS[status])
    assert body["detail"].strip(), "a problem says what went wrong"
    return body


@pytest.mark.parametrize(
    ("query", "parameter", "message"),
    [
        ("speakr=mao-zedong", "speakr", "Unknown query parameter"),
        ("date_after=1958-02-30", "date_after", "not a real calendar date"),
        ("date_after=July 1958", "date_after", "use YYYY, YYYY-MM or YYYY-MM-DD"),
        ("date_before=1958-13", "date_before", "not a real calendar date"),
        ("date_after=1959&date_before=1958", "date_after", "later than date_before"),
        ("kind=poem", "kind", "poem"),
        ("attribution=rumour", "attribution", "rumour"),
        ("ordering=relevance", "ordering", "relevance"),
        ("speaker=nobody", "speaker", "No speaker has the slug nobody"),
        ("topic=nothing", "topic", "No topic has the slug nothing"),
        ("event=nothing", "event", "No event has the slug nothing"),
        ("speaker=not a slug!", "speaker", "is not a slug"),
        ("speaker=100%25", "speaker", "'100%' is not a slug"),
        ("date_after=19%2558", "date_after", "'19%58' is not a date"),
        ("q=%22unclosed%25", "q", "unclosed quotation mark"),
        ("language=Chinese", "language", "BCP 47"),
        ("source=abc", "source", "is not an id"),
        ("source=99999999999999999999", "source", "is not an id"),
        ("page_size=0", "page_size", "from 1 to 100"),
        ("page_size=101", "page_size", "from 1 to 100"),
        ("page_size=ten", "page_size", "from 1 to 100"),
        ("cursor=bm90IGEgY3Vyc29y", "cursor", "Invalid cursor"),
        ("q=" + "x" * 201, "q", "at most 200"),
        ("q=a%00b", "q", "Null characters"),
    ],
)
def test_bad_excerpt_list_parameters_are_400_problems_naming_the_parameter(client, corpus, query, parameter, message):
    body = problem(client.get(reverse("excerpt-list") + "?" + query), 400)
    assert [error["name"] for error in body["errors"]] == [parameter]
    assert message in body["errors"][0]["reason"]
    assert message in body["detail"]
    assert body["instance"].startswith(reverse("excerpt-list"))


def test_several_bad_parameters_are_all_named(client, corpus):
    body = problem(client.get(reverse("excerpt-list") + "?kind=poem&date_after=x&speaker=nobody"), 400)
    assert {error["name"] for error in body["errors"]} == {"kind", "date_after", "speaker"}


def test_a_typo_on_a_reference_list_is_refused_too(client, corpus):
    body = problem(client.get(reverse("speaker-list") + "?nmae=Mao"), 400)
    assert body["errors"][0]["name"] == "nmae"


def test_an_unknown_excerpt_id_is_a_404_problem(client, corpus):
    unknown = reverse("excerpt-detail", args=[corpus["draft"].pk + 1000])
    body = problem(client.get(unknown), 404)
    assert body["instance"] == unknown


def test_an_id_too_large_for_the_database_is_a_404_problem_not_a_500(client, corpus):
    # No route takes an id this long, so reverse() cannot build these paths.
    problem(client.get(reverse("excerpt-list") + "99999999999999999999999/"), 404)
    problem(client.get(reverse("source-list") + "9223372036854775808/"), 404)


def test_an_unknown_slug_is_a_404_problem(client, corpus):
    problem(client.get(reverse("speaker-detail", args=["nobody"])), 404)


def test_an_unknown_path_under_the_api_is_a_json_404(client):
    path = reverse("api-root") + "excerptz/"
    body = problem(client.get(path), 404)
    assert path in body["detail"]


def test_an_anonymous_write_is_a_401_problem_asking_for_a_token(client, corpus):
    response = client.post(reverse("excerpt-list"), {"text": "x"}, content_type="application/json")
    body = problem(response, 401)
    assert response["WWW-Authenticate"] == "Token"
    assert "credentials" in body["detail"]


def test_a_malformed_token_is_a_401_problem_not_a_database_error(client, corpus):
    response = client.get(reverse("excerpt-list"), HTTP_AUTHORIZATION="Token abc\x00def")
    body = problem(response, 401)
    assert body["detail"] == "Invalid token."


def test_a_malformed_session_cookie_is_ignored_and_the_public_list_answers(client, corpus):
    client.cookies["sessionid"] = "x\x00" * 20
    response = client.get(reverse("excerpt-list"))
    assert response.status_code == 200
    assert response.json()["count"] == 1


def locked_error(tmp_path):
    """A real "database is locked" from SQLite, as Django raises it: another connection holds the write lock."""
    path = tmp_path / "locked.sqlite3"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN IMMEDIATE")
    waiter = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        with DatabaseErrorWrapper(type("Wrapper", (), {"Database": sqlite3})()):
            waiter.execute("INSERT INTO t VALUES (1)")
    except OperationalError as error:
        return error
    finally:
        waiter.close()
        holder.close()
    raise AssertionError("the write did not wait for the lock")


def test_a_locked_sqlite_database_is_a_busy_failure_and_other_errors_are_not(tmp_path):
    assert database_failure(locked_error(tmp_path)) == BUSY
    assert not database_failure(OperationalError("no such table: excerpts_excerpt"))
    assert not database_failure(ValueError("database is locked"))


def test_a_write_that_finds_the_database_locked_is_a_503_problem_with_retry_after(
    corpus, curator, client_as, monkeypatch, tmp_path
):
    error = locked_error(tmp_path)

    def locked(self, serializer):
        raise error

    monkeypatch.setattr(CuratedViewSet, "perform_create", locked)
    response = client_as(curator).post(reverse("excerpt-list"), factories.excerpt_body(corpus), format="json")

    problem_body = problem(response, 503)
    assert response["Retry-After"] == "5"
    assert problem_body["type"] == "https://excerpts.invalid/problems/database-busy"
    assert "try again in a few seconds" in problem_body["detail"]


def test_outside_the_api_the_middleware_answers_a_locked_database_with_a_503(client, superuser, monkeypatch, tmp_path):
    error = locked_error(tmp_path)

    def locked(self, request):
        raise error

    monkeypatch.setattr(ExcerptAdmin, "get_queryset", locked)
    client.force_login(superuser)

    response = client.get(reverse("admin:excerpts_excerpt_changelist"))

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert "try again in a few seconds" in response.content.decode()
