from django.db.models import QuerySet

from runs.models import NodeRun, Run
from workflows.graph import graph_order
from workflows.models import VERSION_BULK, Workflow


def run_list(*, workflow: Workflow) -> QuerySet[Run]:
    # The version's number, not its graph: a large workflow's graph would be read once per run.
    return workflow.runs.select_related("version", "created_by").defer(*VERSION_BULK).order_by("-id")


def run_node_runs(*, run: Run) -> list[NodeRun]:
    """The run's node rows in the graph's order, a fanned-out node's summary before its items."""
    position = {nid: i for i, nid in enumerate(graph_order(run.version.graph))}
    rows = run.node_runs.defer("notebook", "log")
    return sorted(rows, key=lambda r: (position.get(r.node, len(position)), -1 if r.map_index is None else r.map_index))


def node_run_get(*, run: Run, node: str, map_index: int | None) -> NodeRun:
    """One node row (a fanned-out node's summary without map_index); NodeRun.DoesNotExist naming it."""
    try:
        return run.node_runs.get(node=node, map_index=map_index)
    except NodeRun.DoesNotExist:
        item = f" item {map_index}." if map_index is not None else "."
        raise NodeRun.DoesNotExist(f"Run {run.pk} has no node '{node}'{item}") from None
