"""A connection's secret `extra` keys on the local engine: in the kernel, scrubbed from all it leaves."""
import json

import pytest

from tests.runs.support import nodes_of

TOKEN = "tok<en>&api-0123"


def _run_crm(engine_name, api, admin_api, tenant, nb, workflow, run_wf):
    response = admin_api.post(f"/api/tenants/{tenant.slug}/connections/", {
        "name": "crm", "kind": "http", "host": "crm.example.com", "extra": {"token": TOKEN, "region": "eu-1"}},
        format="json")
    assert response.status_code == 201, response.content
    nb("crm.ipynb", "x = 1",
       "import html, json, os, time\nextra = json.loads(os.environ['LOOM_CONN_CRM_EXTRA'])\ntoken = extra['token']\n"
       "print(token[:6], end='', flush=True)\ntime.sleep(0.3)\nprint(token[6:], flush=True)\n"
       "print(html.escape(token))\nseen = f\"{sorted(extra)} {extra['region']} {len(token)}\"\nleaked = token")
    wid = workflow(nodes=[{"id": "crm", "notebook": "crm.ipynb", "connections": ["crm"], "outputs": ["seen", "leaked"]}])
    detail = run_wf(wid, engine=engine_name, timeout=180)
    node = nodes_of(detail)["crm"]
    assert node["status"] == "success", node
    # The kernel got the token (and no list of secret keys); what came back has it scrubbed.
    assert node["outputs"] == {"seen": f"['region', 'token'] eu-1 {len(TOKEN)}", "leaked": "********"}

    from runs.models import NodeRun

    row = NodeRun.objects.get(run_id=detail["id"], node="crm")
    base = f"/api/tenants/{tenant.slug}/runs/{detail['id']}"
    stored = api.get(f"{base}/nodes/crm/notebook/").content.decode()
    for text in [json.dumps(api.get(f"{base}/").json()), row.notebook, row.log, stored]:
        assert TOKEN not in text and TOKEN[6:] not in text and "tok&lt;en" not in text
    assert "********" in stored
    return row


def test_secret_extra_key_reaches_the_kernel_and_is_scrubbed_even_in_pieces(engine, api, admin_api, tenant, nb,
                                                                             workflow, run_wf):
    row = _run_crm("local", api, admin_api, tenant, nb, workflow, run_wf)
    assert "********" in row.log


@pytest.mark.airflow
def test_secret_extra_key_on_airflow(airflow_engine, api, admin_api, tenant, nb, workflow, run_wf):
    _run_crm("airflow", api, admin_api, tenant, nb, workflow, run_wf)
