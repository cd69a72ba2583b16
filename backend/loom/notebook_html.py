"""A notebook as an HTML page served on Loom's origin without the risks of doing so; used by the
catalog (a version's preview) and runs (an executed notebook)."""
from django.http import HttpResponse
from rest_framework.negotiation import DefaultContentNegotiation

# A notebook is untrusted HTML (its outputs are whatever the notebook printed), served on
# Loom's origin. `sandbox` without allow-scripts/allow-same-origin makes the browser treat it as a
# page of an opaque origin that runs no script: no access to the session, cookies or the API. The
# rest stops remote loads (trackers, CDN scripts) and form posts; inline styles and data: images
# keep nbconvert's page readable. README, "Running workflows", says why this and not sanitizing.
NOTEBOOK_CSP = ("sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'; font-src data:; "
                "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")


class AnyFormat(DefaultContentNegotiation):
    """?format= chooses the notebook's format here, not DRF's renderer; errors stay JSON."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


def notebook_html_response(notebook_json: str) -> HttpResponse:
    """The notebook rendered by nbconvert, under the sandboxing headers above."""
    import nbformat
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter().from_notebook_node(nbformat.reads(notebook_json, as_version=4))
    return sandboxed_html_response(body)


def sandboxed_html_response(body: str) -> HttpResponse:
    """HTML holding what a notebook printed (an executed notebook, a diff of two), under the
    sandboxing headers above."""
    response = HttpResponse(body, content_type="text/html; charset=utf-8")
    response["Content-Security-Policy"] = NOTEBOOK_CSP
    response["X-Content-Type-Options"] = "nosniff"
    response["Referrer-Policy"] = "no-referrer"
    return response
