"""The diff between two versions of a notebook, computed by nbdime, flattened for the editor:
per cell a status and its source lines tagged same/added/removed.

nbdime diffs lists (the cells, a cell's source lines) as ops sorted by key, each an index into the
old list: `addrange` (insert its valuelist there), `removerange` (drop `length` items), `patch`
(the item changed, with a nested diff). Walking them against the old and the new list gives the
flat sequence.
"""
import nbformat
from nbdime import diff_notebooks

# A cell whose only change is one of these is shown as unchanged (ids are random per upload).
IGNORED_CELL_KEYS = {"id"}


def _walk(ops: list[dict], old: list, new: list):
    """Yield (kind, old_item, new_item, op) over two lists: kind is same, added, removed or patched."""
    i = j = 0
    # A replacement comes as addrange then removerange at one key; show what went before what came.
    for op in sorted(ops, key=lambda o: (o["key"], o["op"] != "removerange")):
        while i < op["key"]:
            yield "same", old[i], new[j], None
            i, j = i + 1, j + 1
        if op["op"] == "addrange":
            for _ in op["valuelist"]:
                yield "added", None, new[j], op
                j += 1
        elif op["op"] == "removerange":
            for _ in range(op["length"]):
                yield "removed", old[i], None, op
                i += 1
        else:  # patch
            yield "patched", old[i], new[j], op
            i, j = i + 1, j + 1
    while i < len(old):
        yield "same", old[i], new[j], None
        i, j = i + 1, j + 1


def _lines(source: str, kind: str) -> list[dict]:
    return [{"kind": kind, "text": line} for line in source.splitlines()]


def _source_lines(old: str, new: str, ops: list[dict]) -> list[dict]:
    lines = []
    for kind, a, b, _ in _walk(ops, old.splitlines(True), new.splitlines(True)):
        a, b = a and a.rstrip("\r\n"), b and b.rstrip("\r\n")
        if kind == "patched" and a == b:  # only the line ending changed (a last line that got a successor)
            lines.append({"kind": "same", "text": b})
        elif kind == "patched":  # a line patched in place: nbdime diffs its characters, the editor shows both lines
            lines += [{"kind": "removed", "text": a}, {"kind": "added", "text": b}]
        else:
            lines.append({"kind": kind, "text": a if b is None else b})
    return lines


def _outputs_text(cell) -> list[str]:
    """What a cell's outputs show as text: streams, text/plain, errors (ename: evalue)."""
    texts = []
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream":
            texts.append(out.get("text", ""))
        elif out.get("output_type") == "error":
            texts.append(f"{out.get('ename')}: {out.get('evalue')}")
        elif "text/plain" in out.get("data", {}):
            texts.append(out["data"]["text/plain"])
    return ["".join(t) if isinstance(t, list) else t for t in texts]


def _cell(cell, status: str, lines: list[dict], changed: list[str] | None = None, old=None) -> dict:
    shown = {
        "status": status,
        "cell_type": cell["cell_type"],
        "tags": list(cell.get("metadata", {}).get("tags", [])),
        "changed": changed or [],
        "lines": lines,
        "outputs": _outputs_text(cell),
    }
    if old is not None and "outputs" in shown["changed"]:
        shown["outputs_before"] = _outputs_text(old)
    return shown


def notebook_diff(old_content: str, new_content: str, *, ignored: frozenset[str] = frozenset()) -> list[dict]:
    """The cells of the new version against the old: status unchanged/added/removed/modified,
    `changed` (the cell's parts that differ: source, metadata, outputs...), source lines and
    what the outputs show as text (`outputs`; `outputs_before` when they changed). A cell whose
    only changes are in `ignored` (besides IGNORED_CELL_KEYS) is unchanged."""
    old = nbformat.reads(old_content, as_version=4)
    new = nbformat.reads(new_content, as_version=4)
    ignored = IGNORED_CELL_KEYS | ignored
    cell_ops = next((op["diff"] for op in diff_notebooks(old, new) if op["key"] == "cells"), [])
    cells = []
    for kind, a, b, op in _walk(cell_ops, old.cells, new.cells):
        if kind == "same":
            cells.append(_cell(b, "unchanged", _lines(b.source, "same")))
        elif kind == "added":
            cells.append(_cell(b, "added", _lines(b.source, "added")))
        elif kind == "removed":
            cells.append(_cell(a, "removed", _lines(a.source, "removed")))
            cells[-1]["outputs_before"], cells[-1]["outputs"] = cells[-1]["outputs"], []
        else:
            parts = {o["key"]: o for o in op["diff"] if o["key"] not in ignored}
            source = parts.get("source")
            if source is None:
                lines = _lines(b.source, "same")
            elif source["op"] == "patch":
                lines = _source_lines(a.source, b.source, source["diff"])
            else:  # the source replaced whole (e.g. one side empty)
                lines = _lines(a.source, "removed") + _lines(b.source, "added")
            cells.append(_cell(b, "modified" if parts else "unchanged", lines, sorted(parts), old=a))
    return cells
