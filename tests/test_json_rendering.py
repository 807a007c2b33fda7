"""FastJSONRenderer writes DRF JSONRenderer's very bytes: on any JSON-shaped data, and on what only DRF encodes."""

import datetime
import decimal
import uuid

from django.utils.functional import lazy
from hypothesis import given, settings
from hypothesis import strategies as st
from rest_framework.renderers import JSONRenderer

from excerpts.api.renderers import FastJSONRenderer

TEXT = st.text(st.characters(exclude_categories=["Cs"]))  # lone surrogates: no stored text has one (api/parsers.py)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | TEXT,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(TEXT, children, max_size=5),
    max_leaves=30,
)


def both(data, media_type="application/json"):
    return FastJSONRenderer().render(data, media_type), JSONRenderer().render(data, media_type)


@settings(deadline=None)  # a shared machine's pauses are not failures
@given(JSON)
def test_any_json_shaped_data_is_written_as_drf_writes_it(data):
    fast, drf = both(data)
    assert fast == drf


def test_separators_controls_and_astral_characters_are_escaped_alike():
    text = 'line\u2028paragraph\u2029\x00\x1f\x7f\b\f\n\r\t"\\ 😀 中文 русский'
    fast, drf = both({"text": text, "list": [text]})
    assert fast == drf
    assert b"\\u2028" in fast and "\u2028".encode() not in fast


def test_dates_decimals_uuids_and_lazy_text_go_through_drfs_encoder():
    data = {
        "when": datetime.datetime(1958, 7, 31, 12, 30, 5, 123456, tzinfo=datetime.UTC),
        "day": datetime.date(1958, 7, 31),
        "time": datetime.time(12, 30),
        "amount": decimal.Decimal("1.50"),
        "id": uuid.UUID("12345678-1234-5678-1234-567812345678"),
        "label": lazy(lambda: "Speech", str)(),
        "set": {1},
    }
    fast, drf = both(data)
    assert fast == drf
    assert b'"when":"1958-07-31T12:30:05.123456Z"' in fast


def test_what_orjson_cannot_encode_is_drfs():
    for data in ({"big": 2**70}, {1: "an integer key"}):
        fast, drf = both(data)
        assert fast == drf


def test_an_indented_answer_is_drfs():
    fast, drf = both({"a": [1, {"b": None}]}, "application/json; indent=2")
    assert fast == drf == b'{\n  "a": [\n    1,\n    {\n      "b": null\n    }\n  ]\n}'


def test_nothing_renders_as_no_body():
    assert both(None) == (b"", b"")
