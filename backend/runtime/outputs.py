"""What a notebook's kernel sends, accounted as each message arrives (the limits themselves and
why: runtime/limits.py). No Django here, and only the standard library at import time: DAG files
carry this source.
"""
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

try:
    # In a DAG file, which compiles each of runtime/ itself (dag_templates/dag.py.j2): its own copy.
    _limits = _loom("runtime/limits.py")  # noqa: F821 - set by the DAG file's loader
except NameError:
    from runtime import limits as _limits
SETTINGS, size_text = _limits.SETTINGS, _limits.size_text
if TYPE_CHECKING:
    from runtime.limits import Limits

# An error output (the traceback) is kept whatever the budget says, but no longer than this.
ERROR_MAX_CHARS = 100_000
SCRAP_MIME = "application/scrapbook.scrap.json+json"
OUTPUTS_MIME = "application/x-loom-outputs+json"  # runtime/execute.py's collector cell
# The kernel reports under this mime type how many characters of stdout/stderr it dropped in a cell.
CUT_MIME = "application/x-loom-cut+json"
# Runs silently in the kernel before the first cell: stdout/stderr (and, through ipykernel, the
# output of subprocesses) stop at the limit inside the kernel, so a print loop never sends the
# worker hundreds of megabytes. A notebook can undo it; the worker's own cut still holds then.
_KERNEL_STREAMS = """\
def _loom_limit_streams(left, mime):
    import sys
    from IPython import get_ipython
    from IPython.display import display
    shell = get_ipython()
    if getattr(shell, "_loom_streams", None) is not None:
        # A kernel serving its node's next item (reuse_kernel): that item's budget, the same hooks
        # (wrapped again, each item's would nest and run after every cell).
        shell._loom_streams.update(left=left, cut=0)
        return
    state = shell._loom_streams = {{"left": left, "cut": 0}}
    # ipykernel's OutStream sends what it buffered since its last flush (every 0.2 s) as one
    # message; trimming there bounds every message. Patched on the class: IPython re-wraps the
    # streams' `write` around every cell.
    for cls in {{type(sys.stdout), type(sys.stderr)}}:
        def limited(self, _flush_buffers=cls._flush_buffers):
            for parent, data in _flush_buffers(self):
                keep = data[:max(state["left"], 0)]
                state["left"] -= len(keep)
                state["cut"] += len(data) - len(keep)
                yield parent, keep
        cls._flush_buffers = limited
    def report(result):
        sys.stdout.flush()
        sys.stderr.flush()
        if state["cut"]:
            display({{mime: state["cut"]}}, raw=True)
            state["cut"] = 0
    shell.events.register("post_run_cell", report)
_loom_limit_streams({left}, {mime!r})
del _loom_limit_streams
"""


@dataclass
class OutputBudget:
    """One notebook's accounting of what its kernel sends, applied as each message arrives.

    `admit` decides, before nbclient turns a message into an output of the cell, whether it is
    kept (possibly trimmed) or dropped; `cut` records per cell what was dropped under which
    setting, and `markers` turns that into visible outputs once the notebook has run.
    """

    limits: "Limits"
    stream_used: int = 0
    notebook_used: int = 0
    cells: dict = field(default_factory=dict)  # cell index -> [stream bytes kept, other bytes kept]
    cut: dict = field(default_factory=dict)  # cell index -> {setting: [outputs, bytes]}
    too_large: dict = field(default_factory=dict)  # output name -> JSON bytes

    def kernel_code(self) -> str:
        """Code the kernel runs (silently) before the notebook: its share of the stream limit, and
        its file-size limit (Limits.kernel_code)."""
        streams = "" if self.limits.stream_max_bytes is None else \
            _KERNEL_STREAMS.format(left=self.limits.stream_max_bytes, mime=CUT_MIME)
        return self.limits.kernel_code() + streams

    def admit(self, msg: dict, cell_index: int) -> bool:
        """Whether to keep this output message; it may be trimmed in place."""
        kind, content = msg["msg_type"], msg["content"]
        kept = self.cells.setdefault(cell_index, [0, 0])
        if kind == "stream":
            text = content.get("text", "")
            stream_room = self._room("stream_max_bytes", self.stream_used)
            room = min(stream_room, self._room("notebook_max_bytes", self.notebook_used))
            # A character is 1-4 bytes in UTF-8: encode only what may be kept, never a huge message.
            size = len(text) if len(text) > room else _utf8_len(text)
            if size <= room:
                self._count(kept, size, stream=True)
                return True
            setting = "stream_max_bytes" if room == stream_room else "notebook_max_bytes"
            head = text[:max(room, 0)].encode("utf-8", "surrogatepass")[:max(room, 0)].decode("utf-8", "ignore")
            head_size = _utf8_len(head)
            self._cut(cell_index, setting, len(text) - len(head) if size == len(text) else size - head_size)
            if not head:
                return False
            content["text"] = head
            self._count(kept, head_size, stream=True)
            return True
        if kind == "error":
            content["evalue"] = _trim(str(content.get("evalue", "")), ERROR_MAX_CHARS // 10)
            content["traceback"] = _trim_lines(content.get("traceback") or [], ERROR_MAX_CHARS)
            return True
        data = content.get("data") or {}
        if CUT_MIME in data:
            if isinstance(data[CUT_MIME], int) and data[CUT_MIME] > 0:
                self._cut(cell_index, "stream_max_bytes", data[CUT_MIME])
            return False
        if OUTPUTS_MIME in data or SCRAP_MIME in data:
            self._outputs_check(data)
            return True  # never dropped: it carries the node's outputs, each at most output_max_bytes
        size = _data_size(data)
        if size <= self._room("notebook_max_bytes", self.notebook_used):
            self._count(kept, size, stream=False)
            return True
        self._cut(cell_index, "notebook_max_bytes", size)
        return False

    def cleared(self, cell_index: int) -> None:
        """The cell's outputs were cleared: their room is free again."""
        stream, other = self.cells.pop(cell_index, [0, 0])
        self.stream_used -= stream
        self.notebook_used -= stream + other

    def mark(self, nb) -> None:
        """Say, in each cell that lost outputs to a limit, how much was cut and by which setting."""
        import nbformat

        for index in sorted(self.cut):
            if index < len(nb.cells):
                nb.cells[index].setdefault("outputs", []).extend(
                    nbformat.v4.new_output("stream", name="stderr", text=text + "\n") for text in self.markers(index))

    def problem(self, names: list[str], folder: str | Path | None) -> str | None:
        """A limit the completed notebook broke (an output value too large, too many files or
        bytes in `folder`), or None."""
        for name in names:
            if name in self.too_large:
                return self.limits.too_large_message(name, self.too_large[name])
        return self.limits.files_problem(folder)

    def markers(self, cell_index: int) -> list[str]:
        """The texts saying what was cut from this cell and which setting cut it."""
        texts = []
        for key, (count, size) in sorted(self.cut.get(cell_index, {}).items()):
            limit = size_text(getattr(self.limits, key))
            if key == "stream_max_bytes":
                texts.append(f"[... {size_text(size)} of output cut by Loom: the limit is {limit} per node "
                             f"({SETTINGS[key]})]")
            else:
                texts.append(f"[... {count} output(s), {size_text(size)}, cut by Loom: the executed notebook "
                             f"may hold at most {limit} of outputs ({SETTINGS[key]})]")
        return texts

    def _room(self, key: str, used: int) -> int:
        limit = getattr(self.limits, key)
        return float("inf") if limit is None else limit - used

    def _count(self, kept: list, size: int, *, stream: bool) -> None:
        kept[0 if stream else 1] += size
        self.notebook_used += size
        if stream:
            self.stream_used += size

    def _cut(self, cell_index: int, key: str, size: int) -> None:
        entry = self.cut.setdefault(cell_index, {}).setdefault(key, [0, 0])
        entry[0] += 1
        entry[1] += size

    def _outputs_check(self, data: dict) -> None:
        """Replace output values over output_max_bytes by their size, remembered in too_large."""
        limit = self.limits.output_max_bytes
        if limit is None:
            return
        if SCRAP_MIME in data and isinstance(data[SCRAP_MIME], dict):
            scrap = data[SCRAP_MIME]
            size = len(json.dumps(scrap.get("data")).encode("utf-8"))
            if size > limit:
                self.too_large[str(scrap.get("name"))] = size
                data[SCRAP_MIME] = {**scrap, "data": None}
        if OUTPUTS_MIME in data and isinstance(data[OUTPUTS_MIME], dict):
            payload = data[OUTPUTS_MIME]
            values = payload.get("values") or {}
            for name, value in list(values.items()):
                size = len(json.dumps(value).encode("utf-8"))
                if size > limit:
                    self.too_large[name] = size
                    del values[name]
            self.too_large.update(payload.get("too_large") or {})


def _utf8_len(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass"))


def _data_size(data: dict) -> int:
    return sum(len(v) if isinstance(v, str) else len(json.dumps(v)) for v in data.values())


def _trim(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + f"[... {size_text(len(text) - limit)} cut by Loom]"


def _trim_lines(lines: list, limit: int) -> list:
    kept, used = [], 0
    for line in lines:
        line = str(line)
        if used + len(line) > limit:
            kept.append(_trim(line, max(limit - used, 0)))
            break
        kept.append(line)
        used += len(line)
    return kept
