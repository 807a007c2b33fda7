"""
Database failures a request may get past later are 503 problems with Retry-After, each kind with its own type;
public reads run each statement under a time budget, on either engine. (The database going away under a real
server is tested in test_outages.py.)
"""

import sqlite3

import psycopg
import pytest
from django.db import OperationalError, ProgrammingError, connection
from django.db.models import IntegerField
from django.db.models.expressions import RawSQL
from django.db.utils import DatabaseErrorWrapper
from django.http import HttpResponse
from django.test import Client
from django.urls import reverse

from excerpts.admin import ExcerptAdmin
from excerpts.api.statement_budget import StatementBudgetMiddleware, lift_statement_budget
from excerpts.api.views import ExcerptViewSet
from excerpts.db import failures
from excerpts.research import limits
from tests import factories

PROBLEMS = "https://excerpts.invalid/problems/"
# A statement that takes a tenth of a second or more on either engine: it counts to a million, a row at a time.
SLOW = "(WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000000) SELECT count(*) FROM n)"


def raised_by(driver, error):
    """``error``, raised by ``driver`` and wrapped as Django wraps every driver error."""
    try:
        with DatabaseErrorWrapper(type("Wrapper", (), {"Database": driver})()):
            raise error
    except Exception as wrapped:
        return wrapped
    raise AssertionError("not raised")


def sqlite_error(tmp_path, setup, statement, **options):
    """The error SQLite really raises for ``statement`` on a file prepared by ``setup``, as Django raises it."""
    path = tmp_path / "failing.sqlite3"
    with sqlite3.connect(path, isolation_level=None) as setup_connection:
        setup(setup_connection)
    database = sqlite3.connect(f"file:{path}?mode=ro" if options.get("read_only") else path, uri=True)
    try:
        with DatabaseErrorWrapper(type("Wrapper", (), {"Database": sqlite3})()):
            if options.get("interrupt"):
                database.set_progress_handler(lambda: True, 1)
            database.execute(statement)
    except Exception as wrapped:
        return wrapped
    finally:
        database.close()
    raise AssertionError("the statement did not fail")


def make_table(database):
    database.execute("CREATE TABLE IF NOT EXISTS t (x)")


@pytest.mark.parametrize(
    ("driver_error", "kind"),
    [
        (psycopg.OperationalError("connection failed: Connection refused"), failures.UNAVAILABLE),
        (psycopg.OperationalError("the connection is closed"), failures.UNAVAILABLE),
        (psycopg.errors.AdminShutdown(), failures.UNAVAILABLE),
        (psycopg.errors.CannotConnectNow(), failures.UNAVAILABLE),
        (psycopg.errors.TooManyConnections(), failures.UNAVAILABLE),
        (psycopg.errors.QueryCanceled(), failures.TIMEOUT),
        (psycopg.errors.LockNotAvailable(), failures.BUSY),
        (psycopg.errors.DeadlockDetected(), failures.BUSY),
        (psycopg.errors.ReadOnlySqlTransaction(), failures.READ_ONLY),
        (psycopg.errors.UndefinedTable(), None),
        (psycopg.errors.DivisionByZero(), None),
    ],
)
def test_each_postgresql_error_is_told_by_its_sqlstate(driver_error, kind):
    assert failures.database_failure(raised_by(psycopg, driver_error)) == kind


def test_each_sqlite_error_is_told_by_its_result_code(tmp_path):
    read_only = sqlite_error(tmp_path, make_table, "INSERT INTO t VALUES (1)", read_only=True)
    interrupted = sqlite_error(tmp_path, make_table, "SELECT * FROM t", interrupt=True)
    missing = sqlite_error(tmp_path, make_table, "SELECT * FROM missing")

    assert failures.database_failure(read_only) == failures.READ_ONLY
    assert failures.database_failure(interrupted) == failures.TIMEOUT
    assert failures.database_failure(missing) is None


def test_an_sqlite_path_that_cannot_be_opened_is_unavailable(tmp_path):
    try:
        with DatabaseErrorWrapper(type("Wrapper", (), {"Database": sqlite3})()):
            sqlite3.connect(tmp_path / "no" / "such" / "directory.sqlite3")
    except OperationalError as error:
        assert failures.database_failure(error) == failures.UNAVAILABLE
    else:
        raise AssertionError("the connection was opened")


def test_errors_that_are_bugs_are_no_failures():
    assert failures.database_failure(OperationalError("no such table: excerpts_excerpt")) is None
    assert failures.database_failure(ProgrammingError("syntax error")) is None
    assert failures.database_failure(ValueError("database is locked")) is None


class FailingMiddleware:
    """Raises a database failure before any view, as a middleware reading the database would in an outage."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        raise raised_by(psycopg, psycopg.OperationalError("connection failed: Connection refused"))


@pytest.mark.parametrize(
    ("path", "content_type"),
    [("excerpt-list", "application/problem+json"), ("admin:index", "text/plain; charset=utf-8")],
)
@pytest.mark.django_db  # the middleware of repeated reads reads the data version before it
def test_a_failure_raised_outside_any_view_is_a_503_too(settings, path, content_type):
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, "tests.test_failures.FailingMiddleware"]
    response = Client(raise_request_exception=False).get(reverse(path))

    assert (response.status_code, response["Content-Type"], response["Retry-After"]) == (503, content_type, "30")
    if path == "excerpt-list":
        assert response.json()["type"] == PROBLEMS + failures.UNAVAILABLE


# The statement budget, on whichever engine the suite runs. These tests commit (transaction=True): a statement
# cancelled by PostgreSQL aborts the transaction it runs in, as it would abort a request's.
committing = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def slow_list(monkeypatch):
    """Every excerpt query of the API (list, export, detail) runs SLOW first."""
    original = ExcerptViewSet.get_queryset

    def slowed(self):
        return original(self).alias(slow=RawSQL(SLOW, [], output_field=IntegerField())).filter(slow__gt=0)

    monkeypatch.setattr(ExcerptViewSet, "get_queryset", slowed)


@pytest.fixture
def tiny_budget(monkeypatch):
    monkeypatch.setattr(limits, "PUBLIC_STATEMENT_TIMEOUT_MS", 20)


@committing
def test_a_public_read_past_its_statement_budget_is_a_503_query_timeout(client, tiny_budget, slow_list):
    factories.corpus()
    response = client.get(reverse("excerpt-list"))

    assert (response.status_code, response["Content-Type"], response["Retry-After"]) == (
        503,
        "application/problem+json",
        "30",
    )
    body = response.json()
    assert (body["status"], body["type"]) == (503, PROBLEMS + failures.TIMEOUT)
    assert "PUBLIC_STATEMENT_TIMEOUT_MS" in body["detail"]


@committing
def test_within_the_budget_the_same_read_answers(client, slow_list):
    factories.corpus()
    response = client.get(reverse("excerpt-list"))

    assert (response.status_code, response.json()["count"]) == (200, 1)


@committing
def test_the_budget_does_not_outlive_the_request_on_a_persistent_connection(client, tiny_budget, slow_list):
    factories.corpus()
    assert client.get(reverse("excerpt-list")).status_code == 503

    with connection.cursor() as cursor:  # the same connection, as the next request would get it
        if connection.vendor == "postgresql":
            cursor.execute("SHOW statement_timeout")
            assert cursor.fetchone()[0] == "0"
        cursor.execute(f"SELECT {SLOW}")
        assert cursor.fetchone()[0] == 1_000_000


@committing
def test_a_streamed_export_is_not_cut_by_the_budget(client, tiny_budget, slow_list):
    factories.corpus()
    response = client.get(reverse("excerpt-list") + "?format=csv")
    lines = b"".join(response.streaming_content).decode().splitlines()

    assert response.status_code == 200
    assert len(lines) == 2  # the header and the corpus's one published excerpt


@committing
def test_writes_have_no_budget(tiny_budget, slow_list, client_as):
    corpus = factories.corpus()
    response = client_as(factories.curator()).post(
        reverse("excerpt-list"), factories.excerpt_body(corpus), format="json"
    )

    assert response.status_code == 201, response.content


@committing
def test_the_admin_has_no_budget(client, tiny_budget, monkeypatch):
    factories.corpus()
    original = ExcerptAdmin.get_queryset

    def slowed(self, request):
        return original(self, request).alias(slow=RawSQL(SLOW, [], output_field=IntegerField())).filter(slow__gt=0)

    monkeypatch.setattr(ExcerptAdmin, "get_queryset", slowed)
    client.force_login(factories.admin())
    response = client.get(reverse("admin:excerpts_excerpt_changelist"))

    assert (response.status_code, response.context["cl"].result_count) == (200, 2)  # the draft too


@committing
def test_a_view_that_lifts_the_budget_runs_its_long_statements(rf, tiny_budget):
    def view(request):
        lift_statement_budget(request)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {SLOW}")
            return HttpResponse(str(cursor.fetchone()[0]))

    response = StatementBudgetMiddleware(view)(rf.get("/api/v1/anything/"))

    assert response.content == b"1000000"


@committing
def test_without_lifting_the_same_view_is_cut(rf, tiny_budget):
    def view(request):
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {SLOW}")

    with pytest.raises(OperationalError) as raised:
        StatementBudgetMiddleware(view)(rf.get("/api/v1/anything/"))
    assert failures.database_failure(raised.value) == failures.TIMEOUT


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite's busy timeout: test_import_concurrency.py")
@committing
def test_a_write_waits_for_a_postgresql_lock_no_longer_than_the_busy_timeout_then_is_a_503(client_as):
    corpus = factories.corpus()
    excerpt = reverse("excerpt-detail", args=[corpus["published"].pk])
    holder = psycopg.connect(**connection.get_connection_params())
    with connection.cursor() as cursor:
        cursor.execute("SHOW lock_timeout")
        assert cursor.fetchone()[0] == "20s"
        cursor.execute("SET lock_timeout = '200ms'")  # the same wait, shortened for the test
    try:
        # Another transaction (an import's, say) holds the excerpt's row.
        holder.execute("SELECT 1 FROM excerpts_excerpt WHERE id = %s FOR UPDATE", [corpus["published"].pk])
        response = client_as(factories.curator()).patch(excerpt, {"locator": "p. 3"}, format="json")
    finally:
        holder.close()
        with connection.cursor() as cursor:
            cursor.execute("RESET lock_timeout")

    assert (response.status_code, response["Retry-After"]) == (503, "5")
    assert response.json()["type"] == PROBLEMS + failures.BUSY
