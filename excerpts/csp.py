"""
The site's Content-Security-Policy (django-csp's middleware, CONTENT_SECURITY_POLICY in settings), with what the
admin's pages add to it.

Django's own admin renders within the site's policy. Two apps the admin carries write inline attributes in their
templates: django-import-export's export page (two style attributes and the "Select all" toggle's onchange
handler) and django-simple-history's history list (one style attribute). Admin pages allow exactly those values by
hash ('unsafe-hashes' lets a hash match an attribute), not inline attributes at large; an upgrade that changes one
fails tests/test_docs_browser.py, which walks those pages.

Every other answer (the API's) carries the site's policy as configured, so its header is built once per process
and set as built; django-csp builds it anew for each response, which cost a fifth of a repeated read.
"""

import base64
import functools
import hashlib

from csp.constants import HEADER, HEADER_REPORT_ONLY, UNSAFE_HASHES
from csp.middleware import CheckableLazyObject
from csp.middleware import CSPMiddleware as BaseCSPMiddleware
from csp.utils import build_policy
from django.conf import settings


def source_hash(text):
    """The CSP source expression that allows inline content (an element's text or an attribute's value) ``text``."""
    digest = base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()
    return f"'sha256-{digest}'"


ADMIN_STYLE_ATTRIBUTES = ["padding: 0;", "font-weight: bold;", "border-top: 0"]
ADMIN_EVENT_HANDLERS = ["onSelectToggleChange(event)"]
ADMIN_POLICY = {
    "style-src-attr": [UNSAFE_HASHES, *map(source_hash, ADMIN_STYLE_ATTRIBUTES)],
    "script-src-attr": [UNSAFE_HASHES, *map(source_hash, ADMIN_EVENT_HANDLERS)],
}


# What a view sets on its response to change or lift the policy for it (django-csp's decorators).
CHANGES = (
    "_csp_config",
    "_csp_update",
    "_csp_replace",
    "_csp_exempt",
    "_csp_config_ro",
    "_csp_update_ro",
    "_csp_replace_ro",
    "_csp_exempt_ro",
)


@functools.lru_cache(maxsize=4)
def _site_headers(policy, report_only):
    headers = {HEADER: build_policy(), HEADER_REPORT_ONLY: build_policy(report_only=True)}
    return {name: value for name, value in headers.items() if value}


def site_headers():
    """The headers of the site's policy as settings configure it: what django-csp sets when nothing changes it."""
    policy = getattr(settings, "CONTENT_SECURITY_POLICY", None)
    report_only = getattr(settings, "CONTENT_SECURITY_POLICY_REPORT_ONLY", None)
    # Keyed by the settings' text, so a changed setting (a test's) is built anew.
    return _site_headers(repr(policy), repr(report_only))


class CSPMiddleware(BaseCSPMiddleware):
    """django-csp's middleware: ADMIN_POLICY added on the admin's pages, the site's policy set as built once."""

    def process_response(self, request, response):
        if not self.unchanged(request, response):
            return super().process_response(request, response)
        for name, value in site_headers().items():
            if name not in response:
                response[name] = value
        # As django-csp does: a nonce asked for once the header is written is an error, not a silent omission.
        request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)
        return response

    def unchanged(self, request, response):
        """Whether the site's policy applies as configured, with nothing added, lifted or excluded."""
        match = getattr(request, "resolver_match", None)
        return not (
            getattr(request, "_csp_nonce", None) is not None
            or any(hasattr(response, name) for name in CHANGES)
            or (match is not None and "admin" in match.namespaces)
            or (settings.DEBUG and response.status_code in (404, 500))
            or (getattr(settings, "CONTENT_SECURITY_POLICY", None) or {}).get("EXCLUDE_URL_PREFIXES")
            or (getattr(settings, "CONTENT_SECURITY_POLICY_REPORT_ONLY", None) or {}).get("EXCLUDE_URL_PREFIXES")
        )

    def get_policy_parts(self, request, response, report_only=False):
        parts = super().get_policy_parts(request, response, report_only=report_only)
        match = getattr(request, "resolver_match", None)
        if match is not None and "admin" in match.namespaces:
            parts.update = {**ADMIN_POLICY, **(parts.update or {})}
        return parts
