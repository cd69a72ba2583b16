"""Fanned-out nodes on the local engine: failed items within the node's allowance, and the
items endpoint. Real worker, real kernels (tests/runs/conftest.py)."""
from tests.runs.support import nodes_of, wait_run


def test_failed_items_within_the_allowance_pass_on_the_successful_results_with_their_items(
        engine, api, tenant, nb, workflow, run_wf):
    nb("item.ipynb", "n = 0", "if n % 2 == 0:\n    raise RuntimeError(f'bad {n}')\nsquare = n * n")
    nb("total.ipynb", "squares = []\nns = []", "pairs = [[n, s] for n, s in zip(ns, squares)]")
    graph = dict(
        parameters=[{"name": "ns", "type": "list", "default": [1, 2, 3, 4, 5]}],
        nodes=[{"id": "item", "notebook": "item.ipynb", "map_over": "ns", "map_parameter": "n",
                "max_failed_items": 2, "outputs": ["square"]},
               {"id": "total", "notebook": "total.ipynb", "outputs": ["pairs"]}],
        edges=[{"source": "item", "target": "total", "bind": {"square": "squares", "map_items": "ns"}}],
    )
    detail = run_wf(workflow(**graph))
    nodes = nodes_of(detail)
    assert detail["status"] == "success", detail
    item = nodes["item"]
    assert item["status"] == "success" and item["error"] is None
    assert item["outputs"] == {"square": [1, 9, 25], "map_items": [1, 3, 5]}
    assert any("3 succeeded · 2 failed" in w for w in item["warnings"]), item["warnings"]
    assert item["items"] == {"success": 3, "failed": 2}
    # Downstream sees only the successful items, each result beside its item.
    assert nodes["total"]["outputs"] == {"pairs": [[1, 1], [3, 9], [5, 25]]}

    # Beyond the allowance (a ratio: 20% of 5 is 1 item) the node fails as without one.
    graph["nodes"][0] = {**graph["nodes"][0], "max_failed_items": None, "max_failed_ratio": 0.2}
    detail = run_wf(workflow(**graph))
    nodes = nodes_of(detail)
    assert detail["status"] == "failed"
    assert nodes["item"]["status"] == "failed" and nodes["item"]["outputs"] == {}
    assert nodes["item"]["error"]["message"].startswith("2 of 5 items did not succeed")
    assert nodes["total"]["status"] == "upstream_failed"


def test_retry_failed_items_reruns_only_them_and_what_depends_on_the_node(
        engine, api, tenant, nb, workflow, run_wf, tmp_path):
    nb("item.ipynb", "n = 0\nflag = ''",
       "import os\nif n % 2 == 0 and not os.path.exists(flag):\n    raise RuntimeError('not yet')\nsquare = n * n")
    nb("total.ipynb", "squares = []", "total = sum(squares)")
    wid = workflow(
        parameters=[{"name": "ns", "type": "list", "default": [1, 2, 3, 4, 5]}],
        nodes=[{"id": "item", "notebook": "item.ipynb", "map_over": "ns", "map_parameter": "n", "max_failed_items": 2,
                "parameters": {"flag": str(tmp_path / "flag")}, "outputs": ["square"]},
               {"id": "total", "notebook": "total.ipynb", "outputs": ["total"]}],
        edges=[{"source": "item", "target": "total", "bind": {"square": "squares"}}],
    )
    detail = run_wf(wid)
    assert detail["status"] == "success" and nodes_of(detail)["total"]["outputs"] == {"total": 35}
    url = f"/api/tenants/{tenant.slug}/runs/{detail['id']}/nodes/item/retry-failed/"
    # A successful run may retry the items its node tolerated: the plain repair refuses it.
    assert api.post(f"/api/tenants/{tenant.slug}/runs/{detail['id']}/repair/").status_code == 409
    (tmp_path / "flag").write_text("go")
    response = api.post(url)
    assert response.status_code == 200 and response.json()["status"] == "running", response.content
    nodes = nodes_of(wait_run(api, tenant.slug, detail["id"]))
    assert [nodes["item", i]["status"] for i in range(5)] == ["success"] * 5
    assert [nodes["item", i]["attempts"] for i in range(5)] == [1] * 5
    assert nodes["item"]["items"] == {"success": 5} and nodes["item"]["warnings"] == []
    assert nodes["total"]["outputs"] == {"total": 55}
    from runs.models import NodeRun

    assert NodeRun.objects.get(run_id=detail["id"], node="item", map_index=0).log.count("started") == 1
    # Nothing left to retry; a node without items is not one to retry.
    assert api.post(url).status_code == 409
    assert api.post(url.replace("/item/", "/total/")).status_code == 400


def test_the_allowance_is_checked_with_the_graph(api, tenant, nb):
    nb("item.ipynb", "n = 0", "square = n * n")
    url = f"/api/tenants/{tenant.slug}/workflows/"
    node = {"id": "item", "notebook": "item.ipynb", "outputs": ["square"]}
    graph = {"name": "w", "parameters": [{"name": "ns", "type": "list", "default": [1]}], "nodes": [node]}

    def saved(**fields):
        return api.post(url, {**graph, "nodes": [{**node, **fields}]}, format="json")

    for field, value in (("max_failed_ratio", 1.5), ("max_failed_ratio", -0.1), ("max_failed_items", -1)):
        response = saved(map_over="ns", map_parameter="n", **{field: value})
        assert response.status_code == 400 and field in str(response.json()), response.content
    errors = saved(max_failed_items=1).json()["errors"]
    assert errors == [{"node": "item", "field": "max_failed_items",
                       "message": "max_failed_items applies to a fanned-out node only: set map_over, or clear max_failed_items."}]
    errors = saved(map_over="ns", map_parameter="n", outputs=["map_items"]).json()["errors"]
    assert [e["field"] for e in errors] == ["outputs"]
