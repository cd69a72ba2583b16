"""Hostile notebooks against the sandbox itself (runtime level, no Django): real bubblewrap,
real kernels from the notebook environment, one property each, and a benign notebook right
after each on the same pool. The same properties through the API on a real worker are in
tests/runs/test_sandbox.py."""
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import nbformat
import pytest

from helpers import notebook_bytes
from runtime.execute import NotebookFailed, notebook_execute
from runtime.limits import Limits
from runtime.sandbox import Sandbox, sandbox_config, sandbox_problem
from tests.runtime.support import BIG_FILE, LIFT, kernel_pool, outside_server  # noqa: F401 - a fixture

REPO = Path(__file__).resolve().parents[2]
HOST_SECRET = "host-secret-3f1c9a"


def nb(parameters, *cells):
    return nbformat.reads(notebook_bytes(parameters, *cells), as_version=4)


@pytest.fixture(scope="module")
def root():
    # Not under pytest's 0700 temp folder: run by root, bwrap runs as nobody, who must reach it.
    path = Path(tempfile.mkdtemp(prefix="loom-sandbox-test-"))
    path.chmod(0o711)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _pool(root: Path, network: str):
    config = sandbox_config({"LOOM_SANDBOX_NETWORK": network, "LOOM_KERNEL_MEMORY_MB": "1024",
                             "LOOM_KERNEL_MAX_PROCS": "64"}, root=root / "sandboxes")
    assert sandbox_problem(config) is None, sandbox_problem(config)
    return kernel_pool(sandbox=config, view_at=str(root / "artifacts"))


@pytest.fixture(scope="module")
def pool(root):
    os.environ["LOOM_TEST_HOST_SECRET"] = HOST_SECRET  # in the worker's environment, never the kernel's
    p = _pool(root, "egress")
    yield p
    p.close()
    del os.environ["LOOM_TEST_HOST_SECRET"]


def run(pool, root, *cells, outputs=(), node="n", parameters=None, **kw):
    cwd = root / "artifacts" / "acme" / "1" / node
    cwd.mkdir(parents=True, exist_ok=True)
    return notebook_execute(notebook=nb("x = 1", *cells), output_path=None, parameters=parameters or {},
                            outputs=list(outputs), cwd=cwd, kernel_manager=pool.take("python3"), **kw)


def benign(pool, root):
    """A benign notebook right after: outputs, an artifact, scrapbook glue."""
    result = run(pool, root, "import scrapbook as sb, numpy, pandas, sklearn, matplotlib\n"
                 "open('model.txt', 'w').write('ok')\ny = int(numpy.array([x, 1]).sum())\nsb.glue('glued', y)",
                 outputs=["y", "glued"], node="benign")
    assert result.outputs == {"y": 2, "glued": 2}
    assert (root / "artifacts" / "acme" / "1" / "benign" / "model.txt").read_text() == "ok"


def blocked(pool, root, code: str, **kw) -> str:
    """Run `code` (which outputs `seen`); return it, and check a benign notebook runs after."""
    result = run(pool, root, code, outputs=["seen"], **kw)
    benign(pool, root)
    return result.outputs["seen"]


def test_loom_data_dir_and_secrets_are_not_in_view(pool, root):
    secret = root / "encryption.key"
    secret.write_text("the key")
    paths = [str(secret), str(REPO / "var"), str(REPO / "backend" / "loom" / "settings.py"), "/root", "/home",
             "/etc/shadow", "/var/lib/postgresql"]
    seen = blocked(pool, root, f"import os\nseen = {{p: os.path.exists(p) for p in {paths!r}}}")
    assert seen == {p: False for p in paths}


def test_proc_shows_only_the_sandbox_and_no_worker_environment(pool, root):
    seen = blocked(pool, root, "import os, glob\nseen = []\n"
                   "for f in glob.glob('/proc/[0-9]*/environ'):\n"
                   "    try:\n        seen.append(open(f, 'rb').read().decode(errors='replace'))\n"
                   "    except OSError:\n        pass\n"
                   "seen = {'pids': sorted(int(p) for p in os.listdir('/proc') if p.isdigit()), 'env': seen,"
                   " 'uid': os.getuid(), 'mine': dict(os.environ)}")
    assert seen["pids"] and max(seen["pids"]) < 100  # its own PID namespace: the worker is not there
    assert not any(HOST_SECRET in e or "LOOM_TEST" in e for e in seen["env"])
    assert seen["uid"] == 1000 and "LOOM_TEST_HOST_SECRET" not in seen["mine"]


def test_another_kernels_connection_file_is_out_of_reach(pool, root):
    with pool._wanted:
        # Both kernels idle: the one taken next is the oldest, so the newest is another kernel.
        assert pool._wanted.wait_for(lambda: len(pool._idle) == 2, timeout=60)
        other = pool._idle[-1].connection_file
    code = (f"import os\nother = {other!r}\nfound = []\n"
            "for d, _, files in os.walk('/', onerror=lambda e: None):\n"
            "    if d.startswith(('/proc', '/usr', '/sys', os.environ['VIRTUAL_ENV'])):\n        continue\n"
            "    found += [os.path.join(d, f) for f in files if f.endswith('.json') and 'kernel' in f]\n"
            "seen = {'other': os.path.exists(other), 'dir': os.path.exists(os.path.dirname(os.path.dirname(other))),"
            " 'found': found}")
    seen = blocked(pool, root, code)
    assert not seen["other"] and not seen["dir"]
    assert len(seen["found"]) == 1  # its own connection file, nobody else's


def test_another_tenants_artifacts_are_invisible_and_upstream_files_read_only(pool, root):
    theirs = root / "artifacts" / "globex" / "9" / "n"
    theirs.mkdir(parents=True)
    (theirs / "data.csv").write_text("globex data")
    upstream = root / "artifacts" / "acme" / "1" / "up"
    upstream.mkdir(parents=True, exist_ok=True)
    (upstream / "rows.json").write_text("[1, 2]")
    code = (f"import os, json\nseen = {{'theirs': os.path.exists({str(theirs / 'data.csv')!r}),"
            f" 'root': sorted(os.listdir({str(root / 'artifacts')!r})),"
            f" 'upstream': json.load(open({str(upstream / 'rows.json')!r}))}}\n"
            f"try:\n    open({str(upstream / 'rows.json')!r}, 'w').write('tampered')\n"
            "    seen['wrote'] = True\nexcept OSError as e:\n    seen['wrote'] = e.strerror")
    seen = blocked(pool, root, code)
    assert seen == {"theirs": False, "root": ["acme"], "upstream": [1, 2], "wrote": "Read-only file system"}
    assert (upstream / "rows.json").read_text() == "[1, 2]"


def test_loom_is_not_importable_in_the_notebook_environment(pool, root):
    seen = blocked(pool, root, "import importlib.util as u\n"
                   "seen = [m for m in ('django', 'celery', 'rest_framework', 'runtime', 'loom', 'runs') if u.find_spec(m)]")
    assert seen == []


def test_memory_past_the_limit_fails_naming_it(pool, root):
    with pytest.raises(NotebookFailed) as e:
        run(pool, root, "block = bytearray(8 * 1024**3)")
    assert "MemoryError" in e.value.message and "memory limit is 1024 MB" in e.value.message
    assert "LOOM_KERNEL_MEMORY_MB" in e.value.message
    benign(pool, root)


def test_a_fork_bomb_stops_at_the_process_limit(pool, root):
    code = ("import os, time\nchildren = []\nwhile True:\n    pid = os.fork()\n    if pid == 0:\n"
            "        time.sleep(60)\n        os._exit(0)\n    children.append(pid)")
    with pytest.raises(NotebookFailed) as e:
        run(pool, root, code)
    assert "BlockingIOError" in e.value.message and "process limit is 64" in e.value.message
    benign(pool, root)


@pytest.mark.parametrize("network", ["egress", "none"])
def test_loom_services_on_loopback_are_unreachable(root, network):
    """PostgreSQL, Redis and a web port on the host's loopback (one of our own, to be sure it listens)."""
    web = HTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    threading.Thread(target=web.serve_forever, daemon=True).start()
    ports = [5432, 6379, web.server_port]
    targets = [[h, p] for p in ports for h in ("127.0.0.1", "10.0.2.2")]
    code = ("import socket\nseen = {}\nfor h, p in " + repr(targets) + ":\n"
            "    try:\n        socket.create_connection((h, p), timeout=2).close()\n        seen[f'{h}:{p}'] = 'open'\n"
            "    except OSError as e:\n        seen[f'{h}:{p}'] = 'blocked'")
    pool = _pool(root, network)
    try:
        for port in ports:  # each listens on the host's loopback (make test starts PostgreSQL and Redis)
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
        seen = blocked(pool, root, code)
    finally:
        pool.close()
        web.shutdown()
    assert set(seen.values()) == {"blocked"}, seen


@pytest.mark.skipif(os.geteuid() != 0, reason="creating a network namespace needs root")
def test_egress_reaches_an_outside_server(pool, root, outside_server):
    seen = blocked(pool, root, f"import urllib.request\nseen = urllib.request.urlopen({outside_server!r}, timeout=10).read().decode()")
    assert seen == "hello from outside"


def test_none_network_reaches_nothing(root, outside_server):
    pool = _pool(root, "none")
    try:
        seen = blocked(pool, root, "import urllib.request\ntry:\n"
                       f"    seen = urllib.request.urlopen({outside_server!r}, timeout=3).read().decode()\n"
                       "except OSError as e:\n    seen = 'blocked'")
    finally:
        pool.close()
    assert seen == "blocked"


def test_a_failed_parameter_injection_kills_its_pre_started_kernel(pool, root):
    km = pool.take("python3")
    process = km.provisioner.process
    notebook = nbformat.reads(notebook_bytes("x = 1", "y = x", language="cobol"), as_version=4)
    with pytest.raises(Exception, match="cobol"):
        notebook_execute(notebook=notebook, output_path=None, parameters={"x": 2}, kernel_manager=km)
    assert process.poll() is not None
    gone(Path(km.sandbox.base))
    benign(pool, root)


def test_a_fresh_sandbox_runs_a_notebook_and_leaves_nothing_behind(root):
    config = sandbox_config({"LOOM_SANDBOX_NETWORK": "none"}, root=root / "sandboxes")
    from runtime.execute import kernel_manager

    before = set(os.listdir(root / "sandboxes"))
    cwd = root / "artifacts" / "acme" / "2" / "fresh"
    cwd.mkdir(parents=True)
    sandbox = Sandbox(config, view_at=root / "artifacts")
    result = notebook_execute(notebook=nb("x = 1", "import os\nopen('f.txt', 'w').write('x')\nwhere = os.getcwd()"),
                              output_path=None, parameters={}, outputs=["where"], cwd=cwd,
                              kernel_manager=kernel_manager("python3", sandbox=sandbox))
    assert result.outputs == {"where": "/loom/work"} and (cwd / "f.txt").read_text() == "x"
    gone(sandbox.base)
    assert set(os.listdir(root / "sandboxes")) - before == set()


@pytest.mark.parametrize("network", ["none", "egress"])
def test_a_sandbox_bwrap_fails_to_build_is_built_again(root, network):
    """Under load bwrap now and then dies building a sandbox after it started ("Failed
    RTM_NEWADDR"): the kernel's start notices (the launcher never ran) and builds a new one."""
    from runtime.execute import kernel_manager

    class Flaky(Sandbox):
        commands = 0

        def command(self, kernel_cmd, **kw):
            argv = super().command(kernel_cmd, **kw)
            Flaky.commands += 1
            if Flaky.commands == 1:  # a mount bwrap cannot make: it dies while building the sandbox
                argv.insert(argv.index("bwrap") + 1, "/x")
                argv.insert(argv.index("bwrap") + 1, str(root / "no-such-folder"))
                argv.insert(argv.index("bwrap") + 1, "--ro-bind")
            return argv

    config = sandbox_config({"LOOM_SANDBOX_NETWORK": network}, root=root / "sandboxes")
    cwd = root / "artifacts" / "acme" / "3" / f"flaky-{network}"
    cwd.mkdir(parents=True)
    result = notebook_execute(notebook=nb("x = 1", "y = x + 1"), output_path=None, parameters={}, outputs=["y"], cwd=cwd,
                              kernel_manager=kernel_manager("python3", sandbox=Flaky(config, view_at=root / "artifacts")))
    assert result.outputs == {"y": 2} and Flaky.commands == 2


def gone(path: Path, within_s: float = 10) -> None:
    """The sandbox's folder is removed in the background, soon after its kernel ends."""
    deadline = time.monotonic() + within_s
    while path.exists():
        assert time.monotonic() < deadline, f"{path} is still there"
        time.sleep(0.05)


def test_a_node_can_lower_its_limits_but_not_raise_them(pool, root):
    def limits(**node):
        return Limits().kernel(node=node, tenant={"node_max_procs": 48}, platform=pool.sandbox)

    with pytest.raises(NotebookFailed) as e:
        run(pool, root, "block = bytearray(700 * 1024**2)", limits=limits(memory_mb=512))
    assert "MemoryError" in e.value.message
    assert e.value.message.endswith("The kernel's memory limit is 512 MB per process (the node's memory_mb).")
    code = "import resource\nseen = [resource.getrlimit(r)[1] for r in (resource.RLIMIT_DATA, resource.RLIMIT_NPROC)]"
    assert run(pool, root, code, outputs=["seen"], limits=limits(memory_mb=10**6, max_procs=32)).outputs == {
        "seen": [1024 << 20, 32]}  # memory capped at the platform's 1024 MB
    assert run(pool, root, code, outputs=["seen"], limits=limits()).outputs == {"seen": [1024 << 20, 48]}  # the tenant's
    benign(pool, root)


def test_a_restarted_worker_sweeps_what_a_killed_one_left(root):
    from runtime.trees import sandboxes_sweep

    dead = subprocess.Popen(["true"])
    dead.wait()
    (root / "sandboxes" / f"{dead.pid}-left").mkdir(parents=True)
    (root / "sandboxes" / f"{os.getpid()}-mine").mkdir()
    assert sandboxes_sweep(root / "sandboxes") >= 1
    assert not (root / "sandboxes" / f"{dead.pid}-left").exists() and (root / "sandboxes" / f"{os.getpid()}-mine").exists()



def test_a_file_past_the_size_limit_fails_naming_it_in_a_sandboxed_kernel(pool, root):
    """A root worker without CAP_SYS_RESOURCE (a container's default) cannot set a sandboxed kernel's
    RLIMIT_FSIZE from outside (it runs as nobody): the kernel sets it on itself, for good."""
    limits = Limits(node_bytes_max=2 * 10**6)
    with pytest.raises(NotebookFailed) as failed:
        run(pool, root, BIG_FILE, node="big", limits=limits)
    assert failed.value.message.startswith("Cell 2 raised OSError: [Errno 27] File too large")
    assert failed.value.message.endswith("(one file may be at most 2 MB: LOOM_NODE_ARTIFACTS_MAX_MB)")
    assert (root / "artifacts" / "acme" / "1" / "big" / "big").stat().st_size == 2 * 10**6
    assert run(pool, root, LIFT, outputs=["seen"], limits=limits).outputs == {"seen": str(2 * 10**6)}
    benign(pool, root)
