"""Execute one notebook with papermill and collect its declared outputs. No Django here.

Both engines call `notebook_execute`: the local engine from its Celery tasks, and the
generated Airflow DAGs from their tasks. It reads top to bottom like papermill's own
pipeline: load, add the output collector, parameterize, execute, scrub, write, raise,
collect. It imports nothing from Loom but runtime/engine.py (the papermill engine and the kernel
managers), so DAG files can carry its source, and that file's.

What it adds to papermill:
- a whole-notebook timeout and a cancel event, both of which kill the kernel;
- a kernel that dies, hangs or never starts ends in `NotebookFailed` naming the cell, like
  an exception in a cell does, and the executed notebook is written in every case;
- extra environment variables for the kernel (connection fields), never written into the
  notebook, and `secrets` scrubbed from everything that leaves this function;
- limits on what the notebook prints, outputs and writes (`limits`, runtime/limits.py), applied
  as the kernel sends it;
- an optional pre-started kernel (`kernel_manager`), so the caller can hide the kernel's
  start-up; the kernel serves this notebook only and is shut down afterwards, unless the caller
  gave it a `shelve` to take it back for the next item of its node (runtime/zygote.py).
"""
import html
import json
import os
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping
from urllib.parse import quote, quote_plus

import nbformat
from nbclient.exceptions import DeadKernelError
from papermill.engines import papermill_engines
from papermill.iorw import load_notebook_node, write_ipynb
from papermill.parameterize import parameterize_notebook

try:
    # In a DAG file, which compiles each of runtime/ itself (dag_templates/dag.py.j2): its own copy.
    _engine = _loom("runtime/engine.py")  # noqa: F821 - set by the DAG file's loader
    _outputs = _loom("runtime/outputs.py")  # noqa: F821
except NameError:
    from runtime import engine as _engine
    from runtime import outputs as _outputs

ENGINE_NAME = _engine.ENGINE_NAME  # registered with papermill by runtime/engine.py
# The engine's, for this module's callers (DAG files reach them through this module).
KERNEL_ARGUMENTS, kernel_manager, kernel_dispose = _engine.KERNEL_ARGUMENTS, _engine.kernel_manager, _engine.kernel_dispose

# The collector cell displays the declared outputs under OUTPUTS_MIME; scrapbook's `sb.glue`
# writes SCRAP_MIME. Both are read back from the executed notebook.
OUTPUTS_MIME, SCRAP_MIME = _outputs.OUTPUTS_MIME, _outputs.SCRAP_MIME
COLLECTOR_TAG = "loom-outputs"
SCRUBBED = "********"
# Variables of the calling process a notebook's kernel must not inherit: the orchestrator's
# own database, broker and encryption settings, and Airflow's connections and variables given
# as AIRFLOW_CONN_*/AIRFLOW_VAR_* (every tenant's). The node's connections are added back by name.
KERNEL_ENV_DROP = re.compile(r"^(LOOM_|DATABASE_URL$|REDIS_URL$|DJANGO_|CELERY_|AIRFLOW__|AIRFLOW_CONN_|AIRFLOW_VAR_)")
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")

_COLLECTOR = """\
import json as _loom_json
from IPython.display import display as _loom_display
_loom_found, _loom_bad, _loom_big = {{}}, {{}}, {{}}
_loom_max = {max_bytes!r}
for _loom_name in {names!r}:
    if _loom_name in globals():
        try:
            _loom_text = _loom_json.dumps(globals()[_loom_name], allow_nan=False)
        except (TypeError, ValueError) as _loom_e:
            _loom_bad[_loom_name] = type(globals()[_loom_name]).__name__
            continue
        if _loom_max is not None and len(_loom_text.encode()) > _loom_max:
            _loom_big[_loom_name] = len(_loom_text.encode())
        else:
            _loom_found[_loom_name] = _loom_json.loads(_loom_text)
_loom_display({{{mime!r}: {{"values": _loom_found, "not_json": _loom_bad, "too_large": _loom_big}},
               "text/plain": "Loom outputs: " + ", ".join(sorted(_loom_found)) or "none"}}, raw=True)
"""


class NotebookFailed(Exception):
    """The notebook did not complete, or its outputs could not be collected.

    `cell_index`, `cell_source` and `traceback` name the failing cell when there is one;
    `notebook` is the executed notebook (scrubbed) when execution got that far.
    """

    def __init__(self, message: str, *, cell_index: int | None = None, cell_source: str = "", traceback: str = "",
                 notebook: nbformat.NotebookNode | None = None):
        super().__init__(message)
        self.message = message
        self.cell_index = cell_index
        self.cell_source = cell_source
        self.traceback = traceback
        self.notebook = notebook

    def as_dict(self) -> dict:
        return {"message": self.message, "cell_index": self.cell_index,
                "cell_source": self.cell_source, "traceback": self.traceback}


class NotebookCancelled(NotebookFailed):
    """The caller's cancel event stopped the notebook (its kernel was killed)."""


@dataclass
class NotebookResult:
    outputs: dict[str, Any]
    notebook: nbformat.NotebookNode = field(repr=False)


def notebook_execute(
    *,
    notebook: str | Path | nbformat.NotebookNode,
    output_path: str | Path | None,
    parameters: Mapping[str, Any],
    outputs: Iterable[str] = (),
    cwd: str | Path | None = None,
    timeout_s: float | None = None,
    env: Mapping[str, str] | None = None,
    secrets: Iterable[str] = (),
    kernel_manager=None,
    shared: str | Path | None = None,
    cancel: threading.Event | None = None,
    limits=None,
    on_stream=None,
    **engine_kwargs,
) -> NotebookResult:
    """Run a notebook with `parameters` injected; return the values of its declared `outputs`.

    `timeout_s` bounds the whole notebook: past it the kernel is killed and NotebookFailed
    raised. Setting `cancel` does the same and raises NotebookCancelled. `env` adds variables
    to the kernel's environment; every string in `secrets` is replaced by ******** in the
    executed notebook, the error and the outputs. `kernel_manager` is an optional
    jupyter_client AsyncKernelManager, started and unused or not yet started; it is shut down
    when the notebook ends (also when parameters cannot be injected). When it is sandboxed
    (see `kernel_manager()`), `cwd` is the notebook's only writable folder (what it writes is
    moved there when it ends) and the files under `shared` (default: cwd's parent) are readable.
    `limits` (runtime.limits.Limits) bounds output values, the notebook, its streams and the
    files in `cwd` (the node's folder), and lowers a sandboxed kernel's memory and processes
    (its memory_mb and max_procs); passed in, not imported, as DAG files load each module apart.
    `on_stream(cell_index, name, line)` receives each complete line the notebook prints (stdout,
    stderr), scrubbed, while it runs; after the notebook, whatever is left without a newline.
    The executed notebook is written to `output_path` (when given) whether or not it failed,
    without the collector cell (collector_remove).
    """
    names = list(outputs)
    secrets = _secret_variants(secrets)
    sandbox = getattr(kernel_manager, "sandbox", None)
    try:
        nb = load_notebook_node(notebook if isinstance(notebook, nbformat.NotebookNode) else str(notebook))
        nb = _with_collector(nb, names, limits.output_max_bytes if limits else None)
        if parameters:
            nb = parameterize_notebook(nb, dict(parameters), engine_name=ENGINE_NAME)
        kernel_name = papermill_engines.nb_kernel_name(engine_name=ENGINE_NAME, nb=nb)
        if sandbox is not None:
            if limits is not None:
                sandbox.limit(memory_mb=limits.memory_mb, max_procs=limits.max_procs, sources=dict(limits.sources))
            if cwd:
                sandbox.enter(cwd=cwd, shared=shared)
    except BaseException:
        if kernel_manager is not None:  # it will serve no notebook: do not leave it running
            kernel_dispose(kernel_manager)
        raise

    watchdog = _engine.Watchdog(timeout_s=timeout_s, cancel=cancel)
    budget = _outputs.OutputBudget(limits) if limits else None
    lines = _Lines(on_stream, secrets) if on_stream else None
    state: dict[str, Any] = {"budget": budget, "on_stream": lines.add if lines else None}
    try:
        executed = papermill_engines.execute_notebook_with_engine(
            ENGINE_NAME, nb, kernel_name=kernel_name, output_path=None, progress_bar=False, log_output=False,
            km=kernel_manager, kernel_env=kernel_environment(env), extra_env=dict(env or {}),
            kernel_cwd=str(cwd) if cwd else None,
            watchdog=watchdog, state=state, **engine_kwargs,
        )
    finally:
        watchdog.stop()
        if lines:
            lines.flush()
    kept, shelved = state.pop("kept", None), False  # the client of a kernel its node reuses
    try:
        if budget:
            budget.mark(executed)
            for index in sorted(budget.cut) if on_stream else ():  # what was cut, said where it was printed
                for text in budget.markers(index):
                    on_stream(index, "stderr", text)
        executed = _scrub(executed, secrets)
        failure = _failure(executed, state, watchdog, timeout_s)
        if failure and sandbox is not None:
            failure.message += sandbox.explain(failure.message)
        if not failure and budget and (problem := budget.problem(names, cwd)):
            failure = NotebookFailed(problem)
        if not failure:
            try:
                collected = outputs_collect(executed, names)
            except NotebookFailed as e:
                failure = e
        if kept is not None and not failure:  # only a kernel whose notebook went well serves the next item
            kernel_manager.shelve(kept)
            shelved = True
    finally:
        if kept is not None and not shelved:
            kernel_dispose(kernel_manager, kept)
    # The user's notebook, not Loom's plumbing: the outputs are read, the collector cell goes.
    executed = collector_remove(executed)
    if output_path:
        write_ipynb(executed, str(output_path))
    if failure:
        failure.message = _scrub(failure.message, secrets)
        failure.cell_source = _scrub(failure.cell_source, secrets)
        failure.traceback = _scrub(failure.traceback, secrets)
        failure.notebook = executed
        raise failure
    return NotebookResult(outputs=_scrub(collected, secrets), notebook=executed)


def collector_remove(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The notebook without the cell Loom appended to collect the outputs (tagged COLLECTOR_TAG,
    as papermill tags its injected-parameters cell): what Loom stores and serves. It is the
    last cell, so every other cell keeps its index (an error's cell_index still points at it)."""
    if not any(COLLECTOR_TAG in c.get("metadata", {}).get("tags", []) for c in nb.cells):
        return nb
    nb = nbformat.from_dict(nb)
    nb.cells = [c for c in nb.cells if COLLECTOR_TAG not in c.get("metadata", {}).get("tags", [])]
    return nb


class _Lines:
    """What the kernel prints, cut into lines per cell and stream and scrubbed line by line (a
    secret split over two messages is whole in its line), for notebook_execute's `on_stream`."""

    def __init__(self, on_line, secrets: list[str]):
        self.on_line, self.secrets = on_line, secrets
        self.pending: dict[tuple[int, str], str] = {}

    def add(self, cell_index: int, name: str, text: str) -> None:
        key = (cell_index, name)
        *complete, rest = (self.pending.pop(key, "") + text).split("\n")
        for line in complete:
            self.on_line(cell_index, name, _scrub(line, self.secrets))
        if rest:
            self.pending[key] = rest

    def flush(self) -> None:
        for (cell_index, name), rest in self.pending.items():
            self.on_line(cell_index, name, _scrub(rest, self.secrets))
        self.pending.clear()




def kernel_environment(extra: Mapping[str, str] | None = None, *, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of a notebook's kernel: the caller's, less KERNEL_ENV_DROP, plus `extra`."""
    base = os.environ if base is None else base
    return {k: v for k, v in base.items() if not KERNEL_ENV_DROP.match(k)} | {k: str(v) for k, v in (extra or {}).items()}


def connection_env(name: str, *, kind: str = "", host: str = "", port: int | None = None, login: str = "",
                   password: str = "", schema: str = "", extra: Mapping | None = None) -> dict[str, str]:
    """The environment variables a notebook reads a connection from.

    LOOM_CONN_<NAME>_KIND, _HOST, _PORT, _LOGIN, _PASSWORD, _SCHEMA, _EXTRA (JSON) and _URI
    (kind://login:password@host:port/schema, quoted), with <NAME> the connection name in capitals.
    """
    prefix = f"LOOM_CONN_{name.upper()}_"
    auth = f"{quote(login, safe='')}{':' + quote(password, safe='') if password else ''}@" if login or password else ""
    uri = f"{kind or 'generic'}://{auth}{host}{f':{port}' if port else ''}{f'/{schema}' if schema else ''}"
    values = {"KIND": kind, "HOST": host, "PORT": "" if port is None else str(port), "LOGIN": login,
              "PASSWORD": password, "SCHEMA": schema, "EXTRA": json.dumps(extra or {}), "URI": uri}
    return {prefix + k: v for k, v in values.items()}


def _with_collector(nb: nbformat.NotebookNode, names: list[str], max_bytes: int | None) -> nbformat.NotebookNode:
    nb = nbformat.from_dict(json.loads(json.dumps(nb)))  # never change the caller's notebook
    cell = nbformat.v4.new_code_cell(_COLLECTOR.format(names=names, mime=OUTPUTS_MIME, max_bytes=max_bytes))
    cell.metadata["tags"] = [COLLECTOR_TAG]
    nb.cells.append(cell)
    return nb


def _failure(nb, state: dict, watchdog, timeout_s) -> NotebookFailed | None:
    """Why the notebook did not complete, naming the cell; None when it did."""
    index = state.get("cell_index")
    cell = nb.cells[index] if index is not None and index < len(nb.cells) else None
    where = {"cell_index": index, "cell_source": cell.source if cell else ""}
    at = f" while cell {index} ran" if cell else ""
    if watchdog.fired == "cancelled":
        return NotebookCancelled(f"Cancelled{at}; the kernel was stopped.", **where)
    if watchdog.fired == "timeout":
        source = state["budget"].limits.timeout_source if state.get("budget") else "the node's timeout_s"
        return NotebookFailed(f"Timed out after {timeout_s:g} s{at} ({source}); the kernel was stopped.", **where)
    for i, c in enumerate(nb.cells):
        for out in c.get("outputs", []):
            if out.get("output_type") == "error" and not (out.ename == "SystemExit" and out.evalue in ("", "0")):
                hint = state["budget"].limits.file_too_large_hint if state.get("budget") else ""
                hint = f" ({hint})" if hint and "File too large" in out.evalue else ""
                return NotebookFailed(
                    f"Cell {i} raised {out.ename}: {out.evalue}{hint}", cell_index=i, cell_source=c.source,
                    traceback=_ANSI.sub("", "\n".join(out.traceback)),
                )
    error = state.get("error")
    if isinstance(error, DeadKernelError):
        return NotebookFailed(f"The kernel died{at} (killed, or out of memory).", **where)
    if error is not None:
        return NotebookFailed(f"The kernel failed{at}: {type(error).__name__}: {error}", **where)
    return None


def outputs_collect(nb: nbformat.NotebookNode, names: list[str]) -> dict[str, Any]:
    """Declared outputs from the collector cell, or from scrapbook glue (the later wins)."""
    found: dict[str, Any] = {}
    not_json: dict[str, str] = {}
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if SCRAP_MIME in data:
                scrap = data[SCRAP_MIME]
                found[scrap["name"]] = scrap["data"]
            if OUTPUTS_MIME in data:
                found.update(data[OUTPUTS_MIME]["values"])
                not_json.update(data[OUTPUTS_MIME]["not_json"])
    for name in names:
        if name in not_json and name not in found:
            raise NotebookFailed(f"Output '{name}' is a {not_json[name]}, which is not JSON; store it in a file and output the path.")
    missing = [n for n in names if n not in found]
    if missing:
        raise NotebookFailed(f"The notebook did not set declared output(s): {', '.join(missing)}.")
    return {n: found[n] for n in names}


def _secret_variants(secrets: Iterable[str]) -> list[str]:
    """Each secret as printed plainly, inside repr(), inside JSON, URL-quoted (path, query and
    form style) and HTML-escaped; longest first, so a longer form is replaced before its parts."""
    variants = set()
    for s in secrets:
        if s:
            variants |= {s, repr(s)[1:-1], json.dumps(s)[1:-1], quote(s, safe=""), quote(s, safe="/"),
                         quote_plus(s), html.escape(s), html.escape(s, quote=False)}
    return sorted(variants, key=len, reverse=True)


def _scrub(value, secrets: list[str]):
    """`value` with every secret variant replaced by SCRUBBED. A cell's stream outputs are joined
    per stream first, so a secret printed in several messages is still found."""
    if not secrets:
        return value
    if isinstance(value, str):
        for s in secrets:
            value = value.replace(s, SCRUBBED)
        return value
    if isinstance(value, dict):
        if value.get("cell_type") == "code" and isinstance(value.get("outputs"), list):
            value = type(value)(value, outputs=_join_streams(value["outputs"]))
        return type(value)({_scrub(k, secrets): _scrub(v, secrets) for k, v in value.items()})
    if isinstance(value, list):
        return [_scrub(v, secrets) for v in value]
    return value


def _join_streams(outputs: list) -> list:
    """A cell's outputs with all stdout (and all stderr) text in one output, where it first
    appeared (as Jupyter's coalesce_streams does)."""
    joined, streams = [], {}
    for out in outputs:
        if isinstance(out, dict) and out.get("output_type") == "stream":
            text = out.get("text", "")
            text = "".join(text) if isinstance(text, list) else text
            if out.get("name") in streams:
                streams[out.get("name")]["text"] += text
                continue
            out = type(out)(out, text=text)
            streams[out.get("name")] = out
        joined.append(out)
    return joined


def secrets_scrub(value, secrets: Iterable[str]):
    """`value` (text, or JSON-like) with every form of each secret replaced by SCRUBBED."""
    return _scrub(value, _secret_variants(secrets))
