import datetime

import pytest
from django.core.exceptions import ValidationError

from excerpts.dates import parse_bounds, query_period

D = datetime.date


@pytest.mark.parametrize(
    ("edtf", "start", "end", "display"),
    [
        ("1956-02-25", D(1956, 2, 25), D(1956, 2, 25), "25 February 1956"),
        ("1958-07", D(1958, 7, 1), D(1958, 7, 31), "July 1958"),
        ("1958", D(1958, 1, 1), D(1958, 12, 31), "1958"),
        ("1958-22", D(1958, 6, 1), D(1958, 8, 31), "summer 1958"),
        ("1958-21", D(1958, 3, 1), D(1958, 5, 31), "spring 1958"),
        ("1958?", D(1958, 1, 1), D(1958, 12, 31), "1958 (uncertain)"),
        ("1958~", D(1958, 1, 1), D(1958, 12, 31), "c. 1958"),
        ("1958%", D(1958, 1, 1), D(1958, 12, 31), "c. 1958 (uncertain)"),
        ("1957/1958", D(1957, 1, 1), D(1958, 12, 31), "1957\u20131958"),
        ("1956-02-14/1956-02-25", D(1956, 2, 14), D(1956, 2, 25), "14 February 1956\u201325 February 1956"),
        ("195X", D(1950, 1, 1), D(1959, 12, 31), "1950s"),
        ("1958-07-XX", D(1958, 7, 1), D(1958, 7, 31), "July 1958"),
        ("[1957,1958]", D(1957, 1, 1), D(1958, 12, 31), "1957 or 1958"),
        ("1960-02", D(1960, 2, 1), D(1960, 2, 29), "February 1960"),
        ("1958-40", D(1958, 1, 1), D(1958, 6, 30), "first half of 1958"),
    ],
)
def test_parse_bounds_gives_the_earliest_and_latest_possible_day_and_a_display(edtf, start, end, display):
    bounds = parse_bounds(edtf)
    assert (bounds.start, bounds.end, bounds.display) == (start, end, display)


@pytest.mark.parametrize("value", ["", "   ", "February 1956", "1956-13", "1956-02-30", "58", "1958-42"])
def test_parse_bounds_rejects_what_is_not_edtf_with_a_message(value):
    with pytest.raises(ValidationError) as raised:
        parse_bounds(value)
    assert "EDTF" in raised.value.messages[0] or "required" in raised.value.messages[0]


@pytest.mark.parametrize("value", ["../1958", "1958/..", "1958/", "/1958", "-0500"])
def test_parse_bounds_rejects_dates_whose_bounds_cannot_be_computed(value):
    with pytest.raises(ValidationError) as raised:
        parse_bounds(value)
    assert "cannot be computed" in raised.value.messages[0]


@pytest.mark.parametrize(
    ("value", "first", "last"),
    [
        ("1958", D(1958, 1, 1), D(1958, 12, 31)),
        ("1958-02", D(1958, 2, 1), D(1958, 2, 28)),
        ("1958-12", D(1958, 12, 1), D(1958, 12, 31)),
        ("1960-02", D(1960, 2, 1), D(1960, 2, 29)),
        ("1958-07-15", D(1958, 7, 15), D(1958, 7, 15)),
    ],
)
def test_query_period_covers_the_whole_of_a_partial_date(value, first, last):
    assert query_period(value) == (first, last)


@pytest.mark.parametrize(
    "value",
    ["1958-02-30", "1958-13", "0000", "58", "1958-7", "19580101", "1958-07-15T00", "", "\u0967\u096f\u096b\u096e"],
)
def test_query_period_refuses_malformed_or_impossible_dates(value):
    with pytest.raises(ValueError):
        query_period(value)


def test_parse_bounds_rejects_an_interval_that_ends_before_it_starts():
    with pytest.raises(ValidationError) as raised:
        parse_bounds("1958/1957")
    assert "ends before it starts" in raised.value.messages[0]
