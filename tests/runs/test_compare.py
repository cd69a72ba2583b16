"""Compare two runs and diff a node's executed notebooks (issue 15), on notebooks a real worker
executed; the live log of a node while it runs; the collector cell kept out of what is served."""
import time

from tests.runs.support import nodes_of

GREET = "print(f'hello {who}')\ngreeting = f'hello {who}'"


def test_compare_two_runs_and_diff_their_notebooks(engine, api, tenant, nb, workflow, run_wf):
    nb("greet.ipynb", "who = 'world'", GREET, "print('same every time')")
    nb("fixed.ipynb", None, "answer = 42")
    wid = workflow(nodes=[{"id": "greet", "notebook": "greet.ipynb", "outputs": ["greeting"]},
                          {"id": "fixed", "notebook": "fixed.ipynb", "outputs": ["answer"]}],
                   parameters=[{"name": "who", "type": "str", "default": "world"}])
    yesterday = run_wf(wid)
    today = run_wf(wid, parameters={"who": "loom"})
    assert {n["status"] for n in nodes_of(today).values()} == {"success"}, today

    body = api.get(f"/api/tenants/{tenant.slug}/runs/{today['id']}/compare/?with={yesterday['id']}").json()
    assert body["parameters"] == [{"name": "who", "run": "loom", "other": "world"}]
    nodes = {n["node"]: n for n in body["nodes"]}
    assert nodes["greet"]["run"]["outputs"] == {"greeting": "hello loom"}
    assert nodes["greet"]["other"]["outputs"] == {"greeting": "hello world"}
    assert nodes["greet"]["changed"] == {"status": False, "outputs": ["greeting"], "notebook": False, "presence": False}
    assert nodes["fixed"]["changed"]["outputs"] == [] and nodes["fixed"]["run"]["duration_s"] > 0

    url = f"/api/tenants/{tenant.slug}/runs/{today['id']}/nodes/greet/notebook/diff/?with={yesterday['id']}"
    cells = api.get(url).json()["cells"]
    assert not any("loom-outputs" in c["tags"] for c in cells)  # Loom's plumbing is not the user's notebook
    by_status = {}
    for c in cells:
        by_status.setdefault(c["status"], []).append(c)
    # papermill's injected cell holds the new value; the cell printing it prints something else;
    # the rest only ran again (new timings and counters, which are no difference).
    injected = next(c for c in cells if "injected-parameters" in c["tags"])
    assert injected["status"] == "modified" and {"kind": "added", "text": 'who = "loom"'} in injected["lines"]
    printing = next(c for c in cells if any("print(f'hello" in line["text"] for line in c["lines"]))
    assert printing["status"] == "modified" and printing["changed"] == ["outputs"]
    assert printing["outputs_before"] == ["hello world\n"] and printing["outputs"] == ["hello loom\n"]
    assert [c["status"] for c in cells if c not in (injected, printing)] == ["unchanged"] * (len(cells) - 2)

    html = api.get(url + "&format=html")
    assert html.status_code == 200 and html["Content-Type"] == "text/html; charset=utf-8"
    assert html["Content-Security-Policy"].startswith("sandbox;")
    assert b"hello loom" in html.content and b"hello world" in html.content
    missing = api.get(f"/api/tenants/{tenant.slug}/runs/{today['id']}/nodes/nope/notebook/diff/?with={yesterday['id']}")
    assert missing.status_code == 404


def test_the_served_notebook_has_no_collector_cell(engine, api, tenant, nb, workflow, run_wf):
    nb("one.ipynb", None, "x = 1")
    detail = run_wf(workflow(nodes=[{"id": "one", "notebook": "one.ipynb", "outputs": ["x"]}]))
    assert nodes_of(detail)["one"]["outputs"] == {"x": 1}
    served = api.get(f"/api/tenants/{tenant.slug}/runs/{detail['id']}/nodes/one/notebook/").json()
    assert ["".join(c["source"]) for c in served["cells"]] == ["# test notebook", "x = 1"]
    html = api.get(f"/api/tenants/{tenant.slug}/runs/{detail['id']}/nodes/one/notebook/?format=html").content
    assert b"_loom_found" not in html


def test_a_running_nodes_log_is_visible_before_it_ends(engine, api, tenant, nb, workflow, run_wf):
    nb("slow.ipynb", None, "print('started the slow part', flush=True)\nimport time\ntime.sleep(6)\nprint('done')")
    run = run_wf(workflow(nodes=[{"id": "slow", "notebook": "slow.ipynb"}]), wait=False)
    url = f"/api/tenants/{tenant.slug}/runs/{run['id']}/nodes/slow/log/"
    deadline, seen, offset = time.monotonic() + 30, "", 0
    while "started the slow part" not in seen:
        assert time.monotonic() < deadline, seen
        body = api.get(url + f"?offset={offset}").json()
        seen, offset = seen + body["text"], body["offset"]
        time.sleep(0.1)
    assert body["status"] == "running"  # printed, and still sleeping
    assert "done" not in seen
    while body["status"] != "success":
        assert time.monotonic() < deadline + 30, seen
        time.sleep(0.2)
        body = api.get(url + f"?offset={offset}").json()
        seen, offset = seen + body["text"], body["offset"]
    assert seen.count("[cell 1 stdout] started the slow part\n") == 1 and "[cell 1 stdout] done\n" in seen
    assert api.get(url).json()["text"] == seen  # read piecewise or at once: the same log
