"""runtime.limits on real kernels: what a notebook prints, outputs and writes is bounded, and each
breach names its setting. Small limits keep each test to a few seconds."""
import json
import os
import resource
from types import SimpleNamespace

import nbformat
import pytest

from helpers import notebook_bytes
from runtime.execute import NotebookFailed, notebook_execute
from runtime.limits import Limits, limits_from_env, size_text, tenant_quota_problem
from runtime.outputs import CUT_MIME, OutputBudget

MB = 10**6
SMALL = Limits(output_max_bytes=100_000, notebook_max_bytes=2 * MB, stream_max_bytes=1 * MB,
               node_files_max=5, node_bytes_max=2 * MB)


def nb(parameters, *cells):
    return nbformat.reads(notebook_bytes(parameters, *cells), as_version=4)


def run(pool, notebook, *, limits=SMALL, **kwargs):
    kwargs = {"output_path": None, "parameters": {}, **kwargs}
    return notebook_execute(notebook=notebook, kernel_manager=pool.take("python3"), limits=limits, **kwargs)


def outputs_of(notebook, source_start: str) -> list:
    return next(c.outputs for c in notebook.cells if c.source.startswith(source_start))


def peak_rss_reset() -> None:
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def peak_rss() -> int:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmHWM"))


def test_printing_hundreds_of_megabytes_keeps_the_head_and_a_marker_and_memory_bounded(tmp_path, pool):
    notebook = nb("n = 1", "for _ in range(n):\n    print('x' * 999_999)", "print('after')\nvalue = 1")
    peak_rss_reset()
    before = peak_rss()
    out = tmp_path / "out.ipynb"
    result = run(pool, notebook, parameters={"n": 300}, outputs=["value"], output_path=out)
    grown = peak_rss() - before
    assert result.outputs == {"value": 1}  # truncation is visible, not a failure
    texts = [o.get("text", "") for o in outputs_of(result.notebook, "for _")]
    assert texts[-1] == "[... 299 MB of output cut by Loom: the limit is 1 MB per node (LOOM_STREAM_MAX_BYTES)]\n"
    streams = [o.text for c in result.notebook.cells for o in c.get("outputs", []) if o.get("output_type") == "stream"]
    # The limit is in bytes, per node, over all cells (a kernel's own warnings count too).
    assert sum(len(t.encode()) for t in streams if not t.startswith("[... ")) == MB
    assert "after" not in json.dumps(outputs_of(result.notebook, "print('after')"))  # the limit is per node
    assert os.path.getsize(out) < 1.2 * MB
    # The kernel trims each message before sending it: the worker never holds the 300 MB.
    assert grown < 50 * MB, f"the worker's peak memory grew by {size_text(grown)}"


def test_the_worker_cuts_streams_itself_when_the_kernel_does_not():
    budget = OutputBudget(Limits(stream_max_bytes=10, notebook_max_bytes=100))
    messages = [{"msg_type": "stream", "content": {"name": "stdout", "text": t}} for t in ("12345", "67890ab", "c")]
    kept = [budget.admit(m, 0) for m in messages]
    assert kept == [True, True, False] and messages[1]["content"]["text"] == "67890"
    assert budget.admit({"msg_type": "display_data", "content": {"data": {CUT_MIME: 1000}}}, 0) is False
    assert budget.markers(0) == ["[... 1 KB of output cut by Loom: the limit is 10 bytes per node (LOOM_STREAM_MAX_BYTES)]"]
    plot = {"msg_type": "display_data", "content": {"data": {"image/png": "p" * 95}}}
    assert budget.admit(plot, 1) is False  # 10 bytes of streams + 95 > 100
    budget.cleared(0)  # a cleared cell gives its room back
    assert budget.admit(plot, 1) is True


def test_an_output_value_over_the_limit_fails_the_node_naming_it(pool):
    notebook = nb("x = 1", "big = 'x' * 5_000_000\nsmall = 2",
                  "from IPython.display import display\n"
                  "display({'application/scrapbook.scrap.json+json': {'name': 'glued', 'data': 'y' * 300_000,"
                  " 'encoder': 'json', 'version': 1}}, raw=True)")
    with pytest.raises(NotebookFailed) as failed:
        run(pool, notebook, outputs=["small", "big"])
    assert failed.value.message == ("Output 'big' is 5 MB of JSON; the limit is 100 KB (LOOM_OUTPUT_MAX_BYTES): "
                                    "write large data to artifacts_dir and output its path.")
    assert len(nbformat.writes(failed.value.notebook)) < 400_000  # neither value is kept
    with pytest.raises(NotebookFailed, match=r"Output 'glued' is 300 KB of JSON; the limit is 100 KB"):
        run(pool, notebook, outputs=["small", "glued"])


def test_the_executed_notebook_keeps_at_most_its_limit_of_outputs(pool):
    notebook = nb("x = 1", "from IPython.display import HTML, display\n"
                           "for i in range(30):\n    display(HTML('<p>' + 'h' * 100_000 + '</p>'))\nvalue = 1")
    result = run(pool, notebook, outputs=["value"])
    outputs = outputs_of(result.notebook, "from IPython")
    assert len(outputs) == 20 and result.outputs == {"value": 1}
    assert outputs[-1].text.startswith("[... 11 output(s), 1.1 MB, cut by Loom: the executed notebook may hold "
                                       "at most 2 MB of outputs (LOOM_NOTEBOOK_OUTPUT_MAX_BYTES)]")


def test_cleared_outputs_give_their_room_back(pool):
    notebook = nb("x = 1", "from IPython.display import HTML, clear_output, display\n"
                           "for i in range(30):\n    clear_output(wait=True)\n"
                           "    display(HTML(f'<p>{i}' + 'h' * 500_000 + '</p>'))")
    outputs = outputs_of(run(pool, notebook).notebook, "from IPython")
    assert len(outputs) == 1 and outputs[0].data["text/html"].startswith("<p>29")  # 15 MB shown, 0.5 MB kept


def test_too_many_files_or_bytes_in_the_folder_fail_the_node(tmp_path, pool):
    many = nb("n = 1", "for i in range(n):\n    open(f'f{i}', 'w').write('x')")
    (tmp_path / "five").mkdir()
    (tmp_path / "six").mkdir()
    run(pool, many, parameters={"n": 5}, cwd=tmp_path / "five")  # at the limit is fine
    with pytest.raises(NotebookFailed, match=r"^The node wrote 6 files in its folder; the limit is 5 per node "
                                             r"\(LOOM_NODE_FILES_MAX\)\.$"):
        run(pool, many, parameters={"n": 6}, cwd=tmp_path / "six")


def test_a_file_past_the_limit_stops_growing_while_it_is_written(tmp_path, pool):
    notebook = nb("x = 1", "with open('big', 'wb') as f:\n    for _ in range(10):\n        f.write(b'x' * 500_000)")
    (tmp_path / "w").mkdir()
    with pytest.raises(NotebookFailed) as failed:
        run(pool, notebook, cwd=tmp_path / "w")
    assert failed.value.message.startswith("Cell 2 raised OSError: [Errno 27] File too large")
    assert failed.value.message.endswith("File too large (one file may be at most 2 MB: LOOM_NODE_ARTIFACTS_MAX_MB)")
    assert (tmp_path / "w" / "big").stat().st_size == 2 * MB
    assert resource.getrlimit(resource.RLIMIT_FSIZE)[0] == resource.RLIM_INFINITY  # only the kernel's


def test_the_default_timeout_names_where_it_came_from(pool):
    limits = Limits(timeout_default_s=3.5, timeout_max_s=7)  # room for a kernel still starting under load
    timeout_s, limits = limits.timeout(None)
    with pytest.raises(NotebookFailed, match=r"^Timed out after 3.5 s while cell 2 ran \(LOOM_NODE_TIMEOUT_S, the "
                                             r"default for nodes without timeout_s\); the kernel was stopped\.$"):
        run(pool, nb("x = 1", "import time\ntime.sleep(30)"), limits=limits, timeout_s=timeout_s)
    assert Limits(timeout_default_s=1.5, timeout_max_s=3).timeout(7200, 60) == (3, Limits(
        timeout_default_s=1.5, timeout_max_s=3,
        timeout_source="LOOM_NODE_TIMEOUT_MAX_S, the platform maximum; the node's timeout_s asked for 7200 s"))
    assert Limits(timeout_default_s=1.5).timeout(None, 60)[0] == 60


def test_kernel_limits_come_from_the_node_else_the_tenant_else_the_platform_never_above_it():
    platform = SimpleNamespace(memory_mb=2048, max_procs=256)  # the sandbox's config

    def chosen(node, tenant):
        limits = Limits().kernel(node=node, tenant=tenant, platform=platform)
        return {k: (getattr(limits, k), limits.kernel_source(k)) for k in ("memory_mb", "max_procs")}

    assert chosen({"memory_mb": 512}, {"node_memory_mb": 1024, "node_max_procs": 32}) == {
        "memory_mb": (512, "the node's memory_mb"), "max_procs": (32, "the tenant's node_max_procs")}
    assert chosen({"memory_mb": None}, {"node_memory_mb": None}) == {
        "memory_mb": (2048, "LOOM_KERNEL_MEMORY_MB"), "max_procs": (256, "LOOM_KERNEL_MAX_PROCS")}
    assert chosen({"max_procs": 1000}, {"node_memory_mb": 4096}) == {
        "memory_mb": (2048, "LOOM_KERNEL_MEMORY_MB, the platform maximum; the tenant's node_memory_mb asked for 4,096 MB"),
        "max_procs": (256, "LOOM_KERNEL_MAX_PROCS, the platform maximum; the node's max_procs asked for 1,000 processes")}
    assert Limits().kernel_source("memory_mb") == "LOOM_KERNEL_MEMORY_MB"  # not chosen: the sandbox's own


def test_a_tenant_over_its_quota_is_told_which_quota():
    over = {"tenant": "acme", "used": 1_500_000}
    assert tenant_quota_problem(**over, platform_bytes=50 * 10**9, own_mb=1) == (
        "Tenant 'acme' has 1.5 MB of artifacts; the limit is 1 MB (the tenant's artifacts_quota_mb). "
        "Delete old runs' artifacts, or ask an admin for more room.")
    # The platform's maximum wins over a larger own quota; 0 (None) turns the platform's off.
    assert "the limit is 1 MB (LOOM_TENANT_ARTIFACTS_MAX_MB)" in tenant_quota_problem(**over, platform_bytes=MB, own_mb=5)
    assert tenant_quota_problem(**over, platform_bytes=None, own_mb=2) is None
    assert tenant_quota_problem(**over, platform_bytes=None, own_mb=None) is None
    assert limits_from_env({}).tenant_bytes_max == 50_000 * MB
    assert limits_from_env({"LOOM_TENANT_ARTIFACTS_MAX_MB": "0"}).tenant_bytes_max is None


def test_limits_from_the_environment():
    limits = limits_from_env({"LOOM_OUTPUT_MAX_BYTES": "5", "LOOM_NODE_ARTIFACTS_MAX_MB": "2", "LOOM_STREAM_MAX_BYTES": "0",
                              "LOOM_NODE_TIMEOUT_S": "1.5"})
    assert (limits.output_max_bytes, limits.node_bytes_max, limits.stream_max_bytes) == (5, 2 * MB, None)
    assert (limits.timeout_default_s, limits.timeout_max_s) == (1.5, 86400)
    assert limits_from_env({}).notebook_max_bytes == 20 * MB
