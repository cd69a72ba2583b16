"""Hostile notebooks through the API on a real worker (sandbox on, the default): one property
each, asserting the block, the node's error, and that a benign workflow runs right after on
the same worker. The runtime-level properties are in tests/runtime/test_sandbox.py."""
import json
import os
import socket
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from django.conf import settings

from helpers import upload
from runs.engines.local import artifacts_dir
from runs.models import Run
from runtime.execute import connection_env
from tests.runs.support import nodes_of, worker_fixtures, worker_start
from tests.runtime.support import kernel_pool, outside_server  # noqa: F401 - a fixture

REPO = Path(__file__).resolve().parents[2]


worker, engine = worker_fixtures("sandboxed", LOOM_SANDBOX="on")


@pytest.fixture
def hostile(engine, nb, workflow, run_wf):
    """hostile(code, outputs=[...]) -> the node's entry of a one-node run; then a benign run."""
    def run(code: str, outputs=(), **node) -> dict:
        name = f"h{abs(hash(code)) % 10**8}.ipynb"
        nb(name, "x = 1", code)
        detail = run_wf(workflow(nodes=[{"id": "h", "notebook": name, "outputs": list(outputs), **node}]), timeout=90)
        nb("benign.ipynb", "x = 1", "import numpy, scrapbook as sb\nopen('a.txt', 'w').write('ok')\n"
           "y = int(numpy.int64(x) + 1)\nsb.glue('glued', y)")
        after = run_wf(workflow(nodes=[{"id": "b", "notebook": "benign.ipynb", "outputs": ["y", "glued"]}]))
        assert after["status"] == "success" and nodes_of(after)["b"]["outputs"] == {"y": 2, "glued": 2}, after
        assert (artifacts_dir(Run.objects.get(pk=after["id"]), "b") / "a.txt").read_text() == "ok"  # its artifact
        return nodes_of(detail)["h"]
    return run


@pytest.mark.parametrize("what", ["encryption.key", "django-secret.txt", "database"])
def test_loom_secrets_and_database_cannot_be_read(hostile, what):
    db = settings.DATABASES["default"]
    if what != "database":
        path = settings.DATA_DIR / what
    else:  # SQLite's file, or PostgreSQL's data folder on this machine
        path = db["NAME"] if "sqlite" in db["ENGINE"] else next(Path("/var/lib/postgresql").glob("*/*/PG_VERSION"))
    assert Path(path).exists()
    node = hostile(f"data = open({str(path)!r}, 'rb').read()")
    assert node["status"] == "failed"
    assert node["error"]["message"].startswith("Cell 2 raised FileNotFoundError: [Errno 2] No such file or directory")


def test_worker_environment_is_not_in_proc(hostile):
    node = hostile("import glob\nfound = []\nfor f in glob.glob('/proc/*/environ'):\n"
                   "    try:\n        found.append(open(f, 'rb').read().decode(errors='replace'))\n    except OSError:\n        pass\n"
                   "leaks = [k for k in ('DATABASE_URL', 'LOOM_QUEUE', 'LOOM_DATA_DIR', 'LOOM_BROKER_DIR') if any(k in e for e in found)]",
                   outputs=["leaks"])
    assert node["status"] == "success" and node["outputs"] == {"leaks": []}


def test_another_tenants_artifacts_cannot_be_read(hostile):
    theirs = Path(settings.LOOM_ARTIFACTS_DIR) / "othertenant" / "1" / "n" / "data.csv"
    theirs.parent.mkdir(parents=True, exist_ok=True)
    theirs.write_text("their data")
    node = hostile(f"data = open({str(theirs)!r}).read()")
    assert node["status"] == "failed" and "FileNotFoundError" in node["error"]["message"]


def test_other_kernels_connection_files_are_out_of_reach(hostile):
    root = settings.LOOM_SANDBOX.root
    node = hostile(f"import glob, os\nfiles = glob.glob({root + '/*/conn/*.json'!r})", outputs=["files"])
    assert node["status"] == "success" and len(node["outputs"]["files"]) == 1  # its own only
    others = [p for p in Path(root).glob("*/conn/*.json") if str(p) != node["outputs"]["files"][0]]
    assert others, "the worker keeps other kernels started, which the notebook did not see"


def test_another_live_kernel_cannot_be_attached_to(hostile):
    """Another tenant's live kernel in its sandbox (started here, beside the worker's own; attached to
    from the host, so its connection file works): a notebook given that file's contents, and those
    of every kernel the worker keeps, and scanning for sockets, reaches none of them."""
    from jupyter_client import BlockingKernelClient

    def attach(info: dict) -> None:
        kc = BlockingKernelClient()
        kc.load_connection_info(info)
        kc.start_channels()
        try:
            kc.wait_for_ready(timeout=30)
        finally:
            kc.stop_channels()

    theirs = kernel_pool(sandbox=settings.LOOM_SANDBOX, view_at=str(settings.LOOM_ARTIFACTS_DIR))
    try:
        with theirs._wanted:
            assert theirs._wanted.wait_for(lambda: len(theirs._idle) == 2, timeout=60)
            other = json.loads(Path(theirs._idle[-1].connection_file).read_text())
        attach(other)  # live, and attachable from outside any sandbox
        infos = [other] + [json.loads(p.read_text()) for p in Path(settings.LOOM_SANDBOX.root).glob("*/conn/kernel.json")
                           if json.loads(p.read_text())["ip"] != other["ip"]]
        node = hostile(
            "import json, os, stat\nfrom ipykernel.connect import get_connection_file\n"
            "from jupyter_client import BlockingKernelClient\nmine = json.load(open(get_connection_file()))\n"
            "found = []\nfor d, _, files in os.walk('/', onerror=lambda e: None):\n"
            "    if d.startswith(('/proc', '/sys', '/dev', '/usr', os.environ['VIRTUAL_ENV'])):\n        continue\n"
            "    for f in files:\n        p = os.path.join(d, f)\n"
            "        if not p.startswith(mine['ip']) and stat.S_ISSOCK(os.lstat(p).st_mode):\n            found.append(p)\n"
            "if found:\n    raise RuntimeError(f'sockets in view: {found}')\n"
            f"for info in {infos!r}:\n    if info['ip'] == mine['ip']:\n        continue\n"
            "    kc = BlockingKernelClient()\n    kc.load_connection_info(info)\n    kc.start_channels()\n"
            "    kc.wait_for_ready(timeout=3)\n    raise RuntimeError(f\"attached to {info['ip']}\")")
        attach(other)  # still live: it was there to be reached all along
    finally:
        theirs.close()
    assert node["status"] == "failed"
    # jupyter_client's words for a kernel that never answers: its heartbeat, else its kernel_info, timed out first.
    assert node["error"]["message"] in ("Cell 2 raised RuntimeError: Kernel died before replying to kernel_info",
                                        "Cell 2 raised RuntimeError: Kernel didn't respond in 3 seconds"), node["error"]


def test_a_kernel_receives_only_the_connections_its_node_names(hostile, admin_api, tenant):
    """The tenant has two connections; the node names one: its kernel has that one's variables and
    nothing of the other's, whose secret appears nowhere in its environment."""
    for body in ({"name": "warehouse", "kind": "postgres", "host": "db.example", "login": "u", "secret": "wh-pw-71"},
                 {"name": "archive", "kind": "http", "host": "archive.example", "secret": "archive-pw-93",
                  "extra": {"token": "archive-tok-55"}}):
        response = admin_api.post(f"/api/tenants/{tenant.slug}/connections/", body, format="json")
        assert response.status_code == 201, response.content
    node = hostile("import os\nnames = sorted(k for k in os.environ if 'CONN' in k)\n"
                   "user = os.environ['LOOM_CONN_WAREHOUSE_LOGIN']\n"
                   "leaked = sorted(k for k, v in os.environ.items() if 'archive' in (k + v).lower())",
                   outputs=["names", "user", "leaked"], connections=["warehouse"])
    assert node["status"] == "success", node
    assert node["outputs"] == {"names": sorted(connection_env("warehouse")), "user": "u", "leaked": []}


@pytest.mark.skipif(os.geteuid() != 0, reason="creating a network namespace needs root")
def test_egress_reaches_an_outside_server(hostile, outside_server):
    """LOOM_SANDBOX_NETWORK=egress (the worker's default): a server outside, in a network namespace of
    the test's own, answers a notebook."""
    assert settings.LOOM_SANDBOX.network == "egress"
    node = hostile(f"import urllib.request\nseen = urllib.request.urlopen({outside_server!r}, timeout=10).read().decode()",
                   outputs=["seen"])
    assert node["status"] == "success" and node["outputs"] == {"seen": "hello from outside"}, node


@pytest.mark.parametrize("service", ["postgresql", "redis", "web"])
def test_loom_services_on_loopback_are_unreachable(hostile, service):
    """PostgreSQL and Redis as make test starts them, and a web port of our own: each listens on
    the host's loopback (checked from here), none answers a notebook."""
    web = HTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    threading.Thread(target=web.serve_forever, daemon=True).start()
    port = {"postgresql": 5432, "redis": 6379, "web": web.server_port}[service]
    try:
        socket.create_connection(("127.0.0.1", port), timeout=3).close()
        node = hostile(f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=3)")
    finally:
        web.shutdown()
    assert node["status"] == "failed"
    assert node["error"]["message"] == "Cell 2 raised ConnectionRefusedError: [Errno 111] Connection refused"


def test_memory_far_past_the_limit_fails_naming_it(hostile):
    node = hostile("block = bytearray(16 * 1024**3)")
    assert node["status"] == "failed"
    assert node["error"]["message"].startswith("Cell 2 raised MemoryError")
    assert f"memory limit is {settings.LOOM_SANDBOX.memory_mb} MB" in node["error"]["message"]


def test_a_fork_bomb_stops_at_the_process_limit(hostile):
    node = hostile("import os, time\nwhile True:\n    if os.fork() == 0:\n        time.sleep(60)\n        os._exit(0)")
    assert node["status"] == "failed" and "BlockingIOError" in node["error"]["message"]
    assert f"process limit is {settings.LOOM_SANDBOX.max_procs}" in node["error"]["message"]


def test_a_node_with_memory_mb_below_what_it_allocates_fails_naming_its_limit(hostile):
    node = hostile("block = bytearray(600 * 1024**2)", memory_mb=300)
    assert node["status"] == "failed" and node["error"]["message"].startswith("Cell 2 raised MemoryError")
    assert node["error"]["message"].endswith("The kernel's memory limit is 300 MB per process (the node's memory_mb).")


def test_the_tenants_defaults_apply_to_nodes_without_their_own(hostile, tenant):
    tenant.node_memory_mb, tenant.node_max_procs = 300, 24
    tenant.save()
    node = hostile("block = bytearray(600 * 1024**2)")
    assert node["error"]["message"].endswith("The kernel's memory limit is 300 MB per process (the tenant's node_memory_mb).")
    node = hostile("import os, time\nwhile True:\n    if os.fork() == 0:\n        time.sleep(60)\n        os._exit(0)")
    assert node["status"] == "failed" and "BlockingIOError" in node["error"]["message"]
    assert node["error"]["message"].endswith("The kernel's process limit is 24 processes and threads (the tenant's "
                                             "node_max_procs).")


def test_the_demo_pipeline_runs_sandboxed(engine, api, tenant, workflow, run_wf):
    """ingest writes an artifact, train (fanned out) reads it from ingest's folder, report sums up."""
    for name in ("ingest.ipynb", "train.ipynb", "report.ipynb"):
        assert upload(api, tenant.slug, name, (REPO / "notebooks" / name).read_bytes()).status_code in (200, 201)
    wid = workflow(
        parameters=[{"name": "accounts", "type": "list", "default": ["acme", "globex"]}],
        nodes=[{"id": "ingest", "notebook": "ingest.ipynb", "outputs": ["dataset_path", "row_count"]},
               {"id": "train", "notebook": "train.ipynb", "outputs": ["auc"], "map_over": "accounts",
                "map_parameter": "account"},
               {"id": "report", "notebook": "report.ipynb", "outputs": ["mean_auc"]}],
        edges=[{"source": "ingest", "target": "train", "bind": {"dataset_path": "input_path"}},
               {"source": "train", "target": "report", "bind": {"auc": "aucs"}}],
    )
    detail = run_wf(wid, timeout=90)
    nodes = nodes_of(detail)
    assert detail["status"] == "success", json.dumps(nodes, indent=1)[:3000]
    path = Path(nodes["ingest"]["outputs"]["dataset_path"])
    assert path.is_file() and path.is_relative_to(settings.LOOM_ARTIFACTS_DIR)
    assert nodes["ingest"]["outputs"]["row_count"] == 300  # the 2 accounts of the workflow x 150 customers
    assert all(a > 0.6 for a in nodes["train"]["outputs"]["auc"])
    assert all(n["warnings"] == [] for n in detail["nodes"])  # sandboxed: nothing to warn about


def test_each_fanned_out_item_writes_its_own_artifacts(engine, nb, workflow, run_wf):
    """An item's artifacts_dir is its own folder, the one its sandbox can write."""
    nb("writes.ipynb", "account = ''\nartifacts_dir = ''",
       "import os\npath = os.path.join(artifacts_dir, 'model.txt')\nopen(path, 'w').write(account)")
    wid = workflow(parameters=[{"name": "accounts", "type": "list", "default": ["acme", "globex"]}],
                   nodes=[{"id": "fit", "notebook": "writes.ipynb", "outputs": ["path"], "map_over": "accounts",
                           "map_parameter": "account"}])
    detail = run_wf(wid, timeout=90)
    assert detail["status"] == "success", json.dumps(detail["nodes"], indent=1)[:3000]
    paths = [Path(p) for p in nodes_of(detail)["fit"]["outputs"]["path"]]
    assert len(set(paths)) == 2 and [p.read_text() for p in paths] == ["acme", "globex"]


def test_fanned_out_items_fork_from_their_runs_sandbox_and_see_no_other_run(engine, nb, workflow, run_wf):
    """Items' kernels come from their run's warm interpreter (runtime/zygote.py); a later run's
    items, in a sandbox of their own, cannot read what the first run's items wrote."""
    nb("probe.ipynb", "account = ''\nartifacts_dir = ''\nsecret = ''",
       "import os\nopen(os.path.join(artifacts_dir, 'secret.txt'), 'w').write(account)\n"
       "path = os.path.join(artifacts_dir, 'secret.txt')\nseen = os.path.exists(secret) if secret else None\n"
       "forked = b'zygote_main' in open(f'/proc/{os.getppid()}/cmdline', 'rb').read()")
    wid = workflow(parameters=[{"name": "accounts", "type": "list", "default": ["acme", "globex"]},
                               {"name": "secret", "type": "str", "default": ""}],
                   nodes=[{"id": "fit", "notebook": "probe.ipynb", "outputs": ["path", "seen", "forked"],
                           "map_over": "accounts", "map_parameter": "account"}])
    first = nodes_of(run_wf(wid, timeout=90))["fit"]
    assert first["status"] == "success" and first["outputs"]["forked"] == [True, True], first
    secret = first["outputs"]["path"][0]
    assert Path(secret).read_text() == "acme"
    second = nodes_of(run_wf(wid, parameters={"secret": secret}, timeout=90))["fit"]
    assert second["status"] == "success" and second["outputs"]["seen"] == [False, False], second


def test_a_node_that_reuses_kernels_runs_its_items_in_fewer_kernels_each_from_an_empty_namespace(
        engine, nb, workflow, run_wf):
    """reuse_kernel on a real worker: items share the kernels their run's sandbox forked (one per
    worker thread), each item starts without the variables of the one before while the modules
    it imported stay; without it every item has a kernel of its own."""
    nb("item.ipynb", "n = 0", "import os, json\nclean = 'seen' not in globals()\nseen = n\n"
       "reused = hasattr(json, 'loom_mark')\njson.loom_mark = n\npid = os.getpid()\nhere = os.getcwd()")
    items = list(range(8))
    node = {"id": "item", "notebook": "item.ipynb", "map_over": "ns", "map_parameter": "n",
            "outputs": ["clean", "reused", "pid", "here"]}

    def run(reuse: bool) -> dict:
        detail = run_wf(workflow(parameters=[{"name": "ns", "type": "list", "default": items}],
                                 nodes=[{**node, "reuse_kernel": reuse}]))
        assert detail["status"] == "success", detail
        return nodes_of(detail)["item"]["outputs"]

    shared, own = run(True), run(False)
    assert shared["clean"] == [True] * 8 and own["clean"] == [True] * 8
    assert len(set(shared["pid"])) < 8 and any(shared["reused"])
    assert len(set(own["pid"])) == 8 and not any(own["reused"])
    assert len(set(shared["here"])) == 8  # each item still writes to its own folder


def test_a_worker_that_cannot_build_the_sandbox_refuses_notebooks(transactional_db, tenant, editor, nb, workflow,
                                                                  run_wf, tmp_path):
    """Secure by default: no sandbox (here: no notebook environment), no notebook; the node says
    why and how to opt out. The unsandboxed opt-out itself runs every test of test_engine.py."""
    nb("plain.ipynb", "x = 1", "y = x + 1")
    wid = workflow(nodes=[{"id": "p", "notebook": "plain.ipynb", "outputs": ["y"]}])
    with worker_start(tmp_path / "broken", LOOM_NOTEBOOK_ENV=str(tmp_path / "missing-env")):
        detail = run_wf(wid)
    node = nodes_of(detail)["p"]
    assert node["status"] == "failed"
    message = node["error"]["message"]
    assert "Notebooks do not run on this worker" in message and "missing-env has no bin/python" in message
    assert "LOOM_SANDBOX=off" in message
