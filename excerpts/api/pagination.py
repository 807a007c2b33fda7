"""
Keyset (cursor) pagination with a total count, exact up to COUNT_LIMIT.

DRF's CursorPagination keys on the first ordering field and falls back to OFFSET among ties, so a
page deep in a large result set with many equal dates costs more than the first. Here the cursor
holds the full sort key of a boundary row (for example ``(date_start, id)``) and the next page is
``WHERE (date_start, id) > (cursor)``, which an index on ``(date_start, id)`` answers directly at
any depth. The ordering's last key must be unique (``id``), so every row is visited exactly once.

Keys may be annotations (a search's ``relevance``): their values are read from the row objects and
may be strings, integers or finite floats. A float survives the cursor exactly (JSON keeps the
shortest repr that round-trips), so ``relevance < cursor`` compares against the very value the
database returned.

The total is counted up to COUNT_LIMIT: beyond it the response says ``count_exact: false`` and
``count`` is the limit, so no list costs a count of a million rows (the facets endpoint counts
exactly, cached). Totals are cached per data version, so later pages do not count again.
"""

import base64
import binascii
import datetime
import functools
import json
import math
from collections import namedtuple
from functools import reduce
from operator import or_

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import connections
from django.db.models import BooleanField, Expression, F, Q, QuerySet, Value
from django.utils.encoding import force_str
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import BasePagination
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from ..research import caching, limits
from ..research.search import IndexCount
from .caching import request_parts
from .filters import CACHE_BUSTER, REPEATED_VALUE


def _value_of(obj, path):
    for part in path.split("__"):
        obj = getattr(obj, part)
    return obj.isoformat() if isinstance(obj, datetime.date) else obj


def _is_cursor_value(value):
    if isinstance(value, float):
        return math.isfinite(value)  # json.loads accepts NaN and Infinity; no row has them
    return isinstance(value, str | int) and not isinstance(value, bool)


def _is_positive(value):
    return isinstance(value, int | float) and value > 0


class RowComparison(Expression):
    """
    ``(a, b, ...) > (x, y, ...)`` (or ``<``): a row value comparison, which PostgreSQL and SQLite answer as one
    range of an index on those columns. The equivalent ``a > x OR (a = x AND b > y)`` made SQLite read its index
    from the start of the range: 1 ms at row 10,000 of 200,000, against 0.03 ms.
    """

    output_field = BooleanField()
    conditional = True

    def __init__(self, fields, values, greater):
        super().__init__()
        self.fields = [F(field) for field in fields]
        self.values = list(values)
        self.greater = greater

    def get_source_expressions(self):
        return self.fields

    def set_source_expressions(self, exprs):
        self.fields = list(exprs)

    def resolve_expression(self, query=None, allow_joins=True, reuse=None, summarize=False, for_save=False):
        resolved = super().resolve_expression(query, allow_joins, reuse, summarize, for_save)
        # Each value as its field would take it in a filter, so a value of the wrong type fails here, as one would.
        resolved.values = [
            value if isinstance(value, Value) else Value(field.output_field.get_prep_value(value), field.output_field)
            for field, value in zip(resolved.fields, self.values, strict=True)
        ]
        return resolved

    def as_sql(self, compiler, connection):
        columns, values, params = [], [], []
        for expressions, sqls in ((self.fields, columns), (self.values, values)):
            for expression in expressions:
                sql, expression_params = compiler.compile(expression)
                sqls.append(sql)
                params.extend(expression_params)
        operator = ">" if self.greater else "<"
        return f"({', '.join(columns)}) {operator} ({', '.join(values)})", params


def _sorts_one_way(keys):
    """Whether the keys all sort ascending or all descending: a row comparison can then stand for the keyset."""
    return len({key.startswith("-") for key in keys}) == 1


def _keyset_filter(keys, values, forward):
    """A condition for rows strictly after (forward) or before the position ``values`` in the order ``keys``."""
    if _sorts_one_way(keys):
        # Forward on ascending keys, or backward on descending ones, means a greater row.
        descending = keys[0].startswith("-")
        return RowComparison([key.lstrip("-") for key in keys], values, greater=descending != forward)
    clauses = []
    for index, key in enumerate(keys):
        field = key.lstrip("-")
        descending = key.startswith("-")
        # Forward on an ascending key, or backward on a descending one, means a greater value.
        lookup = "gt" if descending != forward else "lt"
        equal = {keys[i].lstrip("-"): values[i] for i in range(index)}
        clauses.append(Q(**equal, **{f"{field}__{lookup}": values[index]}))
    return reduce(or_, clauses)


def _reversed(keys):
    return [key[1:] if key.startswith("-") else f"-{key}" for key in keys]


class CompiledPages:
    """
    The pages of a fixed queryset, read from SQL compiled once per process for each order, direction and page size:
    with nothing asked but an order and a position, building and compiling the page query and making model
    instances of its rows was half of a list request. Only the cursor's values change from one page to the next,
    so they are the statement's last parameters (a row comparison, as ``_keyset_filter`` makes it). Rows are
    named tuples of the primary key (``pk``) and the sort keys, all the paginator and the view read of them.

    ``name`` stands for ``queryset`` in the process's cache of statements: one name, one queryset. The cache is
    emptied when it holds STATEMENTS_MAX statements (a filtered list's name holds a data version, which moves on).
    """

    statements: dict[tuple, tuple[str, tuple]] = {}
    STATEMENTS_MAX = 1024

    def __init__(self, name, queryset):
        self.name, self.queryset = name, queryset

    def read(self, keys, values, forward, limit, error):
        """
        Up to ``limit`` rows after (or before) the position ``values`` in the order ``keys``, nearest first; None
        when the query cannot be compiled with the cursor's values last (the caller reads the page by the ORM).
        """
        model = self.queryset.model
        fields = tuple(key.lstrip("-") for key in keys)
        alias = self.queryset.db
        params = []
        if values is not None:
            connection = connections[alias]
            try:
                for field, value in zip((model._meta.get_field(name) for name in fields), values, strict=True):
                    params.append(field.get_db_prep_value(field.get_prep_value(value), connection))
            except (DjangoValidationError, ValueError, TypeError):
                raise error from None
        key = (self.name, alias, tuple(keys), values is not None, forward, limit)
        statement = self.statements.get(key)  # one step: another thread may empty the cache meanwhile
        if statement is None:
            statement = self.compile(keys, values, forward, limit, params)
            if statement is None:
                return None
            if len(self.statements) >= self.STATEMENTS_MAX:
                self.statements.clear()
            self.statements[key] = statement
        sql, constants = statement
        with connections[alias].cursor() as cursor:
            cursor.execute(sql, [*constants, *params])
            return [_page_row(fields)(*row) for row in cursor.fetchall()]

    def compile(self, keys, values, forward, limit, params):
        """
        The page's SQL and the parameters that come before the cursor's (the queryset's own constants); None if the
        cursor's are not the last.
        """
        queryset = self.queryset
        if values is not None:
            queryset = queryset.filter(_keyset_filter(keys, values, forward))
        order = keys if forward else _reversed(keys)
        page = queryset.order_by(*order).values_list("pk", *(key.lstrip("-") for key in keys))[:limit]
        sql, compiled_params = page.query.get_compiler(queryset.db).as_sql()
        compiled_params = list(compiled_params)
        constants = compiled_params[: len(compiled_params) - len(params)]
        if compiled_params[len(constants) :] != params:
            return None
        return sql, tuple(constants)


@functools.lru_cache(maxsize=16)
def _page_row(fields):
    return namedtuple("PageRow", ["pk", *fields])


class KeysetPagination(BasePagination):
    """Cursor pagination on the queryset's full ordering, with ``count``, ``next`` and ``previous``."""

    cursor_query_param = "cursor"
    page_size_query_param = "page_size"

    @property
    def page_size(self):
        return limits.PAGE_SIZE

    @property
    def max_page_size(self):
        return limits.MAX_PAGE_SIZE

    @property
    def count_limit(self):
        return limits.COUNT_LIMIT

    def get_page_size(self, request):
        raw = self._one(request, self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= self.max_page_size:
            raise ValidationError(
                {self.page_size_query_param: [f"Must be a whole number from 1 to {self.max_page_size}, not {raw!r}."]}
            )
        return int(raw)

    @staticmethod
    def _one(request, name):
        """The parameter's value, None if absent; a 400 if it is given more than once (the filter backend's rule)."""
        values = request.query_params.getlist(name)
        if len(values) > 1:
            raise ValidationError({name: [REPEATED_VALUE]})
        return values[0] if values else None

    def decode_cursor(self, request, keys):
        raw = self._one(request, self.cursor_query_param)
        if raw is None:
            return None
        error = ValidationError(
            {self.cursor_query_param: ["Invalid cursor. Use the next or previous link of a response unchanged."]}
        )
        if len(raw) > limits.MAX_CURSOR_LENGTH:
            raise error
        try:
            data = json.loads(base64.urlsafe_b64decode(raw.encode("ascii") + b"=" * (-len(raw) % 4)))
        except (ValueError, UnicodeError, binascii.Error):
            raise error from None
        if (
            not isinstance(data, dict)
            or data.get("o") != keys
            or not isinstance(data.get("v"), list)
            or len(data["v"]) != len(keys)
            or not all(_is_cursor_value(value) for value in data["v"])
            or data.get("d") not in ("n", "p")
        ):
            raise error
        if any(isinstance(value, int) and not -(2**63) <= value < 2**63 for value in data["v"]):
            raise error
        return data["v"], data["d"] == "n", error

    def encode_cursor(self, keys, obj, forward):
        data = {"o": keys, "v": [_value_of(obj, key.lstrip("-")) for key in keys], "d": "n" if forward else "p"}
        raw = base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).decode().rstrip("=")
        return replace_query_param(self.base_url, self.cursor_query_param, raw)

    def ordering_keys(self, queryset):
        keys = list(queryset.query.order_by or queryset.model._meta.ordering)
        if keys[-1].lstrip("-") not in ("id", "pk"):
            keys.append("id")
        return [force_str(key) for key in keys]

    def get_count(self, queryset):
        """
        How many rows the queryset (or a search's IndexCount) has, counted up to ``count_limit + 1`` only (an exact
        count of a million matches costs more than the page), and cached per data version: every page of a list
        repeats it.
        """
        parts = request_parts(self.request, ignore={self.cursor_query_param, self.page_size_query_param, CACHE_BUSTER})
        enough = self.count_limit + 1
        if isinstance(queryset, IndexCount):  # a search counted in its index
            return caching.cached("count", parts, lambda: queryset.count(at_most=enough))
        return caching.cached("count", parts, lambda: queryset.order_by().values("pk")[:enough].count())

    def paginate_queryset(
        self, queryset, request, view=None, *, counted=None, lead=None, compiled=None, keys_only=False
    ):
        """
        The page of the ordered ``queryset`` the request's cursor points to.

        ``counted`` is the same set in a form cheaper to count, if there is one. ``lead`` is a part of the
        queryset that holds its first rows in this order (a search's ranked matches, a queryset or a page source
        that reads its rows itself): a page that starts inside it (the cursor's first key positive) and that it
        fills is read from it alone. ``compiled`` (CompiledPages)
        reads the same rows as ``queryset`` from statements compiled once; the view gives it when the request asks
        for nothing that changes the query but its order and position. With ``keys_only`` the rows are named tuples
        of the primary key and the sort keys (as CompiledPages reads them), not model instances: the caller reads
        nothing else of them.
        """
        self.request = request
        self.keys_only = keys_only
        self.page_size_value = self.get_page_size(request)
        self.keys = self.ordering_keys(queryset)
        self.base_url = request.build_absolute_uri()
        cursor = self.decode_cursor(request, self.keys)
        counted = self.get_count(queryset if counted is None else counted)
        self.count_exact = counted <= self.count_limit
        self.count = min(counted, self.count_limit)

        values, forward = (None, True) if cursor is None else cursor[:2]
        # Nothing matches: there is no first page to read. (Walking an order's index in search of a first match read
        # every excerpt, 0.3-0.4 s at a million, for a filter that matches none.) A cursor is still read, and checked.
        rows = [] if counted == 0 and cursor is None else None
        if (
            rows is None
            and lead is not None
            and self.count > self.page_size_value
            and (values is None or _is_positive(values[0]))
        ):
            head = self.read(lead, values, forward, cursor)
            if len(head) > self.page_size_value or not forward:
                rows = head
        if rows is None and compiled is not None and _sorts_one_way(self.keys):
            error = cursor[2] if cursor is not None else None
            rows = compiled.read(self.keys, values, forward, self.page_size_value + 1, error)
        if rows is None:
            rows = self.read(queryset, values, forward, cursor)
        has_more = len(rows) > self.page_size_value
        rows = rows[: self.page_size_value]
        if not forward:
            rows.reverse()
        self.next_url, self.previous_url = self.links(rows, has_more, forward, cursored=cursor is not None)
        return rows

    def links(self, rows, has_more, forward, cursored):
        """The next and previous links of a page read ``forward`` (or back) from a cursor (or the start)."""
        if not rows:
            # Past the end (or the start): offer the way back to the first page.
            return None, remove_query_param(self.base_url, self.cursor_query_param) if cursored else None
        next_url = previous_url = None
        if (has_more and forward) or (cursored and not forward):
            next_url = self.encode_cursor(self.keys, rows[-1], forward=True)
        if (has_more and not forward) or (cursored and forward):
            previous_url = self.encode_cursor(self.keys, rows[0], forward=False)
        return next_url, previous_url

    def read(self, queryset, values, forward, cursor):
        """
        Up to a page and one more row after (or before) the cursor position ``values``, nearest first, from a
        queryset or a page source that reads them itself (a search's ``RankedWindow``).
        """
        if not isinstance(queryset, QuerySet):
            error = cursor[2] if cursor is not None else None
            return queryset.read(self.keys, values, forward, self.page_size_value + 1, error)
        if values is not None:
            try:
                queryset = queryset.filter(_keyset_filter(self.keys, values, forward))
            except (DjangoValidationError, ValueError, TypeError):
                raise cursor[2] from None
        order = self.keys if forward else _reversed(self.keys)
        page = queryset.order_by(*order)
        if self.keys_only:
            fields = tuple(key.lstrip("-") for key in self.keys)
            page = page.values_list("pk", *fields, named=True)
        return list(page[: self.page_size_value + 1])

    def get_paginated_response(self, data):
        response = Response(
            {
                "count": self.count,
                "count_exact": self.count_exact,
                "next": self.next_url,
                "previous": self.previous_url,
                "results": data,
            }
        )
        links = [f'<{url}>; rel="{rel}"' for url, rel in ((self.next_url, "next"), (self.previous_url, "prev")) if url]
        if links:
            # RFC 8288: the same links as the body's, for clients that follow pages by headers (GitHub's API style).
            response["Link"] = ", ".join(links)
        return response

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["count", "count_exact", "next", "previous", "results"],
            "properties": {
                "count": {
                    "type": "integer",
                    "description": (
                        f"Number of matching items, exact up to {limits.COUNT_LIMIT:,}. When more match, count is "
                        f"{limits.COUNT_LIMIT:,} and count_exact is false: follow next to the end, or ask the facets "
                        "endpoint, for the exact total."
                    ),
                    "example": 42,
                },
                "count_exact": {
                    "type": "boolean",
                    "description": f"False when more than {limits.COUNT_LIMIT:,} items match and count is that limit.",
                    "example": True,
                },
                "next": {
                    "type": "string",
                    "nullable": True,
                    "format": "uri",
                    "description": "Link to the next page, or null on the last page.",
                    "example": "http://127.0.0.1:8000/api/v1/excerpts/?cursor=eyJvIjpbImRhdGVfc3RhcnQiLCJpZCJdfQ",
                },
                "previous": {
                    "type": "string",
                    "nullable": True,
                    "format": "uri",
                    "description": "Link to the previous page, or null on the first page.",
                    "example": None,
                },
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": "Opaque position in the result set, taken from a response's next or previous link.",
                "schema": {"type": "string", "maxLength": limits.MAX_CURSOR_LENGTH},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": f"Results per page, 1 to {self.max_page_size} (default {self.page_size}).",
                "schema": {"type": "integer", "minimum": 1, "maximum": self.max_page_size, "default": self.page_size},
            },
        ]
