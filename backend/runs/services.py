"""Writes on runs: start, cancel, repair, retry failed items. Engines (runs.engines) do the engine-specific part."""
from django.db import transaction
from django.utils import timezone

from audit.services import Action, ActorKind, record
from catalog.inspection import TYPES, type_of, value_fits
from loom.errors import Conflict, Invalid
from runs.bookkeeping import NOT_SUCCEEDED, repair_plan, retry_items_plan
from runs.engines import engine_get
from runs.engines.local import cache_plan
from runs.models import ACTIVE, NodeRun, Run, Status, Trigger
from runs.reuse import ReuseInvalid, node_fit_problem, origin, reuse_rows, reuse_source, selection
from runs.signals import run_finished_send
from tenancy.services import tenant_active_check
from workflows.graph import ancestors, graph_order
from workflows.validation import with_article
from workflows.models import WorkflowVersion
from workflows.selectors import workflow_version_get
from workflows.services import workflow_version_runnable
from loom.values import json_value_problem, text_shown


class RunParametersInvalid(Invalid):
    """Run-time parameters that are not globals of the workflow, or of the wrong type."""

    def __init__(self, errors: list[dict]):
        self.errors = errors
        super().__init__("Run parameters are invalid: " + " ".join(e["message"] for e in errors))

    def body(self) -> dict:
        return {"detail": str(self), "errors": self.errors}


class RunNotRepairable(Conflict):
    """Only a failed or cancelled run can be repaired."""


def run_parameters_check(*, graph: dict, parameters: dict) -> dict:
    """The run-time parameters, if each names a global parameter of the (stored, so normalized)
    graph and fits its type."""
    globals_ = {p["name"]: p for p in graph["parameters"]}
    errors = []
    for name, value in parameters.items():
        problem = json_value_problem(name) or json_value_problem(value)
        if problem:
            errors.append({"node": None, "field": f"parameters.{text_shown(name)}",
                           "message": f"Run parameter {name!r} {problem}."})
        elif name not in globals_:
            known = ", ".join(globals_) or "none"
            errors.append({"node": None, "field": f"parameters.{name}",
                           "message": f"'{name}' is not a parameter of this workflow (its parameters: {known})."})
        elif globals_[name].get("type") in TYPES and not value_fits(value, globals_[name]["type"]):
            want = globals_[name]["type"]
            errors.append({"node": None, "field": f"parameters.{name}",
                           "message": f"'{name}' expects {with_article(want)}, got {with_article(type_of(value))}: {value!r}."})
    if errors:
        raise RunParametersInvalid(errors)
    return dict(parameters)


def run_start(*, version: WorkflowVersion, engine: str = "local", parameters: dict | None = None, user=None,
              trigger: str = Trigger.MANUAL, logical_date=None, data_interval: tuple | None = None,
              only: list[str] | None = None, from_: str | None = None, to: str | None = None, reuse=None,
              cache: bool = False, preview: bool = False) -> Run:
    """Start a run of a workflow version: of every node, or a partial run (`only`, `from_`, `to`;
    the other nodes take their outputs from the run `reuse` names, runs.reuse). With `cache`,
    a node whose inputs match an earlier success of the tenant is not executed again. Its logical
    date is `logical_date` (default: now) and its data interval `data_interval` (default: the
    logical date alone).

    Raises EngineUnavailable, WorkflowInvalid (with every problem of the graph),
    RunParametersInvalid, ReuseInvalid or TenantInactive; nothing is written then. A second scheduled run for one
    logical date raises IntegrityError (runs.models: unique_scheduled_run), and nothing is written either.
    """
    tenant_active_check(version.workflow.tenant)
    runner = _Previewer() if preview else engine_get(engine)
    runner.check()
    workflow_version_runnable(version=version)
    workflow = version.workflow
    parameters = run_parameters_check(graph=version.graph, parameters=parameters or {})
    logical_date = logical_date or timezone.now()
    data_interval = data_interval or (logical_date, logical_date)
    graph = version.graph
    chosen = selection(graph, only=only, from_=from_, to=to)
    # What the selection needs from outside it is reused; the rest is not part of this run (skipped).
    outside = {a for nid in chosen for a in ancestors(graph, nid)} - chosen
    left_out = {n["id"] for n in graph["nodes"]} - chosen - outside
    sources = {}
    if outside:
        if reuse is None:
            raise ReuseInvalid([{"node": None, "field": "reuse", "message": (
                f"A partial run reuses the outputs of {', '.join(sorted(outside))}: name the run to take them from "
                "(reuse: a run id, or \"latest\").")}])
        source = reuse_source(run_workflow_id=workflow.pk, reuse=reuse, reused=outside, tenant=workflow.tenant)
        sources = reuse_rows(run_graph=graph, pins=version.notebook_pins, reused=outside, source=source)
    now = timezone.now()
    with transaction.atomic():
        run = Run.objects.create(
            tenant=workflow.tenant, workflow=workflow, version=version, engine=engine, parameters=parameters,
            created_by=user if user and user.is_authenticated else None, cache=cache, trigger=trigger,
            logical_date=logical_date, data_interval_start=data_interval[0], data_interval_end=data_interval[1],
            reuse={nid: origin(row) for nid, row in sources.items()} | dict.fromkeys(left_out),
        )
        NodeRun.objects.bulk_create([
            _reused(run, nid, sources[nid], now) if nid in sources else
            NodeRun(run=run, node=nid, version=version, status=Status.SKIPPED, ended_at=now,
                    log="Not part of this partial run.\n") if nid in left_out else
            NodeRun(run=run, node=nid, version=version)
            for nid in graph_order(graph)])
        run = Run.objects.select_for_update().select_related("version", "tenant").get(pk=run.pk)
        if cache and (engine != "local" or preview):
            cache_plan(run)  # the local engine asks the cache as each node becomes ready (a preview: what is known now)
        runner.start(run=run)
        record(Action.RUN_STARTED, tenant=run.tenant, obj=run,
               after={"workflow": workflow.pk, "version": version.number, "engine": engine, "parameters": parameters,
                      **({"reuse": run.reuse} if run.reuse else {}), **({"cache": True} if cache else {})},
               **({"actor": ActorKind.SCHEDULER} if trigger in (Trigger.SCHEDULE, Trigger.BACKFILL) and user is None else {}))
    return run


class _Preview(Exception):
    pass


def run_plan(*, version: WorkflowVersion, engine: str = "local", **options) -> list[dict]:
    """What run_start would do with these options, without starting anything: per node (graph
    order) {node, action: run | reused | cached | skipped, source: {run, node_run} | None}. The
    cache is asked for the nodes whose inputs are known before the run (their upstream reused or
    cached); the others may still be answered by it once their upstream ran. Raises as run_start."""
    plan = []
    try:
        with transaction.atomic():
            run = run_start(version=version, engine=engine, preview=True, **options)
            for row in run.node_runs.filter(map_index=None).select_related("reused_from", "cached_from"):
                source = row.reused_from or row.cached_from
                action = ("reused" if row.reused_from_id else "cached" if row.cached_from_id else
                          "skipped" if row.status == Status.SKIPPED else "run")
                plan.append({"node": row.node, "action": action,
                             "source": {"run": source.run_id, "node_run": source.pk} if source else None})
            raise _Preview
    except _Preview:
        pass
    order = {nid: i for i, nid in enumerate(graph_order(version.graph))}
    return sorted(plan, key=lambda p: order[p["node"]])


def _node(graph: dict, nid: str) -> dict:
    return next(n for n in graph["nodes"] if n["id"] == nid)


def _reused(run: Run, nid: str, source: NodeRun, now) -> NodeRun:
    """A node run that takes its outputs from `source` (of another run) instead of executing."""
    return NodeRun(run=run, node=nid, status=Status.SUCCESS, outputs=source.outputs, parameters=source.parameters,
                   reused_from_id=origin(source), version_id=source.version_id or source.run.version_id,
                   started_at=now, ended_at=now, log=f"Reused from run {source.run_id} (not executed).\n")


class _Previewer:
    """run_plan's engine: starts nothing."""

    def check(self) -> None:
        pass

    def start(self, *, run: Run) -> None:
        pass


def run_cancel(*, run: Run) -> Run:
    """Stop a run: what is queued or running becomes cancelled (running kernels are killed by their
    workers within about a second); the engine is told after the commit (Airflow fails the DAG
    run). Cancelling a finished run changes nothing."""
    with transaction.atomic():
        run = Run.objects.select_for_update().select_related("version", "tenant").get(pk=run.pk)
        if run.status not in ACTIVE:
            return run
        now = timezone.now()
        # Running rows keep their token so that their worker can still store the executed notebook.
        run.node_runs.filter(status=Status.QUEUED).update(status=Status.CANCELLED, ended_at=now, token="")
        run.node_runs.filter(status=Status.RUNNING).update(status=Status.CANCELLED, ended_at=now)
        record(Action.RUN_CANCELLED, tenant=run.tenant, obj=run, before={"status": run.status},
               after={"status": Status.CANCELLED})
        run.status, run.ended_at, run.error = Status.CANCELLED, now, "Cancelled."
        run.save(update_fields=["status", "ended_at", "error"])
        run_finished_send(run)
    engine_get(run.engine).cancel(run=run)
    return run


def run_repair(*, run: Run, version=None, parameters: dict | None = None, retry_items_of: str | None = None) -> Run:
    """Rerun, in the same run, the nodes that failed, were upstream_failed or cancelled, and every
    node downstream of them (runs.bookkeeping.repair_plan); nodes that succeeded keep their
    outputs. A fanned-out node whose inputs are not rerun keeps its successful items and reruns
    only the others. The engine is told first, outside any transaction (Airflow clears the task
    instances), then the rows are reset.

    `version` (a number, or "latest") moves the rerun nodes to that version of the workflow and
    `parameters` changes run parameters; a node kept from before must still fit (the same
    definition, notebook and bindings, no changed parameter it received), else ReuseInvalid
    names each that does not. On Airflow either makes a new DAG run, fed the kept outputs."""
    runner = engine_get(run.engine)
    run = Run.objects.select_related("version", "tenant", "workflow").get(pk=run.pk)
    tenant_active_check(run.tenant)
    if retry_items_of is None:
        _repairable(run)
    target = _repair_version(run, version)
    params = run_parameters_check(graph=target.graph, parameters={**run.parameters, **(parameters or {})})
    fresh = target.pk != run.version_id or params != run.parameters
    if fresh:
        workflow_version_runnable(version=target)
    rows = list(run.node_runs.select_related("version").all())
    plan = _repair_checked(run, target, params, rows, fresh, retry_items_of)
    runner.rerun(run=run, plan=plan, rows=rows, fresh=fresh)
    with transaction.atomic():
        run = Run.objects.select_for_update().select_related("version", "tenant").get(pk=run.pk)
        rows = list(run.node_runs.all())
        if _repair_checked(run, target, params, rows, fresh, retry_items_of) != plan:
            raise RunNotRepairable("The run changed while it was being repaired; try again.")
        graph = target.graph
        ids = {n["id"] for n in graph["nodes"]}
        NodeRun.objects.filter(run=run).exclude(node__in=ids).delete()  # nodes the new version dropped
        summary = {r.node: r for r in rows if r.map_index is None and r.node in ids}
        for nid, keep_items in plan.items():
            if nid not in summary:
                summary[nid] = NodeRun.objects.create(run=run, node=nid, version=target)
                continue
            items = [r for r in rows if r.node == nid and r.map_index is not None]
            if keep_items and items:
                for item in items:
                    if item.status != Status.SUCCESS:
                        _reset(item, version=target)
            else:
                NodeRun.objects.filter(pk__in=[i.pk for i in items]).delete()
            _reset(summary[nid], parameters={}, version=target)
        record(Action.RUN_REPAIRED, tenant=run.tenant, obj=run, before={"status": run.status, "version": run.version.number},
               after={"status": Status.RUNNING, "rerun": sorted(plan), "version": target.number,
                      **({"parameters": params} if params != run.parameters else {}),
                      **({"retried_items_of": retry_items_of} if retry_items_of else {})})
        if fresh:
            # Airflow: a new DAG run (its conf has the new parameters), fed what is kept.
            run.external_id = ""
            run.reuse = {nid: r.pk for nid, r in summary.items() if nid not in plan}
        run.version, run.parameters = target, params
        run.status, run.ended_at, run.error = Status.RUNNING, None, ""
        run.save(update_fields=["status", "ended_at", "error", "version", "parameters", "external_id", "reuse"])
        runner.start(run=run)
    return run


def run_retry_failed_items(*, run: Run, node: str) -> Run:
    """Rerun, in the same run, the items of the fanned-out `node` that did not succeed (also when
    the node succeeded within its allowance of failed items) and every node downstream of it."""
    if run.status in ACTIVE:
        raise RunNotRepairable(f"Run {run.pk} is {run.status}: retry its failed items once it has finished.")
    spec = next((n for n in run.version.graph["nodes"] if n["id"] == node), None)
    if spec is None or not spec.get("map_over"):
        raise Invalid(f"Run {run.pk} has no fanned-out node '{node}'.")
    if not run.node_runs.filter(node=node, map_index__isnull=False, status__in=NOT_SUCCEEDED).exists():
        raise RunNotRepairable(f"'{node}' has no failed items in run {run.pk}.")
    return run_repair(run=run, retry_items_of=node)


def _repair_version(run: Run, version) -> WorkflowVersion:
    if version is None:
        return run.version
    number = None if version == "latest" else version
    return workflow_version_get(workflow=run.workflow, number=number)


def _repair_checked(run: Run, target: WorkflowVersion, params: dict, rows: list[NodeRun], fresh: bool,
                    retry_items_of: str | None = None) -> dict[str, bool]:
    """The repair plan on `target` (or, with `retry_items_of`, retry_items_plan's for that
    fanned-out node); ReuseInvalid naming each kept node that no longer fits."""
    summary = {r.node: r for r in rows if r.map_index is None}
    graph = target.graph
    plan = retry_items_plan(graph, retry_items_of) if retry_items_of else repair_plan(
        graph, {nid: r for nid, r in summary.items() if nid in {n["id"] for n in graph["nodes"]}})
    changed = {k for k in params.keys() | run.parameters.keys() if params.get(k) != run.parameters.get(k)}
    errors = []
    for nid, row in summary.items():
        if nid in plan or nid not in {n["id"] for n in graph["nodes"]}:
            continue
        ran_on = row.version or run.version
        problem = node_fit_problem(nid, graph=graph, pins=target.notebook_pins, source_graph=ran_on.graph,
                                   source_pins=ran_on.notebook_pins)
        if problem is None and changed & set(row.parameters):
            problem = f"'{nid}' ran with {', '.join(sorted(changed & set(row.parameters)))}, which this repair changes."
        if problem:
            errors.append({"node": nid, "field": "version" if "parameters" not in problem else "parameters",
                           "message": problem + " Start a new run (it can reuse this one's other outputs)."})
    if errors:
        raise ReuseInvalid(errors)
    if fresh:
        # A new DAG run is fed a kept node's outputs, not the items of a fanned-out node it reruns.
        whole = {n["id"] for n in graph["nodes"] if n["map_over"]} if run.engine == "airflow" else set()
        plan = {nid: keep and nid not in whole and _node(graph, nid) == _node(run.version.graph, nid)
                if nid in {n["id"] for n in run.version.graph["nodes"]} else False for nid, keep in plan.items()}
    return plan


def _repairable(run: Run) -> None:
    if run.status in ACTIVE or run.status == Status.SUCCESS:
        raise RunNotRepairable(f"Only a failed or cancelled run can be repaired; this one is {run.status}.")


def _reset(row: NodeRun, **extra) -> None:
    for field, value in {"status": Status.QUEUED, "attempts": 0, "outputs": {}, "error": None, "notebook": "",
                         "started_at": None, "ended_at": None, "token": "", "dispatched_at": None,
                         "not_before": None, "heartbeat_at": None, "warnings": [], "external_id": "",
                         **extra}.items():
        setattr(row, field, value)
    row.log += "--- repair ---\n"
    row.save()
