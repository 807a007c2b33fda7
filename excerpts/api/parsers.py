"""
The one parser of request bodies: JSON in UTF-8, bounded before it is read, parsed or used.

A body is refused, as a problem detail naming what is wrong, when:

- it is larger than ``limits.MAX_BODY_BYTES``: a 413, from its Content-Length before anything is read, and by
  reading at most one byte more than the limit whatever the headers say;
- it is compressed (any ``Content-Encoding`` but ``identity``): a 415; bodies are never decompressed, so a small
  one cannot become a huge one in memory;
- it names a charset other than UTF-8 (``charset=zlib``, ``charset=rot13``, an unknown one): a 415, for the same
  reason and because JSON is UTF-8;
- it is not UTF-8, not JSON, or nested deeper than ``limits.MAX_JSON_DEPTH``: a 400, the depth checked before the
  JSON is parsed (Python's parser would recurse once per level);
- a key or a string in it holds a lone surrogate (``"\\ud800"``), which is no character and cannot be stored: a 400
  naming where.
"""

import codecs
import re

from django.utils.http import parse_header_parameters
from rest_framework import exceptions, status
from rest_framework.parsers import JSONParser
from rest_framework.utils import json

from ..research import limits

# A JSON string (skipped whole, brackets in it included) or a bracket.
JSON_TOKENS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]')


class RequestTooLarge(exceptions.APIException):
    """413: the body is larger than the API takes."""

    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"


class StrictJSONParser(JSONParser):
    """JSON bodies only in UTF-8, uncompressed, at most MAX_BODY_BYTES long and MAX_JSON_DEPTH deep."""

    def parse(self, stream, media_type=None, parser_context=None):
        meta = parser_context["request"].META
        refuse_encoding(meta.get("HTTP_CONTENT_ENCODING", ""), media_type)
        refuse_charset(media_type)
        text = read_text(stream, meta.get("CONTENT_LENGTH"))
        if too_deep(text, limits.MAX_JSON_DEPTH):
            raise exceptions.ParseError(
                f"The JSON body is nested more than {limits.MAX_JSON_DEPTH} levels deep (MAX_JSON_DEPTH); "
                "a write needs two."
            )
        try:
            data = json.loads(text, parse_constant=json.strict_constant if self.strict else None)
        except ValueError as error:
            raise exceptions.ParseError(f"JSON parse error - {error}") from None
        refuse_lone_surrogates(data)
        return data


def refuse_encoding(content_encoding, media_type):
    codings = [coding.strip().lower() for coding in content_encoding.split(",") if coding.strip()]
    if any(coding != "identity" for coding in codings):
        raise exceptions.UnsupportedMediaType(
            media_type,
            detail=(
                f"Content-Encoding: {content_encoding} is not accepted: request bodies are never decompressed. "
                "Send the JSON uncompressed."
            ),
        )


def refuse_charset(media_type):
    charset = parse_header_parameters(media_type or "")[1].get("charset")
    if charset is None:
        return
    try:
        utf8 = codecs.lookup(charset).name == "utf-8"
    except LookupError:
        utf8 = False
    if not utf8:
        raise exceptions.UnsupportedMediaType(
            media_type,
            detail=f"charset={charset} is not accepted: a JSON body is UTF-8 (say charset=utf-8, or no charset).",
        )


def read_text(stream, content_length):
    """The body as text, read only up to MAX_BODY_BYTES (and refused beyond)."""
    bound = limits.MAX_BODY_BYTES
    try:
        declared = int(content_length or 0)
    except ValueError:
        declared = 0
    if declared > bound:
        raise RequestTooLarge(
            f"The request body is {declared:,} bytes; the API takes at most {bound:,} (MAX_BODY_BYTES)."
        )
    body = stream.read(bound + 1)
    if len(body) > bound:
        raise RequestTooLarge(f"The request body is larger than the {bound:,} bytes the API takes (MAX_BODY_BYTES).")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise exceptions.ParseError(
            f"The body is not UTF-8: byte {error.start} ({body[error.start : error.start + 1]!r}) cannot be decoded."
        ) from None


def too_deep(text, limit):
    """Whether the JSON's arrays and objects nest more than ``limit`` deep (brackets in strings do not count)."""
    depth = 0
    for token in JSON_TOKENS.finditer(text):
        bracket = token.group()
        if bracket in "[{":
            depth += 1
            if depth > limit:
                return True
        elif bracket in "]}":
            depth -= 1
    return False


def refuse_lone_surrogates(data):
    """A 400 naming the first key or string (as a field path) that holds a lone surrogate, which UTF-8 cannot hold."""
    pending = [("", data)]
    while pending:
        path, value = pending.pop()
        if isinstance(value, dict):
            for key, item in value.items():
                name = f"{path}.{key}" if path else key
                if not encodable(key):
                    raise_lone_surrogate(path or "request", f"The key {key!r}")
                pending.append((name, item))
        elif isinstance(value, list):
            pending.extend((f"{path}[{index}]", item) for index, item in enumerate(value))
        elif isinstance(value, str) and not encodable(value):
            raise_lone_surrogate(path or "request", "The text")


def encodable(text):
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def raise_lone_surrogate(name, what):
    raise exceptions.ValidationError(
        {name: [f"{what} holds a lone surrogate (an unpaired \\ud800-\\udfff escape), which is not a character."]}
    )
