from django.contrib import admin
from django.core.exceptions import DisallowedHost
from django.urls import include, path
from django.views import defaults

from excerpts.api.health import healthz, readyz
from excerpts.api.home import home
from excerpts.api.problems import api_not_found, api_refused, server_error

urlpatterns = [
    path("", home, name="home"),
    # Probes for load balancers: the process answers; the database is ready (excerpts/api/health.py).
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("api/", include("excerpts.api.urls")),
]


def handler400(request, exception):
    """
    Problem details under /api/, Django's page elsewhere: what Django refuses outside a view (a Host not allowed, more
    query parameters than DATA_UPLOAD_MAX_NUMBER_FIELDS read by a middleware).
    """
    if not request.path.startswith("/api/"):
        return defaults.bad_request(request, exception)
    if isinstance(exception, DisallowedHost):
        return api_refused(request, 400, "its Host header names a host this server does not answer for")
    return api_refused(request, 400, exception)


def handler403(request, exception):
    """Problem details under /api/, Django's page elsewhere: CommonMiddleware's refusal of a User-Agent, say."""
    if not request.path.startswith("/api/"):
        return defaults.permission_denied(request, exception)
    return api_refused(request, 403, exception)


def handler404(request, exception):
    """Problem details under /api/, Django's page elsewhere."""
    if request.path.startswith("/api/"):
        return api_not_found(request, exception)
    return defaults.page_not_found(request, exception)


# A database failure is a 503 with Retry-After, anything else a 500 (problem details under /api/).
handler500 = server_error
