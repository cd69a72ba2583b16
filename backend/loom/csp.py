"""The Content-Security-Policy of every page Loom serves: the editor, Django's admin, the API's
Swagger UI and DRF's browsable API. Each loads only its own origin's files and talks only to its
own origin, so an injected <script> or a remote load is refused by the browser. Inline styles stay
allowed (React Flow positions nodes with them; so do the admin and Swagger UI), inline scripts do
not (none of these pages has one: Swagger UI is served split, its script a file of its own).

A response that sets its own policy keeps it: executed notebooks get a stricter one
(loom.notebook_html)."""

POLICY = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
          "font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
          "frame-ancestors 'none'")


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", POLICY)
        return response
