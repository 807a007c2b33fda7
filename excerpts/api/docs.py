"""
The documentation pages, Swagger UI and ReDoc, under the site's Content-Security-Policy.

Neither page has inline script or style of its own: Swagger UI's start-up script is served from its own URL
(drf-spectacular's split view), and both pages' style resets are static files (templates/excerpts/docs/). Swagger UI
then renders within the site's policy. ReDoc's bundle needs more, and its page allows exactly that, by hash or by
URL rather than with 'unsafe-inline':

- styled-components creates empty <style> elements and fills them through the CSSOM (the hash of the empty string
  allows empty elements, nothing with content);
- the bundle inserts perfect-scrollbar's stylesheet as the text of a <style> element (its hash, for the bundle of
  the drf-spectacular-sidecar version requirements.txt pins; tests/test_docs_browser.py names the new hash if an
  upgrade changes the text);
- the search index is built in a worker made from a blob: URL;
- the sidebar shows Redocly's logo from its CDN (that one image; blocked, it would be a reported violation).
"""

from csp.constants import SELF
from csp.decorators import csp_replace
from django.utils.decorators import method_decorator
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerSplitView

from excerpts.csp import source_hash

EMPTY_STYLE_ELEMENT = source_hash("")
SCROLLBAR_STYLESHEET = "'sha256-QMIg+bpjm3JdElJ388KYke01izlUW0UoNOeKjpMxdgc='"
REDOCLY_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"

REDOC_POLICY = {
    "style-src": [SELF, EMPTY_STYLE_ELEMENT, SCROLLBAR_STYLESHEET],
    "worker-src": [SELF, "blob:"],
    "img-src": [SELF, "data:", REDOCLY_LOGO],
}


class SwaggerView(SpectacularSwaggerSplitView):
    template_name = "excerpts/docs/swagger_ui.html"


@method_decorator(csp_replace(REDOC_POLICY), "dispatch")
class RedocView(SpectacularRedocView):
    template_name = "excerpts/docs/redoc.html"
