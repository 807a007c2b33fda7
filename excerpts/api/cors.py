"""
Cross-origin requests to the API (django-cors-headers, configured in project/settings.py).

Anyone may read the API from a page on any origin: the answer carries ``Access-Control-Allow-Origin: *`` and no
``Access-Control-Allow-Credentials``, so a browser sends no cookies and shows the page nothing a cookie would have
unlocked. Only the origins in ``settings.CORS_CREDENTIALED_ORIGINS`` get their own origin back with
``Access-Control-Allow-Credentials: true``, so that a page there may send the admin session cookie. A token
(``Authorization: Token ...``) is no cookie: any origin's page holding one may send it, and preflights allow it.
"""

from corsheaders.middleware import ACCESS_CONTROL_ALLOW_CREDENTIALS, ACCESS_CONTROL_ALLOW_ORIGIN, CorsMiddleware
from django.conf import settings


class ApiCorsMiddleware(CorsMiddleware):
    """django-cors-headers' middleware, letting the configured origins, and only them, send credentials."""

    def add_response_headers(self, request, response):
        response = super().add_response_headers(request, response)
        origin = request.headers.get("origin")
        if response.has_header(ACCESS_CONTROL_ALLOW_ORIGIN) and origin in settings.CORS_CREDENTIALED_ORIGINS:
            response[ACCESS_CONTROL_ALLOW_ORIGIN] = origin
            response[ACCESS_CONTROL_ALLOW_CREDENTIALS] = "true"
        return response
