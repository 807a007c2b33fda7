"""
The statement time budget of public reads (``limits.PUBLIC_STATEMENT_TIMEOUT_MS``, see db/statement_budget.py).

Every GET or HEAD outside the admin runs each of its statements under the budget; a statement past it is cancelled
and the request answered with a 503 ``query-timeout`` problem (problems.py). Writes, the admin (curators at work),
imports and management commands have no budget. The budget ends when the view's response leaves the middleware, so
the rows a streamed response (an export) reads afterwards are not subject to it, however long it streams; a view
that must run long statements itself calls ``lift_statement_budget(request)`` first.
"""

from django.db import connections

from ..db.routers import read_database
from ..db.statement_budget import statement_budget
from ..research import limits

BUDGETED_METHODS = {"GET", "HEAD"}


class StatementBudgetMiddleware:
    """Run each statement of a public read under ``limits.PUBLIC_STATEMENT_TIMEOUT_MS``."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method not in BUDGETED_METHODS:
            return self.get_response(request)
        # The request reads one database: a replica for a public read (ReplicaReadsMiddleware, before this one).
        with statement_budget(connections[read_database()], limits.PUBLIC_STATEMENT_TIMEOUT_MS / 1000) as budget:
            request.statement_budget = budget
            return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.resolver_match.namespace == "admin":
            lift_statement_budget(request)


def lift_statement_budget(request):
    """Run the rest of the request's statements without the public budget (a view that knows they may be long)."""
    budget = getattr(request, "statement_budget", None)
    if budget is not None:
        budget.lift()
