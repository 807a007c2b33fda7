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
- the search index is built in a worker made from a blob: URL.

Nothing is loaded from elsewhere: the bundles are drf-spectacular-sidecar's static files, neither page links a web
font, Swagger UI's online validator is off (SWAGGER_UI_SETTINGS), and the Redocly logo ReDoc's sidebar would load
from Redocly's CDN is replaced before it is asked for (static/excerpts/docs/redoc-offline.js), so images stay
those of the site's policy.
"""

from csp.constants import SELF
from csp.decorators import csp_replace
from django.utils.decorators import method_decorator
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerSplitView

from excerpts.csp import source_hash

EMPTY_STYLE_ELEMENT = source_hash("")
SCROLLBAR_STYLESHEET = "'sha256-QMIg+bpjm3JdElJ388KYke01izlUW0UoNOeKjpMxdgc='"

REDOC_POLICY = {
    "style-src": [SELF, EMPTY_STYLE_ELEMENT, SCROLLBAR_STYLESHEET],
    "worker-src": [SELF, "blob:"],
}


class SwaggerView(SpectacularSwaggerSplitView):
    template_name = "excerpts/docs/swagger_ui.html"


@method_decorator(csp_replace(REDOC_POLICY), "dispatch")
class RedocView(SpectacularRedocView):
    template_name = "excerpts/docs/redoc.html"
