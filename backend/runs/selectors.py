import math

from django.db.models import Count, F, QuerySet
from django.db.models.fields.json import KeyTextTransform, KeyTransform

from runs.models import NodeRun, Run
from workflows.graph import graph_order
from workflows.models import VERSION_BULK, Workflow


def run_list(*, workflow: Workflow) -> QuerySet[Run]:
    # The version's number, not its graph: a large workflow's graph would be read once per run;
    # of the graph, only its parameters (for RunSerializer's parameters_changed).
    return (workflow.runs.select_related("version", "created_by").defer(*VERSION_BULK)
            .annotate(graph_parameters=KeyTransform("parameters", "version__graph")).order_by("-id"))


def run_search(*, tenant, workflow: int | None = None, status: str = "", trigger: str = "", since=None, until=None,
               ) -> QuerySet[Run]:
    """The tenant's runs, newest first: of one workflow, status and trigger, created in [since, until)."""
    runs = (Run.objects.filter(tenant=tenant).select_related("version", "created_by", "workflow")
            .defer(*VERSION_BULK).annotate(graph_parameters=KeyTransform("parameters", "version__graph")))
    if workflow is not None:
        runs = runs.filter(workflow_id=workflow)
    if status:
        runs = runs.filter(status=status)
    if trigger:
        runs = runs.filter(trigger=trigger)
    if since is not None:
        runs = runs.filter(created_at__gte=since)
    if until is not None:
        runs = runs.filter(created_at__lt=until)
    return runs.order_by("-id")


def run_node_runs(*, run: Run) -> list[NodeRun]:
    """The run's node rows in the graph's order (a fanned-out node's own row, not its items: see
    node_items), each with `items_counted`: {status: items}, None for a node without items.

    Two queries whatever the number of items, so that run details stay fast for thousands."""
    position = {nid: i for i, nid in enumerate(graph_order(run.version.graph))}
    counts: dict[str, dict[str, int]] = {}
    for c in run.node_runs.filter(map_index__isnull=False).values("node", "status").annotate(n=Count("id")):
        counts.setdefault(c["node"], {})[c["status"]] = c["n"]
    rows = sorted(run.node_runs.filter(map_index__isnull=True).defer("notebook", "log").annotate(
        version_number=F("version__number"), reused_run=F("reused_from__run_id"), cached_run=F("cached_from__run_id")),
                  key=lambda r: position.get(r.node, len(position)))
    for r in rows:
        r.items_counted = counts.get(r.node)
    return rows


# How the items endpoint sorts, besides `outputs.<name>`; a leading '-' reverses.
ITEM_SORTS = {"map_index": "map_index", "status": "status", "started_at": "started_at", "duration": "duration"}


def node_items(*, run: Run, node: str, parameter: str, status: str = "", item: str = "", sort: str = "map_index"):
    """The items of a fanned-out node: of one `status`, whose value (the `parameter` it gives
    the notebook) contains `item`, sorted by `sort` (ITEM_SORTS or outputs.<name>, '-' for
    descending; unset values last; ties in item order). ValueError naming a bad `sort`."""
    rows = run.node_runs.filter(node=node, map_index__isnull=False).defer("notebook", "log")
    if status:
        rows = rows.filter(status=status)
    if item:
        rows = rows.alias(item_text=KeyTextTransform(parameter, "parameters")).filter(item_text__icontains=item)
    descending, key = sort.startswith("-"), sort.removeprefix("-")
    if key.startswith("outputs.") and key.removeprefix("outputs."):
        rows = rows.alias(sort_key=KeyTransform(key.removeprefix("outputs."), "outputs"))
    elif key in ITEM_SORTS:
        if key == "duration":
            rows = rows.alias(duration=F("ended_at") - F("started_at"))
        rows = rows.alias(sort_key=F(ITEM_SORTS[key]))
    else:
        raise ValueError(f"sort must be one of {', '.join(ITEM_SORTS)} or outputs.<name> (a leading '-' reverses), not {sort!r}.")
    order = F("sort_key").desc(nulls_last=True) if descending else F("sort_key").asc(nulls_last=True)
    return rows.order_by(order, "map_index")


def node_run_get(*, run: Run, node: str, map_index: int | None) -> NodeRun:
    """One node row (a fanned-out node's summary without map_index); NodeRun.DoesNotExist naming it."""
    try:
        return run.node_runs.get(node=node, map_index=map_index)
    except NodeRun.DoesNotExist:
        item = f" item {map_index}." if map_index is not None else "."
        raise NodeRun.DoesNotExist(f"Run {run.pk} has no node '{node}'{item}") from None


def node_items_histogram(*, run: Run, node: str, output: str, bins: int = 20, status: str = "") -> dict:
    """A numeric output of a fanned-out node's items as `bins` equal-width bins between its
    least and greatest value: {output, count, missing, min, max, bins: [{start, end, count}]}.
    Only the output's values leave the database, not the rows; `missing` counts the items
    without a number (unfinished, failed, or a value that is not a number)."""
    rows = run.node_runs.filter(node=node, map_index__isnull=False)
    if status:
        rows = rows.filter(status=status)
    values = list(rows.annotate(value=KeyTransform(output, "outputs")).values_list("value", flat=True))
    numbers = [float(v) for v in values if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)]
    result = {"output": output, "count": len(numbers), "missing": len(values) - len(numbers), "bins": [],
              "min": min(numbers, default=None), "max": max(numbers, default=None)}
    if not numbers:
        return result
    low, high = result["min"], result["max"]
    if low == high:  # one value: one bin around it
        result["bins"] = [{"start": low, "end": high, "count": len(numbers)}]
        return result
    width = (high - low) / bins
    counts = [0] * bins
    for x in numbers:
        counts[min(int((x - low) / width), bins - 1)] += 1  # the greatest value falls in the last bin
    result["bins"] = [{"start": low + i * width, "end": low + (i + 1) * width, "count": c} for i, c in enumerate(counts)]
    return result
