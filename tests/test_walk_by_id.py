"""walk_by_id: SQLite's NOT INDEXED on the excerpt table, added to the query rather than to its SQL text."""

import pytest
from django.db import connection

from excerpts.models import Excerpt
from excerpts.research import facets
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def three_excerpts():
    speaker, source = factories.speaker("zhou-enlai", "Zhou Enlai"), factories.source("works", "Works")
    return [
        factories.excerpt(f"Peaceful coexistence {i}.", speaker=speaker, source=source, date=f"195{i}")
        for i in range(3)
    ]


def test_walk_by_id_adds_not_indexed_to_the_base_table_of_a_copy(three_excerpts):
    queryset = Excerpt.objects.filter(language="en").order_by("id").values_list("id", flat=True)
    walked = facets.walk_by_id(queryset)
    assert 'FROM "excerpts_excerpt" NOT INDEXED WHERE' in str(walked.query)
    assert str(walked.query).count("NOT INDEXED") == 1
    assert "NOT INDEXED" not in str(queryset.query)
    # The walk survives what a caller does next: slicing and filtering.
    assert "NOT INDEXED" in str(walked.filter(id__gte=0)[:2].query)
    if connection.vendor == "sqlite":  # NOT INDEXED is SQLite's syntax
        assert list(walked) == [excerpt.pk for excerpt in three_excerpts]


def test_walk_by_id_works_on_a_queryset_that_has_no_table_yet(three_excerpts):
    assert str(facets.walk_by_id(Excerpt.objects.all()).query).count('FROM "excerpts_excerpt" NOT INDEXED') == 1


def test_a_join_keeps_its_index_only_the_excerpt_table_is_walked(three_excerpts):
    walked = str(facets.walk_by_id(Excerpt.objects.filter(topics__slug="communes")).query)
    assert walked.count("NOT INDEXED") == 1
    assert '"excerpts_excerpt" NOT INDEXED INNER JOIN "excerpts_excerpt_topics"' in walked
