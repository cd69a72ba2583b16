"""Run bookkeeping both engines share: one home for each rule, so that a run reads the same
whichever engine ran it.

- `node_error`: the shape of a node's error, {message, cell_index, cell_source, traceback}
  (runtime.execute.NotebookFailed.as_dict, which Airflow's tasks push to XCom, is the same);
- `node_summarize`: a fanned-out node's own row from its items;
- `run_outcome`: a run's status and message from its node rows: any node failed,
  upstream_failed or cancelled makes the run failed, whatever the engine says of the run;
- `repair_plan`: which nodes a repair reruns (failed, upstream_failed and cancelled ones and
  everything downstream of them) and which fanned-out nodes keep their successful items.
"""
from runs.models import ACTIVE, NodeRun, Status
from runtime.execute import NotebookFailed
from workflows.graph import ancestors, descendants, output_names

# A node in one of these states did not succeed: it fails the run, and a repair reruns it.
NOT_SUCCEEDED = (Status.FAILED, Status.UPSTREAM_FAILED, Status.CANCELLED)


def node_error(message: str, *, cell_index: int | None = None, cell_source: str = "", traceback: str = "") -> dict:
    """A node run's `error`: what went wrong, and the failing cell when there is one."""
    return NotebookFailed(message, cell_index=cell_index, cell_source=cell_source, traceback=traceback).as_dict()


def node_summarize(row: NodeRun, items: list[NodeRun], node: dict, *, now=None) -> None:
    """Set a fanned-out node's own row from its items (in map_index order); the caller saves it.

    Queued while every item is queued, running while any item is unfinished; then success when
    every item succeeded (its outputs are lists in item order), else failed, naming the items.
    """
    statuses = [i.status for i in items]
    row.attempts = max((i.attempts for i in items), default=0)
    row.started_at = row.started_at or min((i.started_at for i in items if i.started_at), default=None)
    if any(s in ACTIVE for s in statuses):
        row.status = Status.RUNNING if any(s != Status.QUEUED for s in statuses) else Status.QUEUED
        row.outputs, row.error, row.ended_at = {}, None, None
        return
    failed = [i for i in items if i.status != Status.SUCCESS]
    row.status = Status.FAILED if failed else Status.SUCCESS
    row.ended_at = now or max((i.ended_at for i in items if i.ended_at), default=None)
    row.outputs = {} if failed else {name: [i.outputs.get(name) for i in items] for name in output_names(node)}
    row.error = None if not failed else node_error(
        f"{len(failed)} of {len(items)} items did not succeed: "
        + ", ".join(f"[{i.map_index}] {i.status}" for i in failed[:20]))


def run_outcome(summaries) -> tuple[str, str]:
    """(status, error) of a run whose nodes (their summary rows, in graph order) are all finished."""
    bad = [r for r in summaries if r.status in NOT_SUCCEEDED]
    if not bad:
        return Status.SUCCESS, ""
    return Status.FAILED, f"Did not succeed: {', '.join(f'{r.node} ({r.status})' for r in bad)}."


def repair_plan(graph: dict, summaries: dict[str, NodeRun]) -> dict[str, bool]:
    """{node id: keep_items} of the nodes a repair reruns. keep_items: a fanned-out node none of
    whose upstream nodes is rerun keeps its successful items and reruns only the others."""
    rerun = {nid for nid, r in summaries.items() if r.status in NOT_SUCCEEDED}
    rerun |= {d for nid in list(rerun) for d in descendants(graph, nid)}
    return {nid: not (ancestors(graph, nid) & rerun) for nid in rerun}
