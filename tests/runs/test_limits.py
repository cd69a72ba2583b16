"""Limits on a real worker (README, "Limits"): a notebook that prints, outputs, loops or writes too
much fails (or is trimmed) naming the limit, and the same worker runs a benign workflow right after.
The worker of this module gets small limits through its environment, so each test takes seconds."""
import time

import pytest

from tests.runs.support import nodes_of, worker_fixtures

MB = 10**6
LIMITS = {"LOOM_STREAM_MAX_BYTES": str(MB), "LOOM_NOTEBOOK_OUTPUT_MAX_BYTES": str(2 * MB),
          "LOOM_OUTPUT_MAX_BYTES": "100000", "LOOM_NODE_TIMEOUT_S": "2", "LOOM_NODE_FILES_MAX": "5",
          "LOOM_NODE_ARTIFACTS_MAX_MB": "2", "LOOM_TENANT_ARTIFACTS_MAX_MB": "50"}


worker, engine = worker_fixtures("limits", **LIMITS)


@pytest.fixture
def benign(nb, workflow, run_wf):
    """Run a small workflow and check it succeeds: the worker carries on after a breach."""
    nb("benign.ipynb", "x = 1", "print('hello')\ny = x + 1")
    wid = workflow(nodes=[{"id": "ok", "notebook": "benign.ipynb", "parameters": {"x": 41}, "outputs": ["y"]}])

    def check():
        detail = run_wf(wid)
        assert detail["status"] == "success", detail
        assert nodes_of(detail)["ok"]["outputs"] == {"y": 42}

    return check


def run_one(nb, workflow, run_wf, *cells, node: dict | None = None, parameters: str = "x = 1") -> dict:
    nb("limit.ipynb", parameters, *cells)
    detail = run_wf(workflow(nodes=[{"id": "n", "notebook": "limit.ipynb", **(node or {})}]))
    return detail


def test_printing_hundreds_of_megabytes_is_cut_to_the_limit(engine, api, tenant, nb, workflow, run_wf, benign):
    from runs.models import NodeRun

    detail = run_one(nb, workflow, run_wf, "for _ in range(300):\n    print('x' * 999_999)\nvalue = 1",
                     node={"outputs": ["value"], "timeout_s": 60})
    node = nodes_of(detail)["n"]
    assert node["status"] == "success" and node["outputs"] == {"value": 1}  # cut visibly, not failed
    row = NodeRun.objects.get(run_id=detail["id"], node="n")
    marker = "[... 299 MB of output cut by Loom: the limit is 1 MB per node (LOOM_STREAM_MAX_BYTES)]"
    assert marker in row.notebook and marker in row.log
    assert len(row.notebook) < 1.2 * MB and len(row.log) < 1.2 * MB
    served = api.get(f"/api/tenants/{tenant.slug}/runs/{detail['id']}/nodes/n/notebook/")
    assert served.status_code == 200 and len(served.content) < 1.2 * MB
    benign()


def test_a_huge_output_value_fails_the_node_and_run_details_stay_small(engine, api, tenant, nb, workflow, run_wf,
                                                                       benign):
    detail = run_one(nb, workflow, run_wf, "big = 'x' * 50_000_000", node={"outputs": ["big"], "timeout_s": 60})
    node = nodes_of(detail)["n"]
    assert node["status"] == "failed"
    assert node["error"]["message"] == ("Output 'big' is 50 MB of JSON; the limit is 100 KB (LOOM_OUTPUT_MAX_BYTES): "
                                        "write large data to artifacts_dir and output its path.")
    polled = api.get(f"/api/tenants/{tenant.slug}/runs/{detail['id']}/")
    assert len(polled.content) < 20_000
    benign()


def test_a_loop_without_a_timeout_stops_at_the_default_timeout(engine, nb, workflow, run_wf, benign):
    started = time.monotonic()
    detail = run_one(nb, workflow, run_wf, "while True:\n    pass")
    node = nodes_of(detail)["n"]
    assert node["status"] == "failed" and time.monotonic() - started < 30
    assert node["error"]["message"] == ("Timed out after 2 s while cell 2 ran (LOOM_NODE_TIMEOUT_S, the default for "
                                        "nodes without timeout_s); the kernel was stopped.")
    benign()


def test_a_node_writing_more_files_than_allowed_fails(engine, nb, workflow, run_wf, benign):
    detail = run_one(nb, workflow, run_wf, "for i in range(8):\n    open(f'{artifacts_dir}/f{i}', 'w').write('x')",
                     parameters="artifacts_dir = '.'")
    node = nodes_of(detail)["n"]
    assert node["status"] == "failed"
    assert node["error"]["message"] == "The node wrote 8 files in its folder; the limit is 5 per node (LOOM_NODE_FILES_MAX)."
    benign()


def test_a_tenant_over_its_artifacts_quota_cannot_start_nodes(engine, benign, other_tenant, make_user, client_for):
    from django.conf import settings

    from helpers import notebook_bytes, upload
    from tests.runs.support import wait_run

    # A tenant this worker has not measured yet (it keeps a tenant's usage for a few seconds).
    other_tenant.artifacts_quota_mb = 1
    other_tenant.save()
    old = settings.LOOM_ARTIFACTS_DIR / other_tenant.slug / "old-run"
    old.mkdir(parents=True)
    (old / "data").write_bytes(b"x" * 1_500_000)
    olga = client_for(make_user("olga", other_tenant))
    assert upload(olga, other_tenant.slug, "o.ipynb", notebook_bytes("x = 1", "y = x")).status_code == 201
    graph = {"name": "o", "nodes": [{"id": "o", "notebook": "o.ipynb", "outputs": ["y"]}], "edges": [], "parameters": []}
    wid = olga.post(f"/api/tenants/{other_tenant.slug}/workflows/", graph, format="json").json()["id"]
    run = olga.post(f"/api/tenants/{other_tenant.slug}/workflows/{wid}/runs/", {"engine": "local"}, format="json").json()
    node = nodes_of(wait_run(olga, other_tenant.slug, run["id"]))["o"]
    assert node["status"] == "failed" and node["attempts"] == 1
    assert node["error"]["message"] == (f"Tenant '{other_tenant.slug}' has 1.5 MB of artifacts; the limit is 1 MB (the "
                                        "tenant's artifacts_quota_mb). Delete old runs' artifacts, or ask an admin for "
                                        "more room.")
    benign()  # another tenant's run, right after, on the same worker


def test_a_file_past_the_size_limit_fails_the_node_naming_it_in_pooled_and_forked_kernels(engine, nb, workflow, run_wf,
                                                                                          benign):
    """One file may be at most LOOM_NODE_ARTIFACTS_MAX_MB (2 MB here), whatever kernel runs it: a
    plain node's (pre-started, in its own sandbox) and a fanned-out item's (forked in its run's
    sandbox). The kernel sets the limit on itself: a root worker without CAP_SYS_RESOURCE could
    not set it from outside, and the file grew unbounded."""
    nb("big.ipynb", "artifacts_dir = '.'\nn = 0",
       "with open(f'{artifacts_dir}/big', 'wb') as f:\n    for _ in range(6):\n        f.write(b'x' * 500_000)")
    wid = workflow(parameters=[{"name": "ns", "type": "list", "default": [1, 2]}],
                   nodes=[{"id": "plain", "notebook": "big.ipynb"},
                          {"id": "each", "notebook": "big.ipynb", "map_over": "ns", "map_parameter": "n"}])
    nodes = nodes_of(run_wf(wid, timeout=90))
    hint = "File too large (one file may be at most 2 MB: LOOM_NODE_ARTIFACTS_MAX_MB)"
    for key in ("plain", ("each", 0), ("each", 1)):  # cell 3: after the injected parameters
        assert nodes[key]["status"] == "failed", nodes[key]
        assert nodes[key]["error"]["message"].startswith("Cell 3 raised OSError: [Errno 27] File too large"), nodes[key]
        assert nodes[key]["error"]["message"].endswith(hint), nodes[key]
    benign()
