"""Reading one cell of an import row: text, an id, topic slugs, a date checked as the model checks it."""

import datetime
import functools
import re

from django.core.exceptions import ValidationError
from edtf import Date

from ..dates import DateBounds, display, parse_bounds, validate_edtf
from ..excerpt_fields import TOPIC_SEPARATOR
from ..models import Excerpt


def parse_text(value):
    """Text columns take text: an empty cell or JSON null is empty, and a JSON number or boolean is refused."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValueError(f"Must be text, not {type(value).__name__} {value!r}.")
    return value


ID_PATTERN = re.compile(r"[0-9]{1,18}(?:\.0*)?")


def parse_id(value):
    """An id cell as an int, None when empty; ValueError when it is not a whole number from 1."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    text = str(value).strip()
    if isinstance(value, bool) or not ID_PATTERN.fullmatch(text) or int(text.split(".")[0]) < 1:
        raise ValueError(f"{value!r} is not an id: ids are whole numbers from 1.")
    return int(text.split(".")[0])


def parse_slugs(value):
    """The slugs of a topics cell, separated by TOPIC_SEPARATOR (;)."""
    return {slug.strip() for slug in str(value or "").split(TOPIC_SEPARATOR) if slug.strip()}


PLAIN_DATE = re.compile(r"([0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2}))?)?")


@functools.lru_cache(maxsize=8192)
def _bounds_or_messages(text):
    # A real calendar day, month or year is built directly: the EDTF grammar costs ~5 ms a parse, and a file of
    # 20,000 rows has that many dates. Anything else, and any refusal, is parse_bounds' own.
    match = PLAIN_DATE.fullmatch(text.strip())
    if match:
        parsed = Date(*match.groups())
        try:
            start = datetime.date(*parsed.lower_strict()[:3])
            end = datetime.date(*parsed.upper_strict()[:3])
        except (ValueError, OverflowError):
            pass
        else:
            return DateBounds(start=start, end=end, display=display(parsed)), None
    try:
        return parse_bounds(text), None
    except ValidationError as error:
        return None, error.messages


def date_bounds(value):
    """parse_bounds(value), fast for plain dates and remembered: the same DateBounds or ValidationError."""
    bounds, messages = _bounds_or_messages(value or "")
    if messages:
        raise ValidationError(messages)
    return bounds


DATE_FIELD = Excerpt._meta.get_field("date")


def date_problems(value):
    """What the date field's own validation (Field.clean) says of ``value``, with the EDTF check cached."""
    try:
        DATE_FIELD.validate(value, None)
    except ValidationError as error:
        return error.messages
    problems = []
    for validator in DATE_FIELD.validators:
        try:
            (date_bounds if validator is validate_edtf else validator)(value)
        except ValidationError as error:
            problems.extend(error.messages)
    return problems
