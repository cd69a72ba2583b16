"""Kernels forked from a run's warm interpreter (runtime/zygote.py): real bubblewrap, real
kernels. Each forked kernel is a fresh process serving one notebook; one run's sandbox never
serves another run or tenant, which cannot see its files or processes."""
import shutil
import tempfile
import time
from pathlib import Path

import nbformat
import pytest

from helpers import notebook_bytes
from runtime.execute import NotebookFailed, notebook_execute
from runtime.limits import Limits
from runtime.sandbox import sandbox_config, sandbox_problem
from runtime.run_sandboxes import RunSandboxes
from tests.runtime.support import BIG_FILE, LIFT


@pytest.fixture(scope="module")
def root():
    path = Path(tempfile.mkdtemp(prefix="loom-zygote-test-"))  # not pytest's 0700 folder: nobody must reach it
    path.chmod(0o711)
    (path / "artifacts").mkdir(mode=0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def runs(root):
    config = sandbox_config({"LOOM_SANDBOX_NETWORK": "none", "LOOM_KERNEL_MEMORY_MB": "1024",
                             "LOOM_KERNEL_MAX_PROCS": "64"}, root=root / "sandboxes")
    assert sandbox_problem(config) is None, sandbox_problem(config)
    r = RunSandboxes(config, view_at=root / "artifacts", slots=2, max_live=2, idle_s=60)
    yield r
    r.close()


def item(runs, root, key, leaf, *cells, outputs=(), reuse=None):
    """Run one notebook as item `leaf` of run key=(tenant, run) on a kernel forked for that run
    (with `reuse`, a node id: the kernel an earlier item of that node left, if any)."""
    tenant, run = key
    cwd = root / "artifacts" / f"t{tenant}" / str(run) / leaf
    cwd.mkdir(parents=True, exist_ok=True)
    km = runs.kernel_manager("python3", key, reuse=reuse)
    assert km is not None
    nb = nbformat.reads(notebook_bytes("x = 1", *cells), as_version=4)
    return notebook_execute(notebook=nb, output_path=None, parameters={}, outputs=outputs, cwd=cwd, kernel_manager=km)


def test_each_notebook_gets_a_fresh_process_with_its_files_in_its_folder(runs, root):
    first = item(runs, root, (1, 10), "each-0", "import os\nleak = 'first'\npid = os.getpid()\ncwd = os.getcwd()\n"
                 "open('out.txt', 'w').write('zero')", outputs=["pid", "cwd"]).outputs
    second = item(runs, root, (1, 10), "each-1", "import os\npid = os.getpid()\nseen = 'leak' in globals()",
                  outputs=["pid", "seen"]).outputs
    assert first["pid"] != second["pid"] and second["seen"] is False
    assert first["cwd"].startswith("/loom/work/")  # its own writable folder, as a pooled kernel's /loom/work
    assert (root / "artifacts" / "t1" / "10" / "each-0" / "out.txt").read_text() == "zero"
    assert runs.live() == 1  # both from the same run sandbox


def test_a_run_cannot_see_another_runs_or_tenants_files_or_processes(runs, root):
    item(runs, root, (1, 10), "secret-0", "import time\nopen('secret.txt', 'w').write('run 10')")
    probe = "import os\ntheirs = os.path.exists(%r)\ntenants = sorted(os.listdir(%r))\nruns = sorted(os.listdir(%r))"
    secret = root / "artifacts" / "t1" / "10" / "secret-0" / "secret.txt"
    probe = probe % (str(secret), str(root / "artifacts"), str(root / "artifacts" / "t1"))
    other_run = item(runs, root, (1, 11), "n-0", probe, outputs=["theirs", "tenants", "runs"]).outputs
    assert other_run == {"theirs": False, "tenants": ["t1"], "runs": ["11"]}
    other_tenant = item(runs, root, (2, 10), "n-0", probe.rsplit("\n", 1)[0],
                        outputs=["theirs", "tenants"]).outputs
    assert other_tenant == {"theirs": False, "tenants": ["t2"]}
    same_run = item(runs, root, (1, 10), "later", probe, outputs=["theirs"]).outputs
    assert same_run["theirs"] is True  # its own run's earlier files are readable, as with one sandbox per kernel
    with pytest.raises(NotebookFailed, match="Read-only|Permission"):
        item(runs, root, (1, 10), "later-1", f"open({str(secret)!r}, 'a').write('x')")


def test_processes_of_other_runs_are_invisible(runs, root):
    """A kernel sees its run's processes only: two live run sandboxes, two PID namespaces."""
    code = "import os\nns = os.readlink('/proc/self/ns/pid')\nhost = os.path.exists('/proc/1/cmdline') and b'bwrap' in open('/proc/1/cmdline','rb').read()"
    a = item(runs, root, (3, 1), "p-0", code, outputs=["ns", "host"]).outputs
    b = item(runs, root, (3, 2), "p-0", code, outputs=["ns", "host"]).outputs
    assert a["ns"] != b["ns"]
    assert a["host"] and b["host"]  # pid 1 is the sandbox's own init, not the worker's


def test_other_kernels_still_start_when_every_sandbox_is_busy(runs, root):
    """At most max_live run sandboxes: a run beyond them gets no forked kernel (None: the worker
    then starts one the usual way) while the others run kernels; an idle one is closed for it."""
    a, b = runs.kernel_manager("python3", (9, 1)), runs.kernel_manager("python3", (9, 2))
    assert runs.kernel_manager("python3", (9, 3)) is None
    for km in (a, b):
        km.cleanup_ipc_files()  # disposed of without running: the sandboxes are idle again
    c = runs.kernel_manager("python3", (9, 3))
    assert c is not None and runs.live() == 2
    c.cleanup_ipc_files()
    assert runs.kernel_manager("ir", (9, 3)) is None  # only ipykernel forks


def test_the_timeout_kills_a_forked_kernel(runs, root):
    """The worker reaches a forked kernel by its pid (its credentials' pid, seen from here) as it
    reaches any kernel: the timeout kills its process group, and the run's sandbox serves on."""
    slow = nbformat.reads(notebook_bytes("x = 1", "import time\ntime.sleep(60)"), as_version=4)
    started = time.monotonic()
    with pytest.raises(NotebookFailed, match="Timed out after 2 s"):
        notebook_execute(notebook=slow, output_path=None, parameters={}, cwd=root / "artifacts" / "t4" / "1" / "slow-0",
                         timeout_s=2, kernel_manager=runs.kernel_manager("python3", (4, 1)))
    assert time.monotonic() - started < 30
    assert item(runs, root, (4, 1), "after-0", "y = x + 1", outputs=["y"]).outputs == {"y": 2}


def test_a_file_past_the_size_limit_fails_naming_it_in_a_forked_kernel(runs, root):
    """RLIMIT_FSIZE reaches a forked kernel (which the worker, root without CAP_SYS_RESOURCE here,
    may not prlimit from outside): the kernel sets it on itself, and cannot lift it again."""
    limits = Limits(node_bytes_max=2 * 10**6)
    cwd = root / "artifacts" / "t5" / "1" / "big-0"
    cwd.mkdir(parents=True)
    notebook = nbformat.reads(notebook_bytes("x = 1", BIG_FILE), as_version=4)
    with pytest.raises(NotebookFailed) as failed:
        notebook_execute(notebook=notebook, output_path=None, parameters={}, cwd=cwd, limits=limits,
                         kernel_manager=runs.kernel_manager("python3", (5, 1)))
    assert failed.value.message.startswith("Cell 2 raised OSError: [Errno 27] File too large")
    assert failed.value.message.endswith("(one file may be at most 2 MB: LOOM_NODE_ARTIFACTS_MAX_MB)")
    assert (cwd / "big").stat().st_size == 2 * 10**6
    lift = nbformat.reads(notebook_bytes("x = 1", LIFT), as_version=4)
    assert notebook_execute(notebook=lift, output_path=None, parameters={}, outputs=["seen"], limits=limits,
                            cwd=root / "artifacts" / "t5" / "1" / "lift-0",
                            kernel_manager=runs.kernel_manager("python3", (5, 1))).outputs == {"seen": str(2 * 10**6)}


def test_a_forked_kernel_is_configured_as_a_fresh_one_and_not_by_an_earlier_notebook(runs, root):
    """The warm interpreter reads the kernel's command line and config files once, before any
    notebook (runtime/zygote_main.py _configure): each fork keeps its input history off, as a
    kernel started by runtime/engine.py does, and a config file an earlier notebook of the same
    run wrote into the shared /tmp does not configure later kernels."""
    item(runs, root, (6, 1), "cfg-0", "import os\nos.makedirs('/tmp/.ipython/profile_default', exist_ok=True)\n"
         "open('/tmp/.ipython/profile_default/ipython_kernel_config.py', 'w').write('c.IPKernelApp.exec_lines = [\"leak = 1\"]')")
    seen = item(runs, root, (6, 1), "cfg-1", "leaked = 'leak' in globals()\n"
                "history = get_ipython().history_manager.enabled", outputs=["leaked", "history"]).outputs
    assert seen == {"leaked": False, "history": False}


REUSED = ("import os, json\nfirst = 'leak' not in globals()\nleak = 1\nmarked = hasattr(json, 'loom_mark')\n"
          "json.loom_mark = 1\npid = os.getpid()\ncwd = os.getcwd()\nopen('out.txt', 'w').write(cwd)")


def test_a_node_that_reuses_kernels_keeps_its_imports_but_not_its_namespace_nor_another_nodes_or_runs(runs, root):
    """reuse_kernel: the next item of the same node of the same run, on the same thread, gets the
    kernel back with an empty namespace (execution counts from 1) and its modules imported; its
    files go to its own folder. Another node, another run and the item after a failure get
    fresh kernels."""
    a = item(runs, root, (7, 1), "each-0", REUSED, outputs=["first", "marked", "pid", "cwd"], reuse="each")
    b = item(runs, root, (7, 1), "each-1", REUSED, outputs=["first", "marked", "pid", "cwd"], reuse="each")
    assert b.outputs["pid"] == a.outputs["pid"]
    assert (a.outputs["first"], a.outputs["marked"]) == (True, False)
    assert (b.outputs["first"], b.outputs["marked"]) == (True, True)  # a clean namespace, json still imported
    assert [c.execution_count for c in b.notebook.cells if c.cell_type == "code"][:2] == [1, 2]
    for leaf, result in (("each-0", a), ("each-1", b)):
        assert (root / "artifacts" / "t7" / "1" / leaf / "out.txt").read_text() == result.outputs["cwd"]
    assert a.outputs["cwd"] != b.outputs["cwd"]

    other_node = item(runs, root, (7, 1), "other-0", REUSED, outputs=["pid", "marked"], reuse="other")
    other_run = item(runs, root, (7, 2), "each-0", REUSED, outputs=["marked"], reuse="each")  # its own PID namespace
    assert other_node.outputs["pid"] != a.outputs["pid"]
    assert other_node.outputs["marked"] is False and other_run.outputs["marked"] is False

    with pytest.raises(NotebookFailed, match="boom"):
        item(runs, root, (7, 1), "each-2", "import os\npid = os.getpid()\nraise ValueError('boom')", reuse="each")
    after = item(runs, root, (7, 1), "each-3", REUSED, outputs=["pid", "marked"], reuse="each")
    assert after.outputs["pid"] != a.outputs["pid"] and after.outputs["marked"] is False


def test_a_shelved_kernel_left_idle_is_disposed_of_and_its_run_sandbox_closed(root):
    config = sandbox_config({"LOOM_SANDBOX_NETWORK": "none"}, root=root / "sandboxes-shelf")
    runs = RunSandboxes(config, view_at=root / "artifacts", slots=1, max_live=1, idle_s=1, shelf_s=1)
    try:
        item(runs, root, (8, 1), "each-0", "y = x + 1", outputs=["y"], reuse="each")
        assert runs.live() == 1
        deadline = time.monotonic() + 20
        while runs.live() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert runs.live() == 0
    finally:
        runs.close()


def test_a_reused_kernel_gives_each_item_its_own_stream_budget_without_piling_up_hooks(runs, root):
    """The stream limit's hooks are installed once per kernel: each item of a node that reuses
    kernels starts with the whole budget (an earlier item that used it up cuts nothing of the
    next), and the cells of the hundredth item run no more hooks than the first's."""
    limits = Limits(stream_max_bytes=1000)

    def run(leaf, code):
        cwd = root / "artifacts" / "t9" / "1" / leaf
        cwd.mkdir(parents=True)
        nb = nbformat.reads(notebook_bytes("x = 1", code), as_version=4)
        return notebook_execute(notebook=nb, output_path=None, parameters={}, outputs=["hooks"], cwd=cwd, limits=limits,
                                kernel_manager=runs.kernel_manager("python3", (9, 1), reuse="each"))

    count = "hooks = len(get_ipython().events.callbacks['post_run_cell'])"
    loud = run("each-0", f"print('x' * 5000)\n{count}")
    assert "x" * 1001 not in str(loud.notebook.cells[-1].outputs)  # cut at the limit
    quiet = [run(f"each-{i}", f"print('y' * 900)\n{count}") for i in range(1, 4)]
    assert all("y" * 900 in str(r.notebook.cells[-1].outputs) for r in quiet)
    assert {r.outputs["hooks"] for r in quiet} == {loud.outputs["hooks"]}
