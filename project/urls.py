from django.contrib import admin
from django.urls import include, path
from django.views import defaults

from excerpts.api.health import healthz, readyz
from excerpts.api.home import home
from excerpts.api.problems import api_not_found, api_server_error

urlpatterns = [
    path("", home, name="home"),
    # Probes for load balancers: the process answers; the database is ready (excerpts/api/health.py).
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("api/", include("excerpts.api.urls")),
]


def handler404(request, exception):
    """Problem details under /api/, Django's page elsewhere."""
    if request.path.startswith("/api/"):
        return api_not_found(request, exception)
    return defaults.page_not_found(request, exception)


def handler500(request):
    if request.path.startswith("/api/"):
        return api_server_error(request)
    return defaults.server_error(request)
