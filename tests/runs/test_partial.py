"""Partial runs, the cache and repair with a fix on the local engine: API → real worker → real kernels."""
import pytest

from runs.models import NodeRun
from tests.runs.support import nodes_of, wait_run


@pytest.fixture
def chain(nb, workflow):
    """a → b → c: each adds its step to the value it receives and counts its executions in a file."""
    def make(tmp_path, **node_extra):
        counter = tmp_path / "count"
        counter.mkdir(exist_ok=True)
        code = (f"import pathlib\np = pathlib.Path({str(counter)!r}) / name\n"
                "p.write_text(str(int(p.read_text()) + 1 if p.exists() else 1))\ny = x + step")
        nb("step.ipynb", "x = 0\nstep = 1\nname = ''", code)
        node = lambda nid, step: {"id": nid, "notebook": "step.ipynb", "outputs": ["y"],  # noqa: E731
                                  "parameters": {"step": step, "name": nid}, **node_extra.get(nid, {})}
        wid = workflow(nodes=[node("a", 1), node("b", 10), node("c", 100)],
                       edges=[{"source": "a", "target": "b", "bind": {"y": "x"}},
                              {"source": "b", "target": "c", "bind": {"y": "x"}}],
                       parameters=[{"name": "x", "type": "int", "default": 0}])
        counts = lambda: {p.name: int(p.read_text()) for p in counter.iterdir()}  # noqa: E731
        return wid, counts
    return make


def start(api, tenant, wid, **body):
    response = api.post(f"/api/tenants/{tenant.slug}/workflows/{wid}/runs/", body, format="json")
    return response


def save(api, url, graph):
    """Save the graph as the workflow's next version."""
    body = api.get(url).json()
    response = api.put(url, {**graph, "base_version": body["version"]}, format="json")
    assert response.status_code == 200, response.content


def finished(api, tenant, response):
    assert response.status_code == 201, response.content
    return wait_run(api, tenant.slug, response.json()["id"])


def test_partial_runs_only_from_to_reuse_what_is_outside(engine, api, tenant, chain, tmp_path):
    wid, counts = chain(tmp_path)
    full = finished(api, tenant, start(api, tenant, wid))
    assert full["status"] == "success" and counts() == {"a": 1, "b": 1, "c": 1}
    full_nodes = nodes_of(full)

    plan = api.post(f"/api/tenants/{tenant.slug}/workflows/{wid}/runs/plan/", {"only": ["b"], "reuse": "latest"}, format="json")
    assert plan.status_code == 200, plan.content
    a_row = full_nodes["a"]
    assert [(p["node"], p["action"], (p["source"] or {}).get("run")) for p in plan.json()] == [
        ("a", "reused", full["id"]), ("b", "run", None), ("c", "skipped", None)]
    cached = api.post(f"/api/tenants/{tenant.slug}/workflows/{wid}/runs/plan/", {"cache": True}, format="json").json()
    assert [p["action"] for p in cached] == ["cached", "cached", "cached"] and a_row["status"] == "success"
    assert counts() == {"a": 1, "b": 1, "c": 1}  # a plan runs nothing

    only = finished(api, tenant, start(api, tenant, wid, only=["b"], reuse=full["id"]))
    nodes = nodes_of(only)
    assert only["status"] == "success" and counts() == {"a": 2 - 1, "b": 2, "c": 1}
    assert nodes["a"]["status"] == "success" and nodes["a"]["outputs"] == {"y": 1}
    assert nodes["a"]["reused_from"]["run"] == full["id"]
    assert NodeRun.objects.get(pk=nodes["a"]["reused_from"]["node_run"]).node == "a"
    assert nodes["b"]["reused_from"] is None and nodes["b"]["outputs"] == {"y": 11}
    assert nodes["c"]["status"] == "skipped"  # downstream of the selection: not part of this run

    frm = finished(api, tenant, start(api, tenant, wid, **{"from": "b"}, reuse="latest"))
    nodes = nodes_of(frm)
    assert frm["status"] == "success" and counts() == {"a": 1, "b": 3, "c": 2}
    assert nodes["a"]["reused_from"]["run"] == full["id"]  # the run that executed it, through the latest
    assert nodes["c"]["outputs"] == {"y": 111} and nodes["c"]["version"] == full_nodes["c"]["version"] == 1

    to = finished(api, tenant, start(api, tenant, wid, to="b"))  # everything it needs runs: nothing to reuse
    nodes = nodes_of(to)
    assert counts() == {"a": 2, "b": 4, "c": 2} and nodes["c"]["status"] == "skipped"
    assert nodes["b"]["outputs"] == {"y": 11}


def test_partial_run_refusals_name_what_does_not_fit(engine, api, tenant, chain, tmp_path, nb):
    wid, counts = chain(tmp_path)
    url = f"/api/tenants/{tenant.slug}/workflows/{wid}/"
    assert start(api, tenant, wid, only=["c"]).json()["errors"][0]["field"] == "reuse"  # reuse what?
    assert "'nope' is not a node" in start(api, tenant, wid, only=["nope"], reuse="latest").json()["detail"]
    assert "one of only, from and to" in start(api, tenant, wid, only=["a"], to="b").json()["detail"]
    assert "No run of this workflow" in start(api, tenant, wid, only=["c"], reuse="latest").json()["detail"]

    bad = finished(api, tenant, start(api, tenant, wid, parameters={"x": "oops"} if False else {}))
    assert bad["status"] == "success"
    graph = api.get(url).json()["graph"]
    graph["nodes"][1]["parameters"]["step"] = 20  # b changed
    save(api, url, graph)
    refused = start(api, tenant, wid, only=["c"], reuse=bad["id"])
    assert refused.status_code == 400
    errors = {e["node"]: e["message"] for e in refused.json()["errors"]}
    assert "changed since the reused run (parameters)" in errors["b"]
    assert "downstream of b" in errors.get("c", "") or "c" not in errors
    # b in the selection too: a is reused, b and c run on the new version
    ok = finished(api, tenant, start(api, tenant, wid, **{"from": "b"}, reuse=bad["id"]))
    assert nodes_of(ok)["c"]["outputs"] == {"y": 121}

    graph["edges"][0]["bind"] = {}  # a binding into b changed
    save(api, url, graph)
    refused = start(api, tenant, wid, only=["c"], reuse=ok["id"])
    assert refused.status_code == 400 and "binding into it changed" in refused.json()["detail"]
    before = NodeRun.objects.count()
    assert before == NodeRun.objects.count()  # nothing written


def test_cache_hits_and_misses_for_each_part_of_the_key(engine, api, admin_api, tenant, chain, tmp_path, nb, settings):
    wid, counts = chain(tmp_path, c={"cache": False})
    url = f"/api/tenants/{tenant.slug}/workflows/{wid}/"
    first = finished(api, tenant, start(api, tenant, wid, cache=True))
    assert counts() == {"a": 1, "b": 1, "c": 1}

    again = finished(api, tenant, start(api, tenant, wid, cache=True))
    nodes = nodes_of(again)
    assert counts() == {"a": 1, "b": 1, "c": 2}  # c opted out: it always runs
    assert nodes["a"]["cached_from"]["run"] == first["id"] and nodes["b"]["cached_from"]["run"] == first["id"]
    assert nodes["c"]["cached_from"] is None and nodes["c"]["outputs"] == {"y": 111}

    finished(api, tenant, start(api, tenant, wid))  # no cache (the API's default): everything runs
    assert counts() == {"a": 2, "b": 2, "c": 3}

    # A resolved parameter: a runs again, and b with it (it receives a new upstream output).
    finished(api, tenant, start(api, tenant, wid, cache=True, parameters={"x": 5}))
    assert counts() == {"a": 3, "b": 3, "c": 4}
    # The upstream outputs received: b's step changes; a is cached, b runs, c receives a new value anyway.
    graph = api.get(url).json()["graph"]
    graph["nodes"][1]["parameters"]["step"] = 10  # same value: a new version, the same key
    save(api, url, graph)
    finished(api, tenant, start(api, tenant, wid, cache=True))
    assert counts() == {"a": 3, "b": 3, "c": 5}

    # The notebook version: a new version of step.ipynb misses everywhere.
    nb("step.ipynb", "x = 0\nstep = 1\nname = ''", open_code(tmp_path) + "\n# v2")
    save(api, url, graph)  # pins the new notebook version
    finished(api, tenant, start(api, tenant, wid, cache=True))
    assert counts() == {"a": 4, "b": 4, "c": 6}

    # The connection names.
    graph = api.get(url).json()["graph"]
    conn = admin_api.post(f"/api/tenants/{tenant.slug}/connections/", {"name": "db", "kind": "http"}, format="json")
    assert conn.status_code == 201, conn.content
    graph["nodes"][0]["connections"] = ["db"]
    save(api, url, graph)
    finished(api, tenant, start(api, tenant, wid, cache=True))
    assert counts() == {"a": 5, "b": 4, "c": 7}  # a's key moved; its outputs did not, so b is cached

    # The notebook environment's lock.
    from runs import reuse
    reuse.environment_hash.cache_clear()
    settings.REPO_DIR = tmp_path
    (tmp_path / "notebook-env").mkdir()
    (tmp_path / "notebook-env" / "requirements.txt").write_text("pandas==9\n")
    try:
        finished(api, tenant, start(api, tenant, wid, cache=True))
        # a is decided here (the POST), under the new lock: it runs; b is decided by the worker, whose lock
        # did not change, and a gave the same output: cached.
        assert counts() == {"a": 6, "b": 4, "c": 8}
    finally:
        reuse.environment_hash.cache_clear()


def open_code(tmp_path) -> str:
    counter = tmp_path / "count"
    return (f"import pathlib\np = pathlib.Path({str(counter)!r}) / name\n"
            "p.write_text(str(int(p.read_text()) + 1 if p.exists() else 1))\ny = x + step")


def test_repair_with_the_fix_reruns_on_the_new_version(engine, api, tenant, nb, workflow, tmp_path):
    nb("one.ipynb", "x = 0", "y = x + 1")
    nb("flaky.ipynb", "x = 0", "raise RuntimeError('bug')")
    wid = workflow(nodes=[{"id": "a", "notebook": "one.ipynb", "outputs": ["y"]},
                          {"id": "b", "notebook": "flaky.ipynb", "outputs": ["y"]},
                          {"id": "c", "notebook": "one.ipynb", "outputs": ["y"]}],
                   edges=[{"source": "a", "target": "b", "bind": {"y": "x"}}, {"source": "b", "target": "c", "bind": {"y": "x"}}],
                   parameters=[{"name": "x", "type": "int", "default": 0}])
    url = f"/api/tenants/{tenant.slug}/workflows/{wid}/"
    failed = finished(api, tenant, start(api, tenant, wid))
    assert failed["status"] == "failed"
    a_ended = nodes_of(failed)["a"]["ended_at"]

    nb("flaky.ipynb", "x = 0", "y = x * 100")  # the fix
    graph = api.get(url).json()["graph"]
    save(api, url, graph)  # version 2 pins it
    repair = f"/api/tenants/{tenant.slug}/runs/{failed['id']}/repair/"
    assert api.post(repair, {"version": "nope"}, format="json").status_code == 400
    assert api.post(repair, {"version": 9}, format="json").status_code == 404
    response = api.post(repair, {"version": "latest"}, format="json")
    assert response.status_code == 200, response.content
    repaired = wait_run(api, tenant.slug, failed["id"])
    nodes = nodes_of(repaired)
    assert repaired["status"] == "success" and repaired["version"] == 2
    assert nodes["a"]["version"] == 1 and nodes["a"]["ended_at"] == a_ended  # kept, not rerun
    assert nodes["b"]["version"] == 2 and nodes["b"]["outputs"] == {"y": 100}
    assert nodes["c"]["version"] == 2 and nodes["c"]["outputs"] == {"y": 101}


def test_repair_refuses_what_no_longer_fits(engine, api, tenant, nb, workflow):
    nb("one.ipynb", "x = 0", "y = x + 1")
    nb("boom.ipynb", "x = 0", "raise RuntimeError('bug')")
    wid = workflow(nodes=[{"id": "a", "notebook": "one.ipynb", "outputs": ["y"]},
                          {"id": "b", "notebook": "boom.ipynb", "outputs": ["y"]}],
                   edges=[{"source": "a", "target": "b", "bind": {"y": "x"}}],
                   parameters=[{"name": "x", "type": "int", "default": 0}])
    url = f"/api/tenants/{tenant.slug}/workflows/{wid}/"
    failed = finished(api, tenant, start(api, tenant, wid))
    repair = f"/api/tenants/{tenant.slug}/runs/{failed['id']}/repair/"
    changed = api.post(repair, {"parameters": {"x": 3}}, format="json")  # a ran with x
    assert changed.status_code == 400 and "'a' ran with x" in changed.json()["detail"]
    graph = api.get(url).json()["graph"]
    graph["nodes"][0]["parameters"] = {"x": 7}
    save(api, url, graph)
    refused = api.post(repair, {"version": "latest"}, format="json")
    assert refused.status_code == 400 and refused.json()["errors"][0]["node"] == "a"
    assert api.get(f"/api/tenants/{tenant.slug}/runs/{failed['id']}/").json()["status"] == "failed"  # untouched
