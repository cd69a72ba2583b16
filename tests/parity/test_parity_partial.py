"""Parity of partial runs, the cache and repair with a fix: the same requests on the local engine
and on a real Airflow 3.3 give the same runs (statuses, outputs, which node runs were reused or
cached, the version each node ran on). On Airflow the DAG file stays the same: the DAG run's conf
carries the outputs of the nodes that do not run (runs.reuse.REUSE_CONF)."""
import pytest

from tests.runs.support import nodes_of, wait_run

pytestmark = pytest.mark.airflow
ENGINES = ("airflow", "local")


def _chain(nb, workflow, last="step.ipynb"):
    nb("step.ipynb", "x: int = 1", "y = x + 1")
    return workflow(nodes=[{"id": "a", "notebook": "step.ipynb", "outputs": ["y"]},
                           {"id": "b", "notebook": "step.ipynb", "outputs": ["y"]},
                           {"id": "c", "notebook": last, "outputs": ["y"]}],
                    edges=[{"source": "a", "target": "b", "bind": {"y": "x"}}, {"source": "b", "target": "c", "bind": {"y": "x"}}])


def _both(api, tenant, wid, body_of) -> dict:
    """Start a run on each engine (body_of(engine) -> the POST body) and wait for both."""
    ids = {}
    for engine in ENGINES:
        response = api.post(f"/api/tenants/{tenant.slug}/workflows/{wid}/runs/", {"engine": engine, **body_of(engine)}, format="json")
        assert response.status_code == 201, (engine, response.content)
        ids[engine] = response.json()["id"]
    return {engine: wait_run(api, tenant.slug, pk, timeout=240) for engine, pk in ids.items()}


def _shape(detail: dict) -> dict:
    return {node: (n["status"], n["outputs"], bool(n["reused_from"]), bool(n["cached_from"]), n["version"])
            for node, n in nodes_of(detail).items()}


def _errors(runs: dict) -> dict:
    """Each failed node's error and the end of its log (what Airflow's task said)."""
    from runs.models import NodeRun

    return {engine: {n["node"]: (n["error"]["message"], NodeRun.objects.get(run_id=d["id"], node=n["node"], map_index=None).log[-3000:])
                     for n in d["nodes"] if n["error"]} for engine, d in runs.items()}


def test_partial_runs_and_the_cache_agree(airflow_engine, api, tenant, nb, workflow):
    wid = _chain(nb, workflow)
    full = _both(api, tenant, wid, lambda engine: {})
    assert _shape(full["airflow"]) == _shape(full["local"]), _errors(full)
    assert full["local"]["status"] == "success" and nodes_of(full["local"])["c"]["outputs"] == {"y": 4}

    only = _both(api, tenant, wid, lambda engine: {"only": ["b"], "reuse": full[engine]["id"]})
    assert _shape(only["airflow"]) == _shape(only["local"]) == {
        "a": ("success", {"y": 2}, True, False, 1), "b": ("success", {"y": 3}, False, False, 1),
        "c": ("skipped", {}, False, False, 1)}
    for engine in ENGINES:
        assert nodes_of(only[engine])["a"]["reused_from"]["run"] == full[engine]["id"]

    frm = _both(api, tenant, wid, lambda engine: {"from": "b", "reuse": "latest"})
    assert _shape(frm["airflow"]) == _shape(frm["local"])
    assert [n["status"] for n in frm["local"]["nodes"]] == ["success"] * 3
    assert nodes_of(frm["airflow"])["c"]["outputs"] == {"y": 4}

    to = _both(api, tenant, wid, lambda engine: {"to": "b"})
    assert _shape(to["airflow"]) == _shape(to["local"])
    assert nodes_of(to["airflow"])["c"]["status"] == "skipped"

    # The cache: every node's inputs are those of an earlier success (either engine's: the key is the same).
    cached = _both(api, tenant, wid, lambda engine: {"cache": True})
    assert _shape(cached["airflow"]) == _shape(cached["local"])
    assert all(n["cached_from"] for n in cached["airflow"]["nodes"]), cached["airflow"]["nodes"]
    assert cached["airflow"]["status"] == "success" and nodes_of(cached["airflow"])["c"]["outputs"] == {"y": 4}


def test_repair_with_the_fix_agrees(airflow_engine, api, tenant, nb, workflow):
    nb("buggy.ipynb", "x: int = 1", "raise ValueError('a bug')")
    wid = _chain(nb, workflow, last="buggy.ipynb")
    failed = _both(api, tenant, wid, lambda engine: {})
    assert failed["airflow"]["status"] == failed["local"]["status"] == "failed"

    nb("buggy.ipynb", "x: int = 1", "y = x * 100")  # the fix, and a version of the workflow pinning it
    url = f"/api/tenants/{tenant.slug}/workflows/{wid}/"
    body = api.get(url).json()
    assert api.put(url, {**body["graph"], "base_version": body["version"]}, format="json").status_code == 200
    for engine in ENGINES:
        response = api.post(f"/api/tenants/{tenant.slug}/runs/{failed[engine]['id']}/repair/", {"version": "latest"}, format="json")
        assert response.status_code == 200, (engine, response.content)
    repaired = {engine: wait_run(api, tenant.slug, failed[engine]["id"], timeout=240) for engine in ENGINES}
    assert _shape(repaired["airflow"]) == _shape(repaired["local"]) == {
        "a": ("success", {"y": 2}, False, False, 1), "b": ("success", {"y": 3}, False, False, 1),
        "c": ("success", {"y": 300}, False, False, 2)}
    for engine in ENGINES:
        before, after = nodes_of(failed[engine]), nodes_of(repaired[engine])
        assert after["a"]["started_at"] == before["a"]["started_at"], engine  # kept, not rerun
        assert repaired[engine]["version"] == 2
