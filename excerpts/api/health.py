"""
Probes for load balancers and orchestrators: ``/healthz`` (the process answers) and ``/readyz`` (it can serve:
the database answers, is migrated and keeps every declared object; excerpts/db/readiness.py).

Plain Django views, outside DRF: a probe needs no authentication, content negotiation or throttling, and must
not be counted against a client's rate. Neither answer may be cached by anyone.
"""

from django.db import connection
from django.http import JsonResponse
from django.views.decorators.http import require_safe

from ..db.readiness import OK, SKIPPED, readiness
from .problems import PROBLEM_CONTENT_TYPE, PROBLEM_TYPE_BASE, problem

# Seconds a probe that found the service not ready is asked to wait before it asks again.
NOT_READY_RETRY_AFTER = 10


def _uncached(response):
    response["Cache-Control"] = "no-store"
    return response


@require_safe
def healthz(request):
    """200 while the process can answer at all; it touches no database."""
    return _uncached(JsonResponse({"status": "ok"}))


@require_safe
def readyz(request):
    """200 with each check when the database is ready; otherwise 503, a problem naming each failed check."""
    checks = readiness(connection)
    report = {check.name: {"status": check.status, "detail": check.detail} for check in checks}
    failed = [check for check in checks if check.status not in (OK, SKIPPED)]
    if not failed:
        return _uncached(JsonResponse({"status": "ready", "checks": report}))
    body = problem(
        503,
        "Not ready: " + "; ".join(f"{check.name}: {check.detail}" for check in failed),
        errors=[{"name": check.name, "reason": check.detail} for check in failed],
        instance=request.path,
    )
    body["type"] = PROBLEM_TYPE_BASE + "not-ready"
    body["checks"] = report
    response = JsonResponse(body, status=503, content_type=PROBLEM_CONTENT_TYPE)
    response["Retry-After"] = str(NOT_READY_RETRY_AFTER)
    return _uncached(response)
