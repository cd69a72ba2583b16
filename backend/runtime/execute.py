"""Execute one notebook with papermill and collect its declared outputs. No Django here.

Both engines call `notebook_execute`: the local engine from its Celery tasks, and the
generated Airflow DAGs from their tasks. It reads top to bottom like papermill's own
pipeline: load, add the output collector, execute, raise, collect.
"""
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import nbformat
import papermill

# The collector cell displays the declared outputs under this mime type; scrapbook's
# `sb.glue` writes SCRAP_MIME. Both are read back from the executed notebook.
OUTPUTS_MIME = "application/x-loom-outputs+json"
SCRAP_MIME = "application/scrapbook.scrap.json+json"
COLLECTOR_TAG = "loom-outputs"

_COLLECTOR = """\
import json as _loom_json
from IPython.display import display as _loom_display
_loom_found, _loom_bad = {{}}, {{}}
for _loom_name in {names!r}:
    if _loom_name in globals():
        try:
            _loom_found[_loom_name] = _loom_json.loads(_loom_json.dumps(globals()[_loom_name], allow_nan=False))
        except (TypeError, ValueError) as _loom_e:
            _loom_bad[_loom_name] = type(globals()[_loom_name]).__name__
_loom_display({{{mime!r}: {{"values": _loom_found, "not_json": _loom_bad}}}}, raw=True)
"""


class NotebookFailed(Exception):
    """The notebook did not complete, or its outputs could not be collected.

    `cell_index`, `cell_source` and `traceback` name the failing cell when there is one.
    """

    def __init__(self, message: str, *, cell_index: int | None = None, cell_source: str = "", traceback: str = ""):
        super().__init__(message)
        self.message = message
        self.cell_index = cell_index
        self.cell_source = cell_source
        self.traceback = traceback

    def as_dict(self) -> dict:
        return {"message": self.message, "cell_index": self.cell_index,
                "cell_source": self.cell_source, "traceback": self.traceback}


@dataclass
class NotebookResult:
    outputs: dict[str, Any]
    notebook: nbformat.NotebookNode = field(repr=False)


def notebook_execute(
    *,
    notebook: str | Path | nbformat.NotebookNode,
    output_path: str | Path | None,
    parameters: Mapping[str, Any],
    outputs: list[str] = (),
    cwd: str | Path | None = None,
    timeout_s: float | None = None,
    **engine_kwargs,
) -> NotebookResult:
    """Run a notebook with `parameters` injected; return the values of its declared `outputs`."""
    nb = notebook if isinstance(notebook, nbformat.NotebookNode) else nbformat.read(str(notebook), as_version=4)
    nb = _with_collector(nb, list(outputs))
    try:
        executed = papermill.execute_notebook(
            nb, str(output_path) if output_path else None, parameters=dict(parameters),
            progress_bar=False, cwd=str(cwd) if cwd else None, execution_timeout=timeout_s, **engine_kwargs,
        )
    except papermill.PapermillExecutionError as e:
        raise NotebookFailed(
            f"Cell {e.exec_count or e.cell_index} raised {e.ename}: {e.evalue}",
            cell_index=e.cell_index, cell_source=e.source, traceback="\n".join(e.traceback),
        ) from None
    return NotebookResult(outputs=outputs_collect(executed, list(outputs)), notebook=executed)


def _with_collector(nb: nbformat.NotebookNode, names: list[str]) -> nbformat.NotebookNode:
    nb = nbformat.from_dict(json.loads(json.dumps(nb)))  # never change the caller's notebook
    cell = nbformat.v4.new_code_cell(_COLLECTOR.format(names=names, mime=OUTPUTS_MIME))
    cell.metadata["tags"] = [COLLECTOR_TAG]
    nb.cells.append(cell)
    return nb


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
