"""
EDTF dates: parsing, the earliest and latest possible day, and a human display form.

An excerpt keeps its date exactly as a curator entered it (an EDTF string such as ``1956-02-25``,
``1958-22`` for summer 1958, ``1958?`` or ``1957/1958``). Filtering and ordering use the two derived
day bounds: an excerpt matches a date range when its possible range overlaps the asked one.
Qualifiers (``?`` uncertain, ``~`` approximate) are kept in the string and in the display form; the
bounds are those of the stated period.
"""

import datetime
import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from edtf import Date, Interval, OneOfASet, Season, UncertainOrApproximate, Unspecified, parse_edtf
from edtf.parser.edtf_exceptions import EDTFParseException

MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
SEASONS = {
    "21": "spring",
    "22": "summer",
    "23": "autumn",
    "24": "winter",
    "25": "spring (northern hemisphere)",
    "26": "summer (northern hemisphere)",
    "27": "autumn (northern hemisphere)",
    "28": "winter (northern hemisphere)",
    "29": "spring (southern hemisphere)",
    "30": "summer (southern hemisphere)",
    "31": "autumn (southern hemisphere)",
    "32": "winter (southern hemisphere)",
    "33": "first quarter of",
    "34": "second quarter of",
    "35": "third quarter of",
    "36": "fourth quarter of",
    "37": "first third of",
    "38": "second third of",
    "39": "last third of",
    "40": "first half of",
    "41": "second half of",
}


@dataclass(frozen=True)
class DateBounds:
    """The earliest and latest possible day of an EDTF date, and how to show it to a person."""

    start: datetime.date
    end: datetime.date
    display: str


def parse_bounds(value):
    """Return the DateBounds of an EDTF string, or raise ValidationError saying what is wrong."""
    text = (value or "").strip()
    if not text:
        raise ValidationError("A date is required: give an EDTF date such as 1956-02-25, 1958-07, 1958 or 1958-22.")
    unbounded = ValidationError(
        f"The bounds of {text!r} cannot be computed: open-ended intervals and years outside 1-9999 are not supported.",
        code="unbounded_edtf",
    )
    if text.startswith("/") or text.endswith("/") or ".." in text:
        raise unbounded
    try:
        parsed = parse_edtf(text)
    except EDTFParseException:
        raise ValidationError(
            f"{text!r} is not a valid EDTF date. Use YYYY, YYYY-MM, YYYY-MM-DD, a season (1958-21..24), "
            "an interval (1957/1958) or a qualified date (1958?, 1958~).",
            code="invalid_edtf",
        ) from None
    try:
        start = datetime.date(*parsed.lower_strict()[:3])
        end = datetime.date(*parsed.upper_strict()[:3])
    except (TypeError, ValueError, OverflowError):
        raise unbounded from None
    if start > end:
        raise ValidationError(f"{text!r} ends before it starts.", code="reversed_edtf")
    return DateBounds(start=start, end=end, display=display(parsed))


def validate_edtf(value):
    """Model field validator: accept a non-empty EDTF string whose bounds can be computed."""
    parse_bounds(value)


def validate_optional_edtf(value):
    """Model field validator for optional EDTF fields (birth, death, source dates)."""
    if value:
        parse_bounds(value)


def display(parsed):
    """Render a parsed EDTF date the way a historian writes it: "25 February 1956", "summer 1958"."""
    if isinstance(parsed, Interval):
        return f"{display(parsed.lower)}\u2013{display(parsed.upper)}"  # an en dash
    if isinstance(parsed, OneOfASet):
        return " or ".join(display(item) for item in parsed.objects)
    if isinstance(parsed, UncertainOrApproximate):
        inner = display(parsed.date)
        if parsed._uncertain_and_approximate:
            return f"c. {inner} (uncertain)"
        if parsed._is_approximate:
            return f"c. {inner}"
        return f"{inner} (uncertain)"
    if isinstance(parsed, Season):
        return f"{SEASONS.get(str(parsed.season), 'season of')} {parsed._year}"
    if isinstance(parsed, Unspecified):
        return _display_unspecified(parsed)
    if isinstance(parsed, Date):
        return _display_date(str(parsed))
    return str(parsed)


def _display_date(text):
    match = re.fullmatch(r"(-?\d{4})(?:-(\d{2}))?(?:-(\d{2}))?", text)
    if not match:
        return text
    year, month, day = match.groups()
    year = str(int(year))
    if day:
        return f"{int(day)} {MONTHS[int(month) - 1]} {year}"
    if month:
        return f"{MONTHS[int(month) - 1]} {year}"
    return year


def _display_unspecified(parsed):
    text = str(parsed)
    decade = re.fullmatch(r"(\d{3})X", text)
    if decade:
        return f"{decade.group(1)}0s"
    century = re.fullmatch(r"(\d{2})XX", text)
    if century:
        return f"{century.group(1)}00s"
    month = re.fullmatch(r"(\d{4})-(\d{2})-XX", text)
    if month:
        return f"{MONTHS[int(month.group(2)) - 1]} {month.group(1)}"
    year = re.fullmatch(r"(\d{4})-XX(?:-XX)?", text)
    if year:
        return year.group(1)
    return text


QUERY_DATE = re.compile(r"^([0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2}))?)?$")


def query_period(value):
    """
    Return (first_day, last_day) of a YYYY, YYYY-MM or YYYY-MM-DD query value.

    Raise ValueError with a message for anything else or an impossible date (1958-02-30).
    """
    match = QUERY_DATE.match(value or "")
    if not match:
        raise ValueError(f"{value!r} is not a date: use YYYY, YYYY-MM or YYYY-MM-DD.")
    year, month, day = (int(part) if part else None for part in match.groups())
    if year < 1:
        raise ValueError(f"{value!r} is not a date: the year must be between 0001 and 9999.")
    try:
        if day:
            first = last = datetime.date(year, month, day)
        elif month:
            first = datetime.date(year, month, 1)
            following = datetime.date(year + 1, 1, 1) if month == 12 else datetime.date(year, month + 1, 1)
            last = following - datetime.timedelta(days=1)
        else:
            first, last = datetime.date(year, 1, 1), datetime.date(year, 12, 31)
    except (ValueError, OverflowError):
        raise ValueError(f"{value!r} is not a real calendar date.") from None
    return first, last
