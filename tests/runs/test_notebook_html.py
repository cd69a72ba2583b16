"""An executed notebook served as HTML cannot run anything on Loom's origin (issue 11): a
notebook whose output is a <script> is served with a sandboxing Content-Security-Policy."""
from tests.runs.support import nodes_of

SCRIPT_CELL = (
    "from IPython.display import HTML, display\n"
    "display(HTML(\"<script>fetch('/api/auth/me/').then(r => r.text())"
    ".then(t => document.body.setAttribute('data-stolen', t))</script><p id='marker'>shown</p>\"))"
)


def test_the_html_of_an_executed_notebook_is_sandboxed(engine, api, tenant, nb, workflow, run_wf):
    nb("evil.ipynb", None, SCRIPT_CELL)
    detail = run_wf(workflow(nodes=[{"id": "evil", "notebook": "evil.ipynb"}]))
    assert nodes_of(detail)["evil"]["status"] == "success", detail
    url = f"/api/tenants/{tenant.slug}/runs/{detail['id']}/nodes/evil/notebook/"

    html = api.get(url + "?format=html")
    assert html.status_code == 200 and html["Content-Type"] == "text/html; charset=utf-8"
    assert b"<script>fetch('/api/auth/me/')" in html.content  # served as the notebook printed it ...
    csp = [d.strip() for d in html["Content-Security-Policy"].split(";")]
    assert csp[0] == "sandbox"  # ... but in an opaque origin with no scripts: no allow-* tokens
    assert "default-src 'none'" in csp and "img-src data:" in csp and "frame-ancestors 'none'" in csp
    assert html["X-Content-Type-Options"] == "nosniff"

    ipynb = api.get(url)
    assert ipynb["Content-Disposition"].startswith("attachment;") and ipynb["X-Content-Type-Options"] == "nosniff"
