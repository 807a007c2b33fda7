"""
The site's Content-Security-Policy (django-csp's middleware, CONTENT_SECURITY_POLICY in settings), with what the
admin's pages add to it.

Django's own admin renders within the site's policy. Two apps the admin carries write inline attributes in their
templates: django-import-export's export page (two style attributes and the "Select all" toggle's onchange
handler) and django-simple-history's history list (one style attribute). Admin pages allow exactly those values by
hash ('unsafe-hashes' lets a hash match an attribute), not inline attributes at large; an upgrade that changes one
fails tests/test_docs_browser.py, which walks those pages.
"""

import base64
import hashlib

from csp.constants import UNSAFE_HASHES
from csp.middleware import CSPMiddleware as BaseCSPMiddleware


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


class CSPMiddleware(BaseCSPMiddleware):
    """django-csp's middleware, adding ADMIN_POLICY on the admin's pages."""

    def get_policy_parts(self, request, response, report_only=False):
        parts = super().get_policy_parts(request, response, report_only=report_only)
        match = getattr(request, "resolver_match", None)
        if match is not None and "admin" in match.namespaces:
            parts.update = {**ADMIN_POLICY, **(parts.update or {})}
        return parts
