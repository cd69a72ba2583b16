"""The local engine end to end: API → broker → real worker → real kernels → API."""
import json
import os
import time

import pytest

from tests.runs.support import nodes_of, wait_run


def test_outputs_flow_fan_out_in_item_order_with_cap(engine, api, tenant, nb, workflow, run_wf):
    nb("make.ipynb", "n = 1\nartifacts_dir = '.'",
       "import os\npath = os.path.join(artifacts_dir, 'items.txt')\nopen(path, 'w').write('x' * n)\n"
       "items = [f'item{i}' for i in range(n)]")
    nb("each.ipynb", "item = 'x'\nsuffix = ''",
       "import time\ntime.sleep(0.3)\nlabel = item.upper() + suffix")
    nb("join.ipynb", "labels = []\npath = ''", "joined = ','.join(labels)\nsize = len(open(path).read())")
    wid = workflow(
        parameters=[{"name": "n", "type": "int", "default": 2}],
        nodes=[
            {"id": "make", "notebook": "make.ipynb", "outputs": ["items", "path"]},
            {"id": "each", "notebook": "each.ipynb", "map_over": "make.items", "map_parameter": "item",
             "max_active": 2, "parameters": {"suffix": "!"}, "outputs": ["label"]},
            {"id": "join", "notebook": "join.ipynb", "outputs": ["joined", "size"]},
        ],
        edges=[{"source": "make", "target": "each", "bind": {}},
               {"source": "each", "target": "join", "bind": {"label": "labels"}},
               {"source": "make", "target": "join", "bind": {"path": "path"}}],
    )
    detail = run_wf(wid, {"n": 5})  # the run-time value overrides the global default
    nodes = nodes_of(detail)
    assert detail["status"] == "success", detail
    assert nodes["make"]["outputs"]["items"] == [f"item{i}" for i in range(5)]
    assert os.path.exists(nodes["make"]["outputs"]["path"])  # a file in the node's artifacts dir
    assert nodes["each"]["outputs"] == {"label": [f"ITEM{i}!" for i in range(5)], "map_items": [f"item{i}" for i in range(5)]}
    assert [nodes["each", i]["outputs"]["label"] for i in range(5)] == [f"ITEM{i}!" for i in range(5)]
    assert nodes["join"]["outputs"] == {"joined": "ITEM0!,ITEM1!,ITEM2!,ITEM3!,ITEM4!", "size": 5}

    spans = sorted((nodes["each", i]["started_at"], nodes["each", i]["ended_at"]) for i in range(5))
    overlap = max(sum(1 for s, e in spans if s <= start < e) for start, _ in spans)
    assert overlap <= 2, spans  # max_active

    base = f"/api/tenants/{tenant.slug}/runs/{detail['id']}/nodes"
    ipynb = api.get(f"{base}/each/notebook/?map_index=3")
    assert ipynb.status_code == 200 and ipynb["Content-Type"] == "application/x-ipynb+json"
    # The item's own notebook (its injected item); Loom's collector cell is not served.
    assert "item3" in ipynb.content.decode() and "loom-outputs" not in ipynb.content.decode()
    html = api.get(f"{base}/join/notebook/?format=html")
    assert html.status_code == 200 and html["Content-Type"].startswith("text/html") and b"<html" in html.content
    assert api.get(f"{base}/each/notebook/").status_code == 404  # fanned out: which item?
    assert api.get(f"{base}/nope/notebook/").status_code == 404

    listed = api.get(f"/api/tenants/{tenant.slug}/workflows/").json()
    assert next(w for w in listed if w["id"] == wid)["last_run"]["id"] == detail["id"]
    runs = api.get(f"/api/tenants/{tenant.slug}/workflows/{wid}/runs/").json()
    assert [r["id"] for r in runs] == [detail["id"]] and runs[0]["created_by"] == "eddie"


def test_a_worker_without_sandbox_says_so_on_every_node_run(engine, nb, workflow, run_wf):
    """These tests' worker runs with LOOM_SANDBOX=off (tests/runs/conftest.py): the opt-out is
    never silent, each node run carries the warning the editor shows."""
    nb("plain.ipynb", "x = 1", "y = x")
    detail = run_wf(workflow(nodes=[{"id": "a", "notebook": "plain.ipynb", "outputs": ["y"]}]))
    assert detail["status"] == "success"
    assert ["WITHOUT a sandbox" in w for w in nodes_of(detail)["a"]["warnings"]] == [True]


def test_trigger_rules(engine, nb, workflow, run_wf):
    nb("ok.ipynb", "x = 1", "y = x")
    nb("boom.ipynb", "x = 1", "raise RuntimeError('boom')")
    node = lambda nid, notebook="ok.ipynb", rule="all_success": {"id": nid, "notebook": notebook, "trigger_rule": rule}  # noqa: E731
    wid = workflow(
        nodes=[node("bad", "boom.ipynb"), node("after_bad"), node("after_after_bad"), node("on_failure", rule="one_failed"),
               node("cleanup", rule="all_done"), node("careful", rule="none_failed"),
               node("good"), node("only_on_failure", rule="one_failed"), node("after_skip"),
               node("tolerant", rule="none_failed")],
        edges=[{"source": s, "target": t} for s, t in [
            ("bad", "after_bad"), ("after_bad", "after_after_bad"), ("bad", "on_failure"), ("bad", "cleanup"),
            ("bad", "careful"), ("good", "only_on_failure"), ("only_on_failure", "after_skip"),
            ("only_on_failure", "tolerant"), ("good", "tolerant")]],
    )
    detail = run_wf(wid)
    status = {n: r["status"] for n, r in nodes_of(detail).items()}
    assert status == {
        "bad": "failed", "after_bad": "upstream_failed", "after_after_bad": "upstream_failed",
        "on_failure": "success", "cleanup": "success", "careful": "upstream_failed",
        "good": "success", "only_on_failure": "skipped", "after_skip": "skipped", "tolerant": "success",
    }
    assert detail["status"] == "failed" and "bad (failed)" in detail["error"]


def test_each_failure_names_its_reason(engine, nb, workflow, run_wf, tmp_path):
    nb("raises.ipynb", "x = 1", "y = 2", "raise ValueError(f'bad value {x}')")
    nb("dies.ipynb", "x = 1", "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)")
    nb("hangs.ipynb", "x = 1", "import time\nwhile True:\n    time.sleep(0.1)")
    nb("notjson.ipynb", "x = 1", "value = {1, 2}")
    nb("flaky.ipynb", "marker = ''",
       "import os\nfirst = not os.path.exists(marker)\nopen(marker, 'a').write('x')\n"
       "if first:\n    raise RuntimeError('first attempt fails')")
    marker = str(tmp_path / "flaky")
    wid = workflow(nodes=[
        {"id": "raises", "notebook": "raises.ipynb", "parameters": {"x": 7}},
        {"id": "dies", "notebook": "dies.ipynb"},
        {"id": "hangs", "notebook": "hangs.ipynb", "timeout_s": 5},
        {"id": "notjson", "notebook": "notjson.ipynb", "outputs": ["value"]},
        {"id": "flaky", "notebook": "flaky.ipynb", "parameters": {"marker": marker}, "retries": 2, "retry_delay_s": 1},
    ])
    started = time.monotonic()
    detail = run_wf(wid)
    nodes = nodes_of(detail)
    assert time.monotonic() - started < 20

    raises = nodes["raises"]["error"]
    assert raises["message"] == "Cell 4 raised ValueError: bad value 7"
    assert raises["cell_index"] == 4 and "raise ValueError" in raises["cell_source"]
    assert "ValueError" in raises["traceback"] and "\x1b[" not in raises["traceback"]
    assert "kernel died" in nodes["dies"]["error"]["message"] and "SIGKILL" in nodes["dies"]["error"]["cell_source"]
    assert nodes["hangs"]["error"]["message"].startswith("Timed out after 5 s")
    assert "while True" in nodes["hangs"]["error"]["cell_source"]
    assert nodes["notjson"]["error"]["message"].startswith("Output 'value' is a set, which is not JSON")
    for name in ("raises", "dies", "hangs", "notjson"):
        assert nodes[name]["status"] == "failed" and nodes[name]["attempts"] == 1

    assert nodes["flaky"]["status"] == "success" and nodes["flaky"]["attempts"] == 2
    assert open(marker).read() == "xx"
    # The failed node's executed notebook is served too, with the error in it.
    from runs.models import NodeRun

    executed = json.loads(NodeRun.objects.get(run_id=detail["id"], node="raises").notebook)
    assert any(o.get("ename") == "ValueError" for c in executed["cells"] for o in c.get("outputs", []))
    flaky = NodeRun.objects.get(run_id=detail["id"], node="flaky")
    assert "retrying in 1 s" in flaky.log and "attempt 2 succeeded" in flaky.log


def test_connection_secret_reaches_the_kernel_but_never_leaves(engine, api, admin_api, tenant, nb, workflow, run_wf):
    secret = "s3cr3t-Pa55'word"
    response = admin_api.post(f"/api/tenants/{tenant.slug}/connections/", {
        "name": "warehouse", "kind": "postgres", "host": "db.internal", "port": 5432, "login": "loom",
        "schema": "sales", "secret": secret}, format="json")
    assert response.status_code == 201, response.content
    nb("uses.ipynb", "x = 1",
       "import os, sys\npassword = os.environ['LOOM_CONN_WAREHOUSE_PASSWORD']\n"
       "uri = os.environ['LOOM_CONN_WAREHOUSE_URI']\nprint('password is', password)\nprint(repr(password), file=sys.stderr)\n"
       "host = os.environ['LOOM_CONN_WAREHOUSE_HOST']\nprint('host', host, 'length', len(password))",
       "raise ValueError(password)")
    wid = workflow(nodes=[{"id": "uses", "notebook": "uses.ipynb", "connections": ["warehouse"],
                           "outputs": ["host"]}])
    detail = run_wf(wid)
    node = nodes_of(detail)["uses"]
    assert node["status"] == "failed" and node["error"]["message"] == "Cell 3 raised ValueError: ********"

    from runs.models import NodeRun

    row = NodeRun.objects.get(run_id=detail["id"], node="uses")
    base = f"/api/tenants/{tenant.slug}/runs/{detail['id']}"
    texts = [json.dumps(api.get(f"{base}/").json()), row.notebook, row.log,
             api.get(f"{base}/nodes/uses/notebook/").content.decode(),
             api.get(f"{base}/nodes/uses/notebook/?format=html").content.decode()]
    assert "password is ********" in row.notebook
    for text in texts:
        assert secret not in text and "s3cr3t" not in text
    # The values did reach the kernel: the notebook saw the host and a password of the right length.
    assert f"host db.internal length {len(secret)}" in row.notebook


def test_connection_outputs_are_scrubbed(engine, admin_api, tenant, nb, workflow, run_wf):
    admin_api.post(f"/api/tenants/{tenant.slug}/connections/",
                   {"name": "api", "kind": "http", "host": "h", "secret": "tok-123456"}, format="json")
    nb("out.ipynb", "x = 1", "import os\ntoken = os.environ['LOOM_CONN_API_PASSWORD']\nlength = len(token)")
    wid = workflow(nodes=[{"id": "out", "notebook": "out.ipynb", "connections": ["api"], "outputs": ["token", "length"]}])
    node = nodes_of(run_wf(wid))["out"]
    assert node["outputs"] == {"token": "********", "length": 10}


def test_cancel_kills_the_kernel_and_repair_reruns_what_did_not_finish(engine, api, tenant, nb, workflow, run_wf, tmp_path):
    pid_file, gate = tmp_path / "pid", tmp_path / "gate"
    nb("first.ipynb", "x = 1", "y = x + 1")
    nb("sleeps.ipynb", "pid_file = ''\ngate = ''",
       "import os, time\nopen(pid_file, 'w').write(str(os.getpid()))\n"
       "while not os.path.exists(gate):\n    time.sleep(0.05)\ndone = True")
    nb("last.ipynb", "y = 0", "z = y * 10")
    wid = workflow(
        nodes=[{"id": "first", "notebook": "first.ipynb", "outputs": ["y"]},
               {"id": "sleeps", "notebook": "sleeps.ipynb", "parameters": {"pid_file": str(pid_file), "gate": str(gate)},
                "outputs": ["done"]},
               {"id": "last", "notebook": "last.ipynb", "outputs": ["z"]}],
        edges=[{"source": "first", "target": "sleeps"}, {"source": "sleeps", "target": "last"},
               {"source": "first", "target": "last", "bind": {"y": "y"}}],
    )
    run = run_wf(wid, wait=False)
    wait_run(api, tenant.slug, run["id"], until=lambda d: nodes_of(d)["sleeps"]["status"] == "running" and pid_file.exists())
    kernel_pid = int(pid_file.read_text())
    cancelled = api.post(f"/api/tenants/{tenant.slug}/runs/{run['id']}/cancel/").json()
    assert cancelled["status"] == "cancelled"
    assert {n["node"]: n["status"] for n in cancelled["nodes"]} == {"first": "success", "sleeps": "cancelled", "last": "cancelled"}
    deadline = time.monotonic() + 5
    while _alive(kernel_pid):
        assert time.monotonic() < deadline, "the kernel survived the cancel"
        time.sleep(0.1)

    gate.write_text("open")
    repaired = api.post(f"/api/tenants/{tenant.slug}/runs/{run['id']}/repair/")
    assert repaired.status_code == 200 and repaired.json()["status"] == "running"
    detail = wait_run(api, tenant.slug, run["id"])
    nodes = nodes_of(detail)
    assert detail["status"] == "success"
    assert nodes["first"]["attempts"] == 1  # reused, not rerun
    assert nodes["sleeps"]["status"] == "success" and nodes["last"]["outputs"] == {"z": 20}
    assert api.post(f"/api/tenants/{tenant.slug}/runs/{run['id']}/repair/").status_code == 409


def test_repair_reruns_failed_items_only(engine, api, tenant, nb, workflow, run_wf, tmp_path):
    nb("item.ipynb", "n = 0\nflag = ''",
       "import os\nif n == 2 and not os.path.exists(flag):\n    raise RuntimeError('not yet')\nsquare = n * n")
    nb("total.ipynb", "squares = []", "total = sum(squares)")
    wid = workflow(
        parameters=[{"name": "ns", "type": "list", "default": [1, 2, 3]}],
        nodes=[{"id": "item", "notebook": "item.ipynb", "map_over": "ns", "map_parameter": "n",
                "parameters": {"flag": str(tmp_path / "flag")}, "outputs": ["square"]},
               {"id": "total", "notebook": "total.ipynb", "outputs": ["total"]}],
        edges=[{"source": "item", "target": "total", "bind": {"square": "squares"}}],
    )
    detail = run_wf(wid)
    nodes = nodes_of(detail)
    assert [nodes["item", i]["status"] for i in range(3)] == ["success", "failed", "success"]
    assert nodes["total"]["status"] == "upstream_failed" and nodes["item"]["status"] == "failed"
    (tmp_path / "flag").write_text("go")
    api.post(f"/api/tenants/{tenant.slug}/runs/{detail['id']}/repair/")
    nodes = nodes_of(wait_run(api, tenant.slug, detail["id"]))
    assert [nodes["item", i]["attempts"] for i in range(3)] == [1, 1, 1]
    assert nodes["total"]["outputs"] == {"total": 14}
    from runs.models import NodeRun

    assert NodeRun.objects.get(run_id=detail["id"], node="item", map_index=0).log.count("started") == 1


def test_a_message_delivered_twice_runs_the_node_once(engine, api, tenant, nb, workflow, run_wf, tmp_path):
    from runs.models import NodeRun
    from runs.tasks import node_run_execute_task

    ledger = tmp_path / "ledger"
    nb("count.ipynb", "ledger = ''", "import time\nopen(ledger, 'a').write('run\\n')\ntime.sleep(0.5)")
    wid = workflow(nodes=[{"id": "count", "notebook": "count.ipynb", "parameters": {"ledger": str(ledger)}}])
    run = run_wf(wid, wait=False)
    row = NodeRun.objects.get(run_id=run["id"], node="count")
    for _ in range(3):  # while queued, while running, after success: none of them runs it again
        node_run_execute_task.apply_async((row.pk, row.token))
    wait_run(api, tenant.slug, run["id"], until=lambda d: nodes_of(d)["count"]["status"] == "running")
    node_run_execute_task.apply_async((row.pk, row.token))
    detail = wait_run(api, tenant.slug, run["id"])
    node_run_execute_task.apply_async((row.pk, row.token))
    time.sleep(1)
    assert detail["status"] == "success" and nodes_of(detail)["count"]["attempts"] == 1
    assert ledger.read_text() == "run\n"


def test_a_status_change_shows_within_a_second(engine, api, tenant, nb, workflow, run_wf, tmp_path):
    gate = tmp_path / "gate"
    nb("waits.ipynb", "gate = ''", "import os, time\nwhile not os.path.exists(gate):\n    time.sleep(0.02)")
    wid = workflow(nodes=[{"id": "waits", "notebook": "waits.ipynb", "parameters": {"gate": str(gate)}}])
    run = run_wf(wid, wait=False)
    wait_run(api, tenant.slug, run["id"], timeout=10, until=lambda d: nodes_of(d)["waits"]["status"] == "running")
    gate.write_text("go")
    opened = time.monotonic()
    wait_run(api, tenant.slug, run["id"], timeout=10)
    assert time.monotonic() - opened < 1.0


@pytest.mark.parametrize("retries,expected", [(1, "success"), (0, "failed")])
def test_a_worker_killed_mid_notebook_does_not_leave_the_run_running(engine, api, tenant, nb, workflow, run_wf, tmp_path,
                                                                    retries, expected):
    marker = tmp_path / "started"
    nb("long.ipynb", "marker = ''",
       "import os, time\nfirst = not os.path.exists(marker)\nopen(marker, 'a').write('x')\n"
       "if first:\n    time.sleep(300)")
    wid = workflow(nodes=[{"id": "long", "notebook": "long.ipynb", "parameters": {"marker": str(marker)},
                           "retries": retries, "retry_delay_s": 0}])
    run = run_wf(wid, wait=False)
    wait_run(api, tenant.slug, run["id"], until=lambda d: marker.exists())
    engine.kill()
    killed = time.monotonic()
    engine.start()  # a restarted worker (any live worker) recovers the node
    restarted = time.monotonic() - killed  # its kernel pool up: ~3 s on a quiet machine, far more under load
    detail = wait_run(api, tenant.slug, run["id"], timeout=30 + restarted)
    # The heartbeat timeout after the kill, or the new worker's first reap if it was ready later;
    # then a reap interval, a heartbeat period, and a claim.
    bound = max(3, restarted) + 0.5 + 0.5 + 2
    node = nodes_of(detail)["long"]
    assert detail["status"] == expected and node["status"] == expected
    assert "stopped: no heartbeat" in (node["error"] or {}).get("message", "") or node["attempts"] == 2
    assert time.monotonic() - killed < bound + (2 if expected == "success" else 0)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead too
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[1].split()[0] != "Z"
    except FileNotFoundError:
        return False
