"""
RFC 9457 problem details for every error the API returns.

Each error body is ``application/problem+json`` with ``type``, ``title``, ``status`` and ``detail``;
validation errors add ``errors``, a list of ``{"name": parameter or field, "reason": message}``, so a
client can point at the exact input that was refused.
"""

from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "https://excerpts.invalid/problems/"

TITLES = {
    400: "Invalid request",
    401: "Authentication required",
    403: "Permission denied",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    413: "Request too large",
    415: "Unsupported media type",
    429: "Too many requests",
    500: "Server error",
}
TYPES = {
    400: "invalid-request",
    401: "not-authenticated",
    403: "permission-denied",
    404: "not-found",
    405: "method-not-allowed",
    406: "not-acceptable",
    409: "conflict",
    413: "too-large",
    415: "unsupported-media-type",
    429: "throttled",
    500: "server-error",
}


def problem(status_code, detail, errors=None, instance=None):
    """Build the problem-details dictionary for a status, a human detail and optional field errors."""
    body = {
        "type": PROBLEM_TYPE_BASE + TYPES.get(status_code, "error"),
        "title": TITLES.get(status_code, "Error"),
        "status": status_code,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    if errors:
        body["errors"] = errors
    return body


def flatten_errors(data, prefix=""):
    """Turn DRF's nested error structure into a flat list of {"name", "reason"} items."""
    if isinstance(data, dict):
        items = []
        for key, value in data.items():
            name = key if not prefix else f"{prefix}.{key}"
            if key == "non_field_errors":
                name = prefix or "non_field_errors"
            items.extend(flatten_errors(value, name))
        return items
    if isinstance(data, list):
        if all(not isinstance(item, dict | list) for item in data):
            return [{"name": prefix or "request", "reason": str(item)} for item in data]
        items = []
        for index, item in enumerate(data):
            items.extend(flatten_errors(item, f"{prefix}[{index}]" if prefix else f"[{index}]"))
        return items
    return [{"name": prefix or "request", "reason": str(data)}]


def problem_exception_handler(exc, context):
    """DRF exception handler answering every error with RFC 9457 problem details."""
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    if not isinstance(exc, exceptions.APIException):
        return None

    request = context.get("request")
    instance = request.get_full_path() if request is not None else None
    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait))

    if isinstance(exc, exceptions.ValidationError):
        errors = flatten_errors(exc.detail)
        detail = "; ".join(f"{error['name']}: {error['reason']}" for error in errors) or "The request is invalid."
        body = problem(status.HTTP_400_BAD_REQUEST, detail, errors=errors, instance=instance)
    else:
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        body = problem(exc.status_code, detail, instance=instance)

    set_rollback()
    return Response(body, status=exc.status_code, headers=headers, content_type=PROBLEM_CONTENT_TYPE)


@csrf_exempt
def api_not_found(request, exception=None):
    """404 for any path under /api/ that matches no endpoint, whatever the method (no CSRF 403 first)."""
    return JsonResponse(
        problem(404, f"No API endpoint at {request.path}. See /api/docs/ for the endpoints.", instance=request.path),
        status=404,
        content_type=PROBLEM_CONTENT_TYPE,
    )


def api_server_error(request):
    """500 as problem details; the traceback goes to the log, never to the client."""
    return JsonResponse(
        problem(500, "An unexpected error occurred. It has been logged.", instance=request.path),
        status=500,
        content_type=PROBLEM_CONTENT_TYPE,
    )


class Conflict(exceptions.APIException):
    """409: the request is valid but the data's current state forbids it (e.g. deleting a used speaker)."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state of the data."
    default_code = "conflict"
