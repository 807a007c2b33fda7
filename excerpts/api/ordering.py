"""
The excerpt list's sort orders.

Each order ends in ``id``, so it is total and a keyset cursor visits every row once. The ``ordering``
parameter is checked and documented by the filter set (api/filters.py); the ordering backend turns it into
sort keys, which the search plan and the paginator ask for, the way DRF's CursorPagination asks an
OrderingFilter.
"""

from ..research.search import RELEVANCE_ORDER

ORDERINGS = {
    "date": ("date_start", "id"),
    "-date": ("-date_start", "-id"),
    "speaker": ("speaker_name", "date_start", "id"),
    "-speaker": ("-speaker_name", "-date_start", "-id"),
    "relevance": RELEVANCE_ORDER,
}
# The excerpt's own fields the orders sort by (relevance is computed by the search).
SORT_FIELDS = ("id", "date_start", "speaker_name")


class ExcerptOrdering:
    """Order excerpts as ``ordering`` asks; by relevance when there is a search and no ``ordering``, else by date."""

    ordering_param = "ordering"

    def get_ordering(self, request, queryset, view):
        """The sort keys of the request (already checked by the filter set)."""
        asked = request.query_params.get(self.ordering_param)
        if asked in ORDERINGS:
            return ORDERINGS[asked]
        return RELEVANCE_ORDER if request.query_params.get("q", "").strip() else ORDERINGS["date"]
