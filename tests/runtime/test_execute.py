"""runtime.execute without Django: real notebooks on real kernels."""
import threading
import time

import nbformat
import pytest

from helpers import notebook_bytes
from runtime.execute import NotebookCancelled, NotebookFailed, connection_env, kernel_environment, notebook_execute
from runtime.limits import Limits


def nb(parameters, *cells):
    return nbformat.reads(notebook_bytes(parameters, *cells), as_version=4)


def test_parameters_in_outputs_out_from_variables_and_glue(tmp_path, pool):
    notebook = nb("x = 1\nname = 'a'",
                  "y = x * 2",
                  "from IPython.display import display\n"
                  "display({'application/scrapbook.scrap.json+json': {'name': 'glued', 'data': [name, x], 'encoder': 'json',"
                  " 'version': 1}}, raw=True)")
    out = tmp_path / "out.ipynb"
    result = notebook_execute(notebook=notebook, output_path=out, parameters={"x": 21, "name": "b"},
                              outputs=["y", "glued"], kernel_manager=pool.take("python3"))
    assert result.outputs == {"y": 42, "glued": ["b", 21]}
    assert "injected-parameters" in out.read_text()


def test_collecting_outputs_prints_nothing_into_the_nodes_log(pool):
    """Loom's collector cell is its own plumbing: no warning of it reaches what the user reads."""
    lines = []
    notebook_execute(notebook=nb("x = 1", "y = x"), output_path=None, parameters={}, outputs=["y"],
                     limits=Limits(output_max_bytes=1000), kernel_manager=pool.take("python3"),
                     on_stream=lambda cell, name, line: lines.append(line))
    assert lines == []


def test_a_pre_started_kernel_gets_the_env_and_cwd_and_serves_one_notebook(tmp_path, pool):
    km = pool.take("python3")
    notebook = nb("x = 1", "import os\nvalue = os.environ['LOOM_CONN_DB_HOST']\nwhere = os.getcwd()\npid = os.getpid()")
    result = notebook_execute(notebook=notebook, output_path=None, parameters={}, outputs=["value", "where", "pid"],
                              env={"LOOM_CONN_DB_HOST": "db"}, cwd=tmp_path, kernel_manager=km)
    assert result.outputs["value"] == "db" and result.outputs["where"] == str(tmp_path)
    assert km.provisioner is None or km.provisioner.process is None or km.provisioner.process.poll() is not None
    again = notebook_execute(notebook=notebook, output_path=None, parameters={}, outputs=["pid"],
                             env={"LOOM_CONN_DB_HOST": "db"}, kernel_manager=pool.take("python3"))
    assert again.outputs["pid"] != result.outputs["pid"]  # never the same kernel twice


def test_a_fresh_kernel_does_not_inherit_loom_settings(monkeypatch):
    monkeypatch.setenv("LOOM_ENCRYPTION_KEY", "do-not-leak")
    monkeypatch.setenv("DATABASE_URL", "postgres://x")
    notebook = nb("x = 1", "import os\nseen = sorted(k for k in os.environ if k.startswith(('LOOM_', 'DATABASE')))")
    result = notebook_execute(notebook=notebook, output_path=None, parameters={}, outputs=["seen"],
                              env={"LOOM_CONN_A_HOST": "h"})
    assert result.outputs["seen"] == ["LOOM_CONN_A_HOST"]
    assert "LOOM_ENCRYPTION_KEY" not in kernel_environment()


def test_secrets_are_scrubbed_everywhere(tmp_path, pool):
    secret = "pa55/wörd'"
    notebook = nb("x = 1", "import os\np = os.environ['PW']\nprint(p)\nprint(repr(p))\ncopy = p", "raise ValueError(p)")
    out = tmp_path / "out.ipynb"
    with pytest.raises(NotebookFailed) as e:
        notebook_execute(notebook=notebook, output_path=out, parameters={}, outputs=["copy"], env={"PW": secret},
                         secrets=[secret], kernel_manager=pool.take("python3"))
    assert secret not in str(e.value.as_dict()) and secret not in out.read_text()
    assert "pa55" not in out.read_text() and e.value.message == "Cell 3 raised ValueError: ********"


def test_whole_notebook_timeout_kills_the_kernel(pool):
    # No cell alone reaches the timeout, the notebook does; the margin absorbs a kernel still starting.
    notebook = nb("x = 1", "import time\ntime.sleep(1)", "time.sleep(1)", "time.sleep(60)")
    started = time.monotonic()
    with pytest.raises(NotebookFailed) as e:
        notebook_execute(notebook=notebook, output_path=None, parameters={}, timeout_s=3.5,
                         kernel_manager=pool.take("python3"))
    assert time.monotonic() - started < 7
    assert e.value.message.startswith("Timed out after 3.5 s while cell 4 ran") and e.value.notebook is not None


def test_cancel_event_kills_the_kernel(pool):
    cancel = threading.Event()
    threading.Timer(0.5, cancel.set).start()
    with pytest.raises(NotebookCancelled):
        notebook_execute(notebook=nb("x = 1", "import time\ntime.sleep(60)"), output_path=None, parameters={},
                         cancel=cancel, kernel_manager=pool.take("python3"))


def test_unknown_kernel_fails_cleanly():
    with pytest.raises(NotebookFailed, match="kernel failed"):
        notebook_execute(notebook=nbformat.reads(notebook_bytes("x = 1", kernel="no-such-kernel"), as_version=4),
                         output_path=None, parameters={})


def test_missing_output_is_named(pool):
    with pytest.raises(NotebookFailed, match="did not set declared output.*: nope"):
        notebook_execute(notebook=nb("x = 1"), output_path=None, parameters={}, outputs=["nope"],
                         kernel_manager=pool.take("python3"))


def test_connection_env_naming():
    env = connection_env("warehouse", kind="postgres", host="db", port=5432, login="u", password="p@ss", schema="s")
    assert env["LOOM_CONN_WAREHOUSE_HOST"] == "db" and env["LOOM_CONN_WAREHOUSE_PORT"] == "5432"
    assert env["LOOM_CONN_WAREHOUSE_URI"] == "postgres://u:p%40ss@db:5432/s"
    assert env["LOOM_CONN_WAREHOUSE_PASSWORD"] == "p@ss" and env["LOOM_CONN_WAREHOUSE_EXTRA"] == "{}"
