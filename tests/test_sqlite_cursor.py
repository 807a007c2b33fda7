"""
SQLite's cursor (excerpts/db/backends/sqlite3): each distinct query's ``%s`` placeholders are converted to ``?``
once per process, giving exactly what Django's own conversion gives, and the queries run as before.
"""

import pytest
from django.db import connection
from django.db.backends.sqlite3.base import SQLiteCursorWrapper as DjangoCursor

from excerpts.db.backends.sqlite3.base import SQLiteCursorWrapper, qmark
from excerpts.models import Excerpt
from tests import factories

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's cursor; PostgreSQL takes %s as it is"),
]

QUERIES = [
    "SELECT %s",
    "SELECT 1 WHERE 'a%%b' LIKE %s AND %s",
    "SELECT '%%s', %s, '%%%%'",
    "SELECT 1",
]


@pytest.mark.parametrize("query", QUERIES)
def test_a_query_is_converted_as_djangos_cursor_converts_it(query):
    with connection.cursor() as cursor:
        assert isinstance(cursor.cursor, SQLiteCursorWrapper)
        expected = DjangoCursor.convert_query(cursor.cursor, query)
        assert cursor.cursor.convert_query(query) == expected
        assert cursor.cursor.convert_query(query) == expected  # the second time from the cache


def test_each_distinct_query_is_converted_once_and_named_parameters_as_django_does():
    query = "SELECT %s AS converted_once_9f2c"
    before = qmark.cache_info()
    with connection.cursor() as cursor:
        for _ in range(3):
            cursor.execute(query, [7])
            assert cursor.fetchone() == (7,)
        cursor.execute("SELECT %(one)s + %(two)s", {"one": 1, "two": 2})
        assert cursor.fetchone() == (3,)
    after = qmark.cache_info()
    assert after.misses == before.misses + 1
    assert after.hits == before.hits + 2


def test_percent_signs_and_placeholders_reach_sqlite_as_the_orm_meant_them():
    factories.excerpt(text="Fifty percent (50%) of the delegates agreed.")
    factories.excerpt(text="Half of the delegates agreed.")
    found = Excerpt.objects.filter(text__contains="50%").values_list("text", flat=True)
    assert list(found) == ["Fifty percent (50%) of the delegates agreed."]
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM excerpts_excerpt WHERE text LIKE '%%delegates%%' AND id > %s", [0])
        assert cursor.fetchone() == (2,)
