"""The tuning knobs: settings reach them, bad settings are refused, and the knobs bound what they name."""

import re

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings
from django.urls import reverse

from excerpts.research import limits
from tests import factories


@pytest.fixture
def three_excerpts(db):
    speaker, source = factories.speaker("zhou-enlai", "Zhou Enlai"), factories.source("works", "Works")
    return [
        factories.excerpt(f"Peaceful coexistence {i}.", speaker=speaker, source=source, date=f"195{i}")
        for i in range(3)
    ]


def test_a_setting_overrides_a_knob_while_it_is_set_and_the_default_comes_back_after():
    assert limits.MAX_BIBLIOGRAPHY == 1000
    with override_settings(EXCERPTS_LIMITS={"MAX_BIBLIOGRAPHY": 2}):
        assert limits.MAX_BIBLIOGRAPHY == 2
        assert limits.COUNT_LIMIT == 10_000
    assert limits.MAX_BIBLIOGRAPHY == 1000


def test_a_setting_reaches_the_endpoint_that_reads_the_knob(client, three_excerpts):
    with override_settings(EXCERPTS_LIMITS={"MAX_BIBLIOGRAPHY": 2}):
        response = client.get(reverse("excerpt-cite-list"))
    assert response.status_code == 400
    assert "More than 2 excerpts match" in response.json()["detail"]
    assert client.get(reverse("excerpt-cite-list")).status_code == 200


def test_a_facets_scan_bounded_by_a_setting_counts_only_the_newest_matches(client, three_excerpts):
    with override_settings(EXCERPTS_LIMITS={"SCAN_LIMIT": 2}):
        body = client.get(reverse("excerpt-facets"), {"speaker": "zhou-enlai"}).json()
    assert (body["count"], body["count_exact"]) == (2, False)
    assert [row["value"] for row in body["year"]] == ["1951", "1952"]


def test_the_scan_limit_follows_the_count_limit_unless_it_is_set_itself():
    with override_settings(EXCERPTS_LIMITS={"COUNT_LIMIT": 500}):
        assert (limits.COUNT_LIMIT, limits.SCAN_LIMIT) == (500, 500)
    with override_settings(EXCERPTS_LIMITS={"COUNT_LIMIT": 500, "SCAN_LIMIT": 70}):
        assert (limits.COUNT_LIMIT, limits.SCAN_LIMIT) == (500, 70)
    assert limits.SCAN_LIMIT == limits.COUNT_LIMIT == 10_000


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"COUNT_LIMT": 5}, "unknown limits: COUNT_LIMT"),
        ({"PAGE_SIZE": "20"}, "EXCERPTS_LIMITS['PAGE_SIZE'] must be a whole number of at least 1, not '20'"),
        ({"STRETCHES": 0}, "EXCERPTS_LIMITS['STRETCHES'] must be a whole number of at least 1, not 0"),
        ({"MAX_TERMS": True}, "not True"),
        ({"FOLD_AFTER": -1}, "at least 0, not -1"),
    ],
)
def test_an_unknown_name_or_a_value_that_is_not_a_whole_number_is_refused(overrides, message):
    with pytest.raises(ImproperlyConfigured, match=re.escape(message)):
        limits.configure(overrides)
    limits.configure({})
    assert limits.PAGE_SIZE == 20


def test_folding_at_every_read_is_allowed():
    limits.configure({"FOLD_AFTER": 0})
    try:
        assert limits.FOLD_AFTER == 0
    finally:
        limits.configure({})
