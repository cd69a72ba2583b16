"""Parity of partial runs, the cache and repair with a fix: the same requests on the local engine
and on a real Airflow 3.3 give the same runs (statuses, outputs, which node runs were reused or
cached, the version each node ran on). On Airflow the DAG file stays the same: the DAG run's conf
carries the outputs of the nodes that do not run (runs.reuse.REUSE_CONF), a fanned-out node's too."""
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
    """Per node: status, outputs, reused?, cached?, version; per item of a fanned-out node: status, outputs, its value."""
    return {key: (n["status"], n["outputs"], n["item"]) if "item" in n else
            (n["status"], n["outputs"], bool(n["reused_from"]), bool(n["cached_from"]), n["version"])
            for key, n in nodes_of(detail).items()}


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


def test_a_fanned_out_node_is_reused_by_a_partial_run_and_kept_by_a_repair_with_the_fix(airflow_engine, api, tenant, nb, workflow):
    """a → b (fanned out over a.xs) → c, which fails. Once c is fixed, a run `from` c reuses a and b
    (on Airflow b's items do not run: the conf gives its outputs, fanned in), and the repair on the
    new version keeps them."""
    from runs.models import NodeRun, Run

    nb("list.ipynb", "n: int = 2", "xs = list(range(1, n + 1))")
    nb("step.ipynb", "x: int = 1", "y = x + 1")
    nb("buggy.ipynb", "ys: list = []", "raise ValueError('a bug')")
    wid = workflow(nodes=[{"id": "a", "notebook": "list.ipynb", "outputs": ["xs"]},
                          {"id": "b", "notebook": "step.ipynb", "map_over": "a.xs", "map_parameter": "x", "outputs": ["y"]},
                          {"id": "c", "notebook": "buggy.ipynb", "outputs": ["total"]}],
                   edges=[{"source": "a", "target": "b", "bind": {}}, {"source": "b", "target": "c", "bind": {"y": "ys"}}])
    failed = _both(api, tenant, wid, lambda engine: {})
    assert failed["airflow"]["status"] == failed["local"]["status"] == "failed"
    assert _shape(failed["airflow"]) == _shape(failed["local"]), _errors(failed)

    nb("buggy.ipynb", "ys: list = []", "total = sum(ys) * 100")  # the fix, and a version of the workflow pinning it
    url = f"/api/tenants/{tenant.slug}/workflows/{wid}/"
    body = api.get(url).json()
    assert api.put(url, {**body["graph"], "base_version": body["version"]}, format="json").status_code == 200
    fanned_in = {"y": [2, 3], "map_items": [1, 2]}  # what c receives on the local engine

    frm = _both(api, tenant, wid, lambda engine: {"from": "c", "reuse": failed[engine]["id"]})
    assert _shape(frm["airflow"]) == _shape(frm["local"]) == {
        "a": ("success", {"xs": [1, 2]}, True, False, 1), "b": ("success", fanned_in, True, False, 1),
        "c": ("success", {"total": 500}, False, False, 2)}, _errors(frm)
    for engine in ENGINES:
        b = nodes_of(frm[engine])["b"]
        source = NodeRun.objects.get(run_id=failed[engine]["id"], node="b", map_index=None)
        assert b["reused_from"] == {"run": failed[engine]["id"], "node_run": source.pk}, engine
        assert b["items"] is None, engine  # its items did not run in this run
    # On Airflow no task of b executed a notebook (each would leave its folder, as c did).
    dag_run_id = Run.objects.get(pk=frm["airflow"]["id"]).external_id
    executed = {p.name for p in (airflow_engine.root / "artifacts").glob(f"*/*/{dag_run_id}/*")}
    assert executed == {"c"}, executed

    for engine in ENGINES:
        response = api.post(f"/api/tenants/{tenant.slug}/runs/{failed[engine]['id']}/repair/", {"version": "latest"}, format="json")
        assert response.status_code == 200, (engine, response.content)
    repaired = {engine: wait_run(api, tenant.slug, failed[engine]["id"], timeout=240) for engine in ENGINES}
    assert _shape(repaired["airflow"]) == _shape(repaired["local"]) == {
        "a": ("success", {"xs": [1, 2]}, False, False, 1), "b": ("success", fanned_in, False, False, 1),
        ("b", 0): ("success", {"y": 2}, 1), ("b", 1): ("success", {"y": 3}, 2),
        "c": ("success", {"total": 500}, False, False, 2)}, _errors(repaired)
    for engine in ENGINES:
        before, after = nodes_of(failed[engine]), nodes_of(repaired[engine])
        for kept in ("a", "b", ("b", 0), ("b", 1)):  # kept, not rerun (on Airflow: fed to the repair's new DAG run)
            assert after[kept]["started_at"] == before[kept]["started_at"], (engine, kept)
        assert repaired[engine]["version"] == 2
        assert after["b"]["items"] == {"success": 2}, engine
    # On Airflow a kept item's log is its task's in the first DAG run, where the repair left it: read
    # from there when first asked for (the mirror took the item's result from the artifacts folder).
    log = api.get(f"/api/tenants/{tenant.slug}/runs/{failed['airflow']['id']}/nodes/b/log/?map_index=0").json()["text"]
    assert "Returned value was: {'y': 2}" in log and "Loom gave this node's outputs" not in log, log[-3000:]
