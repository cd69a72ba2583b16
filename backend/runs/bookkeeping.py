"""Run bookkeeping both engines share: one home for each rule, so that a run reads the same
whichever engine ran it.

- `node_error`: the shape of a node's error, {message, cell_index, cell_source, traceback}
  (runtime.execute.NotebookFailed.as_dict, which Airflow's tasks push to XCom, is the same);
- `node_summarize`: a fanned-out node's own row from its items;
- `run_outcome`: a run's status and message from its node rows: any node failed,
  upstream_failed or cancelled makes the run failed, whatever the engine says of the run;
- `repair_plan`: which nodes a repair reruns (failed, upstream_failed and cancelled ones and
  everything downstream of them) and which fanned-out nodes keep their successful items;
  `retry_items_plan`: the same for "retry failed items" of one fanned-out node.
"""
from collections import Counter

from runs.models import ACTIVE, NodeRun, Status
from runtime.execute import NotebookFailed
from runtime.parameters import fan_in, fan_out, failures_allowed
from workflows.graph import ancestors, descendants, output_names

# A node in one of these states did not succeed: it fails the run, and a repair reruns it.
NOT_SUCCEEDED = (Status.FAILED, Status.UPSTREAM_FAILED, Status.CANCELLED)


def node_error(message: str, *, cell_index: int | None = None, cell_source: str = "", traceback: str = "") -> dict:
    """A node run's `error`: what went wrong, and the failing cell when there is one."""
    return NotebookFailed(message, cell_index=cell_index, cell_source=cell_source, traceback=traceback).as_dict()


def node_summarize(row: NodeRun, items: list[NodeRun], node: dict, *, now=None) -> None:
    """Set a fanned-out node's own row from its items (in map_index order); the caller saves it.

    Queued while every item is queued, running while any item is unfinished; then success when
    no more items failed than the node allows (runtime.parameters.failures_allowed; a warning
    counts them), its outputs from the successful items (runtime.parameters.fan_in); else
    failed, naming the items.
    """
    statuses = [i.status for i in items]
    row.attempts = max((i.attempts for i in items), default=0)
    row.started_at = row.started_at or min((i.started_at for i in items if i.started_at), default=None)
    row.warnings = [w for w in row.warnings if not w.startswith(_FAILED_WARNING)]
    if any(s in ACTIVE for s in statuses):
        row.status = Status.RUNNING if any(s != Status.QUEUED for s in statuses) else Status.QUEUED
        row.outputs, row.error, row.ended_at = {}, None, None
        return
    failed = [i for i in items if i.status != Status.SUCCESS]
    row.ended_at = now or max((i.ended_at for i in items if i.ended_at), default=None)
    if len(failed) > failures_allowed(node, len(items)):
        row.status, row.outputs = Status.FAILED, {}
        row.error = node_error(f"{len(failed)} of {len(items)} items did not succeed: "
                               + ", ".join(f"[{i.map_index}] {i.status}" for i in failed[:20]))
        return
    parameter = fan_out(node["map_over"], node.get("map_parameter")).parameter
    row.status, row.error = Status.SUCCESS, None
    row.outputs = fan_in(output_names(node), [
        (i.parameters.get(parameter), i.outputs if i.status == Status.SUCCESS else None) for i in items])
    if failed:
        row.warnings = [*row.warnings, f"{_FAILED_WARNING} {items_counted(statuses)}; downstream receives the "
                                       f"{len(items) - len(failed):,} successful items' results."]


# The start of the warning of a node that succeeded although some of its items failed.
_FAILED_WARNING = "Within its allowance of failed items:"


def items_counted(statuses) -> str:
    """'4,988 succeeded · 12 failed': a fanned-out node's items by status, most first."""
    counts = Counter("succeeded" if s == Status.SUCCESS else str(s) for s in statuses)
    return " · ".join(f"{n:,} {s}" for s, n in counts.most_common())


def run_outcome(summaries) -> tuple[str, str]:
    """(status, error) of a run whose nodes (their summary rows, in graph order) are all finished."""
    bad = [r for r in summaries if r.status in NOT_SUCCEEDED]
    if not bad:
        return Status.SUCCESS, ""
    return Status.FAILED, f"Did not succeed: {', '.join(f'{r.node} ({r.status})' for r in bad)}."


def repair_plan(graph: dict, summaries: dict[str, NodeRun]) -> dict[str, bool]:
    """{node id: keep_items} of the nodes a repair reruns: those that did not succeed, those the
    run has no row for (a repair on a newer version may add nodes), and everything downstream.
    keep_items: a fanned-out node none of whose upstream nodes is rerun keeps its successful items
    and reruns only the others."""
    rerun = {n["id"] for n in graph["nodes"] if n["id"] not in summaries or summaries[n["id"]].status in NOT_SUCCEEDED}
    rerun |= {d for nid in list(rerun) for d in descendants(graph, nid)}
    return {nid: not (ancestors(graph, nid) & rerun) for nid in rerun}


def retry_items_plan(graph: dict, node: str) -> dict[str, bool]:
    """The plan of "retry failed items" of a fanned-out `node` (repair_plan's shape): its items
    that did not succeed, and everything downstream of it, which sees the node's new results."""
    return {node: True, **{d: False for d in descendants(graph, node)}}
