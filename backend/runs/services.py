"""Writes on runs: start, cancel, repair, retry failed items. Engines (runs.engines) do the engine-specific part."""
from django.db import transaction
from django.utils import timezone

from audit.services import Action, record
from catalog.inspection import TYPES, type_of, value_fits
from loom.errors import Conflict, Invalid
from runs.bookkeeping import NOT_SUCCEEDED, repair_plan, retry_items_plan
from runs.engines import engine_get
from runs.models import ACTIVE, NodeRun, Run, Status
from workflows.graph import graph_order, with_article
from workflows.models import WorkflowVersion
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


def run_start(*, version: WorkflowVersion, engine: str = "local", parameters: dict | None = None, user=None) -> Run:
    """Start a run of a workflow version.

    Raises EngineUnavailable, WorkflowInvalid (with every problem of the graph) or
    RunParametersInvalid; nothing is written then.
    """
    runner = engine_get(engine)
    runner.check()
    workflow_version_runnable(version=version)
    workflow = version.workflow
    parameters = run_parameters_check(graph=version.graph, parameters=parameters or {})
    with transaction.atomic():
        run = Run.objects.create(
            tenant=workflow.tenant, workflow=workflow, version=version, engine=engine, parameters=parameters,
            created_by=user if user and user.is_authenticated else None,
        )
        NodeRun.objects.bulk_create([NodeRun(run=run, node=nid) for nid in graph_order(version.graph)])
        run = Run.objects.select_for_update().select_related("version", "tenant").get(pk=run.pk)
        runner.start(run=run)
        record(Action.RUN_STARTED, tenant=run.tenant, obj=run,
               after={"workflow": workflow.pk, "version": version.number, "engine": engine, "parameters": parameters})
    return run


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
    engine_get(run.engine).cancel(run=run)
    return run


def run_repair(*, run: Run) -> Run:
    """Rerun, in the same run, the nodes that failed, were upstream_failed or cancelled, and every
    node downstream of them (runs.bookkeeping.repair_plan); nodes that succeeded keep their
    outputs. A fanned-out node whose inputs are not rerun keeps its successful items and reruns
    only the others."""
    def plan(run, graph, summary):
        _repairable(run)
        return repair_plan(graph, summary)
    return _rerun(run, plan)


def run_retry_failed_items(*, run: Run, node: str) -> Run:
    """Rerun, in the same run, the items of the fanned-out `node` that did not succeed (also when
    the node succeeded within its allowance of failed items) and every node downstream of it."""
    def plan(run, graph, summary):
        if run.status in ACTIVE:
            raise RunNotRepairable(f"Run {run.pk} is {run.status}: retry its failed items once it has finished.")
        spec = next((n for n in graph["nodes"] if n["id"] == node), None)
        if spec is None or not spec.get("map_over"):
            raise Invalid(f"Run {run.pk} has no fanned-out node '{node}'.")
        if not run.node_runs.filter(node=node, map_index__isnull=False, status__in=NOT_SUCCEEDED).exists():
            raise RunNotRepairable(f"'{node}' has no failed items in run {run.pk}.")
        return retry_items_plan(graph, node)
    return _rerun(run, plan, retried_items_of=node)


def _rerun(run: Run, plan_of, **audit) -> Run:
    """Reset the rows of `plan_of(run, graph, summary rows)` (a repair plan) and start them again.
    The engine is told first, outside any transaction (Airflow clears the task instances), then
    the rows are reset; plan_of is asked again under the run's lock and raises if it cannot."""
    runner = engine_get(run.engine)
    run = Run.objects.select_related("version", "tenant", "workflow").get(pk=run.pk)
    graph = run.version.graph
    rows = list(run.node_runs.all())
    plan = plan_of(run, graph, {r.node: r for r in rows if r.map_index is None})
    runner.rerun(run=run, plan=plan, rows=rows)
    with transaction.atomic():
        run = Run.objects.select_for_update().select_related("version", "tenant").get(pk=run.pk)
        rows = list(run.node_runs.all())
        summary = {r.node: r for r in rows if r.map_index is None}
        for nid, keep_items in plan_of(run, graph, summary).items():
            items = [r for r in rows if r.node == nid and r.map_index is not None]
            if keep_items and items:
                for item in items:
                    if item.status != Status.SUCCESS:
                        _reset(item)
            else:
                NodeRun.objects.filter(pk__in=[i.pk for i in items]).delete()
            _reset(summary[nid], parameters={})
        record(Action.RUN_REPAIRED, tenant=run.tenant, obj=run, before={"status": run.status},
               after={"status": Status.RUNNING, "rerun": sorted(plan), **audit})
        run.status, run.ended_at, run.error = Status.RUNNING, None, ""
        run.save(update_fields=["status", "ended_at", "error"])
        runner.start(run=run)
    return run


def _repairable(run: Run) -> None:
    if run.status in ACTIVE or run.status == Status.SUCCESS:
        raise RunNotRepairable(f"Only a failed or cancelled run can be repaired; this one is {run.status}.")


def _reset(row: NodeRun, **extra) -> None:
    for field, value in {"status": Status.QUEUED, "attempts": 0, "outputs": {}, "error": None, "notebook": "",
                         "started_at": None, "ended_at": None, "token": "", "dispatched_at": None,
                         "not_before": None, "heartbeat_at": None, "warnings": [], **extra}.items():
        setattr(row, field, value)
    row.log += "--- repair ---\n"
    row.save()
