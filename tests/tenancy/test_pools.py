"""Pools subdivide a tenant's quota and queues come from an allow-list, both set by the platform
admin (README, "Roles"): on the local engine with a real worker, and in the rendered DAG."""
import ast

import pytest

from tenancy.models import Tenant
from tests.runs.conftest import engine, worker  # noqa: F401 - the real worker of the engine tests
from tests.runs.support import nodes_of, wait_run


@pytest.fixture
def quick(nb):
    nb("quick.ipynb", "x = 1", "y = x")


def test_pool_slots_are_carved_out_of_the_quota(db):
    tenant = Tenant(slug="t", name="T", concurrency_quota=8, pools={"heavy": 2, "gpu": 1})
    assert tenant.pool_slots() == {None: 5, "heavy": 2, "gpu": 1}
    assert sum(tenant.pool_slots().values()) == tenant.concurrency_quota
    assert tenant.pool_of("heavy") == "heavy" and tenant.pool_of("gone") is None and tenant.pool_of(None) is None


def test_a_node_names_only_the_tenants_pools_and_queues(api, root_api, tenant, quick):
    graph = {"name": "placed", "nodes": [{"id": "n", "notebook": "quick.ipynb", "pool": "heavy", "queue": "gpu"}]}
    saved = api.post("/api/tenants/acme/workflows/", graph, format="json").json()  # kept as a draft
    wid = saved["id"]
    assert {(e["field"], e["message"]) for e in saved["errors"]} == {
        ("pool", "No pool 'heavy' in this tenant (it has: nothing); a platform admin defines pools."),
        ("queue", "Queue 'gpu' is not allowed in this tenant (allowed: nothing); a platform admin sets allowed_queues."),
    }
    refused = api.post(f"/api/tenants/acme/workflows/{wid}/runs/", {}, format="json")
    assert refused.status_code == 400 and {e["field"] for e in refused.json()["errors"]} == {"pool", "queue"}
    assert api.get(f"/api/tenants/acme/workflows/{wid}/dag/").status_code == 400

    assert root_api.patch("/api/tenants/acme/", {"pools": {"heavy": 2}, "allowed_queues": ["gpu"]},
                          format="json").status_code == 200
    assert api.post(f"/api/tenants/acme/workflows/{wid}/validate/", {}, format="json").json()["errors"] == []
    source = api.get(f"/api/tenants/acme/workflows/{wid}/dag/").content.decode()
    call = next(c for c in ast.walk(ast.parse(source)) if isinstance(c, ast.Call)
                and getattr(c.func, "attr", "") == "override" and getattr(c.func.value, "id", "") == "run_node")
    kwargs = {k.arg: ast.literal_eval(k.value) for k in call.keywords if k.arg in ("pool", "queue")}
    assert kwargs == {"pool": "loom__acme__heavy", "queue": "gpu"}  # sized 2 by the deploy; the rest 6


def test_pooled_nodes_share_the_tenants_quota_on_the_local_engine(engine, api, tenant, nb, workflow, tmp_path):
    """Quota 3, pool `heavy` of 1: three pooled items and three plain ones never run more than
    three at once, the pooled ones one at a time, and the plain ones get the other two slots."""
    from runs.models import NodeRun

    tenant.concurrency_quota, tenant.pools = 3, {"heavy": 1}
    tenant.save()
    gate = tmp_path / "gate"
    nb("blocks.ipynb", "n = 0\ngate = ''", "import os, time\nwhile not os.path.exists(gate):\n    time.sleep(0.05)")
    fan = {"notebook": "blocks.ipynb", "map_over": "ns", "map_parameter": "n", "parameters": {"gate": str(gate)}}
    wid = workflow(parameters=[{"name": "ns", "type": "list", "default": [0, 1, 2]}],
                   nodes=[{"id": "pooled", "pool": "heavy", **fan}, {"id": "plain", **fan}])
    run = api.post(f"/api/tenants/acme/workflows/{wid}/runs/", {}, format="json").json()

    def running(detail):
        return sorted(k for k, v in nodes_of(detail).items() if isinstance(k, tuple) and v["status"] == "running")

    detail = wait_run(api, "acme", run["id"], until=lambda d: len(running(d)) == 3)
    assert running(detail) == [("plain", 0), ("plain", 1), ("pooled", 0)]
    assert NodeRun.objects.filter(run_id=run["id"], pool="heavy", token="").exclude(map_index=None).count() == 2
    gate.write_text("open")
    assert wait_run(api, "acme", run["id"], timeout=90)["status"] == "success"

    items = list(NodeRun.objects.filter(run_id=run["id"]).exclude(map_index=None))
    assert _overlap([(r.started_at, r.ended_at) for r in items]) == 3  # the quota, all of it, no more
    assert _overlap([(r.started_at, r.ended_at) for r in items if r.node == "pooled"]) == 1


def _overlap(spans) -> int:
    return max(sum(1 for s, e in spans if s <= start < e) for start, _ in spans)
