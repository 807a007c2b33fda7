"""
RFC 9457 problem details for every error the API returns.

Each error body is ``application/problem+json`` with ``type``, ``title``, ``status`` and ``detail``;
validation errors add ``errors``, a list of ``{"name": parameter or field, "reason": message}``, so a
client can point at the exact input that was refused.

A database failure the same request may get past later is a 503 with ``Retry-After``, not a 500, each kind with
its own problem ``type`` (``db/failures.py`` tells them apart): ``database-unavailable`` (the database cannot be
reached), ``database-busy`` (a write waited for another writer's lock, an import's say, past the timeout),
``query-timeout`` (a statement ran past its time budget) and ``database-read-only`` (a write to a read-only
database). Any other database error is a bug, and a 500. Outside the API the same failures are a plain-text 503.
"""

import sys

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, HttpResponsePermanentRedirect, JsonResponse
from django.urls import Resolver404, resolve
from django.views import defaults
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import set_rollback

from ..db import failures

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
    503: "Service unavailable",
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
    503: "service-unavailable",
}
# Each database failure a request may get past later: what its 503 says, and the seconds (Retry-After) a client is
# asked to wait before it sends the request again.
DATABASE_FAILURES = {
    failures.UNAVAILABLE: (
        "The database cannot be reached at the moment. Nothing was read or written; try again later.",
        30,
    ),
    failures.BUSY: (
        "The database is busy with another write (an import, perhaps) and this one could not wait any longer. "
        "Nothing was written; try again in a few seconds.",
        5,
    ),
    failures.TIMEOUT: (
        "The request took longer than the database allows one statement of a public read "
        "(PUBLIC_STATEMENT_TIMEOUT_MS) and was cancelled. Try again later, or narrow the filters.",
        30,
    ),
    failures.READ_ONLY: (
        "The database is read-only at the moment: it serves reads, but nothing can be written. Try again later.",
        300,
    ),
}


def problem(status_code, detail, errors=None, instance=None, kind=None):
    """
    Build the problem-details dictionary for a status, a human detail and optional field errors; ``kind`` names
    the problem's type when a status has several (a 503's database failures).
    """
    body = {
        "type": PROBLEM_TYPE_BASE + (kind or TYPES.get(status_code, "error")),
        "title": TITLES.get(status_code, "Error"),
        "status": status_code,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    if errors:
        body["errors"] = errors
    return body


def problem_response(status_code, detail, instance, kind=None):
    """The problem details of ``problem`` as a plain Django response, for the answers given outside DRF's views."""
    return JsonResponse(
        problem(status_code, detail, instance=instance, kind=kind),
        status=status_code,
        content_type=PROBLEM_CONTENT_TYPE,
    )


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
    elif kind := failures.database_failure(exc):
        exc = DatabaseFailure(kind)
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
        body = problem(exc.status_code, detail, instance=instance, kind=getattr(exc, "problem_type", None))

    set_rollback()
    if request is not None:
        # A problem is JSON whatever the view renders otherwise (the schema's YAML, the docs' HTML).
        request.accepted_renderer, request.accepted_media_type = JSONRenderer(), JSONRenderer.media_type
    return Response(body, status=exc.status_code, headers=headers, content_type=PROBLEM_CONTENT_TYPE)


@csrf_exempt
def api_not_found(request, exception=None):
    """
    404 for any path under /api/ that matches no endpoint, whatever the method (no CSRF 403 first); but a GET or HEAD
    of an endpoint's path without its trailing slash is redirected to it (301), as APPEND_SLASH does elsewhere.
    CommonMiddleware redirects only a path that matches no URL pattern, and this view's pattern matches every path
    under /api/, so it never did here.
    """
    if request.method in ("GET", "HEAD") and not request.path_info.endswith("/"):
        try:
            endpoint = resolve(request.path_info + "/", getattr(request, "urlconf", None))
        except Resolver404:
            endpoint = None
        if endpoint is not None and endpoint.func is not api_not_found:
            return HttpResponsePermanentRedirect(request.get_full_path(force_append_slash=True))
    return problem_response(404, f"No API endpoint at {request.path}. See /api/docs/ for the endpoints.", request.path)


def api_refused(request, status_code, reason):
    """A 400 or 403 Django gives outside a view (a Host not allowed, a refused User-Agent), as problem details."""
    reason = str(reason).rstrip(".") or TITLES[status_code]
    if reason[1:2].islower():  # "Forbidden user agent", not "GET/POST"
        reason = reason[0].lower() + reason[1:]
    return problem_response(status_code, f"The request was refused: {reason}.", request.path)


def database_failure_response(request, error):
    """
    The 503 with Retry-After for a request that met a database failure (problem details under /api/, plain text
    elsewhere), or None when ``error`` is no such failure.
    """
    kind = failures.database_failure(error)
    if kind is None:
        return None
    detail, wait = DATABASE_FAILURES[kind]
    if request.path.startswith("/api/"):
        response = problem_response(503, detail, request.get_full_path(), kind=kind)
    else:
        text = f"Service unavailable. {detail}\n"
        response = HttpResponse(text, status=503, content_type="text/plain; charset=utf-8")
    response["Retry-After"] = str(wait)
    return response


class DatabaseFailureMiddleware:
    """
    Answer a view's database failure (db/failures.py) with a 503 and Retry-After instead of a 500, for the views
    outside DRF (the admin); DRF's views get the same from problem_exception_handler, and a failure raised by a
    middleware, before or after any view, gets it from server_error.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        return database_failure_response(request, exception)


def server_error(request):
    """
    The answer to an exception nothing else answered (Django's handler500, with DEBUG off): a 503 for a database
    failure, else a 500, as problem details under /api/ and Django's page elsewhere.
    """
    failure = database_failure_response(request, sys.exc_info()[1])
    if failure is not None:
        return failure
    if request.path.startswith("/api/"):
        return api_server_error(request)
    return defaults.server_error(request)


def api_server_error(request):
    """500 as problem details; the traceback goes to the log, never to the client."""
    return problem_response(500, "An unexpected error occurred. It has been logged.", request.path)


class Conflict(exceptions.APIException):
    """409: the request is valid but the data's current state forbids it (e.g. deleting a used speaker)."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state of the data."
    default_code = "conflict"


class DatabaseFailure(exceptions.APIException):
    """503: a database failure the request may get past later (db/failures.py); nothing was written."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE

    def __init__(self, kind):
        self.problem_type = kind
        detail, self.wait = DATABASE_FAILURES[kind]
        super().__init__(detail, code=kind)
