"""A connection's secret `extra` keys on the local engine: in the kernel, scrubbed from all it leaves."""
import json

from tests.runs.support import nodes_of

TOKEN = "tok<en>&api-0123"


def test_secret_extra_key_reaches_the_kernel_and_is_scrubbed_even_in_pieces(engine, api, admin_api, tenant, nb,
                                                                             workflow, run_wf):
    response = admin_api.post(f"/api/tenants/{tenant.slug}/connections/", {
        "name": "crm", "kind": "http", "host": "crm.example.com", "extra": {"token": TOKEN, "region": "eu-1"}},
        format="json")
    assert response.status_code == 201, response.content
    nb("crm.ipynb", "x = 1",
       "import html, json, os, time\nextra = json.loads(os.environ['LOOM_CONN_CRM_EXTRA'])\ntoken = extra['token']\n"
       "print(token[:6], end='', flush=True)\ntime.sleep(0.3)\nprint(token[6:], flush=True)\n"
       "print(html.escape(token))\nseen = f\"{extra['region']} {len(token)}\"\nleaked = token")
    wid = workflow(nodes=[{"id": "crm", "notebook": "crm.ipynb", "connections": ["crm"], "outputs": ["seen", "leaked"]}])
    detail = run_wf(wid)
    node = nodes_of(detail)["crm"]
    assert node["status"] == "success", node
    assert node["outputs"] == {"seen": f"eu-1 {len(TOKEN)}", "leaked": "********"}

    from runs.models import NodeRun

    row = NodeRun.objects.get(run_id=detail["id"], node="crm")
    base = f"/api/tenants/{tenant.slug}/runs/{detail['id']}"
    texts = [json.dumps(api.get(f"{base}/").json()), row.notebook, row.log,
             api.get(f"{base}/nodes/crm/notebook/").content.decode()]
    for text in texts:
        assert TOKEN not in text and TOKEN[6:] not in text and "tok&lt;en" not in text
    assert "********" in row.log
