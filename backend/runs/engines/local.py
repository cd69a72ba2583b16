"""The local engine: Celery tasks run each node's notebook as soon as its upstream allow.

Every decision is made from database rows under a lock of the run row (always taken before
any node row and before the tenant row that dispatching locks, so two writers never wait on
each other in opposite order):
- `run_advance` decides which nodes can start (trigger rules), expands fanned-out nodes,
  dispatches what capacity allows, and finishes the run;
- `node_run_execute` (runs.engines.executing, the Celery task's body) claims one attempt,
  runs the notebook with runtime.execute.notebook_execute, and records the outcome;
- `runs_reap` (runs.engines.recovery; each worker, every few seconds) retries or fails
  attempts whose worker stopped sending heartbeats, and re-sends lost messages.
A message only names a node run and a token; whoever holds a stale or duplicate message
finds another token or a row that is no longer queued, and does nothing.

A queued row's `dispatched_at`: with a token, when its message went to the broker (None: the
broker was down, the reaper sends it at its next pass); without a token, since when it has
been ready and waiting for a slot of the tenant's quota. Slots go to the oldest run first.
"""
import logging
import os
import socket
import threading
import uuid
from collections import Counter, defaultdict
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import Error, transaction
from django.db.models import Count, Q
from django.utils import timezone

from catalog.models import NotebookVersion
from runs.bookkeeping import node_error, node_summarize, run_outcome
from runs.engines import NODE_RUN_EXECUTE, slots, task_send
from runs.models import ACTIVE, FINISHED, NodeRun, Run, Status
from runs.signals import run_finished_send
from runs.reuse import cache_hit, cache_key, cacheable, received_outputs
from runs.triggers import RUN, WAIT, trigger_decide
from runtime.parameters import ARTIFACTS_PARAMETER, DATE_PARAMETERS, edge_layer, fan_out, fan_out_items, node_parameters
from tenancy.models import Tenant
from workflows.graph import graph_bindings, graph_order, upstream_ids
from workflows.selectors import version_notebooks

log = logging.getLogger(__name__)
sent_here = threading.local()  # node runs this thread dispatched in its current transaction
WORKER_ID = f"{socket.gethostname()}:{os.getpid()}"


class LocalEngine:
    name = "local"

    def check(self) -> None:
        """Always available: the database and the broker are Loom's own."""

    def start(self, *, run: Run) -> None:
        run_advance(run=run)

    def cancel(self, *, run: Run) -> None:
        """Nothing to send: each running attempt's heartbeat sees its row cancelled and kills its kernel."""

    def rerun(self, *, run: Run, plan: dict[str, bool], rows: list[NodeRun], fresh: bool = False) -> None:
        """Nothing to do before the rows are reset: `start` then runs them again."""


# --- deciding -------------------------------------------------------------------------------

def node_run_send(node_run_id: int, token: str, countdown: float = 0) -> None:
    """Publish an attempt's message. A broker that is down is not the caller's error (a run
    POST still answers 201): the row is marked unsent and the reaper sends it at its next pass."""
    try:
        task_send(NODE_RUN_EXECUTE, node_run_id, token, countdown=countdown)
    except Exception as e:  # noqa: BLE001 - kombu and redis raise many types; the reaper re-sends whatever failed
        log.warning("node run %s: the broker did not take its message (%s); the reaper sends it again", node_run_id, e)
        try:
            NodeRun.objects.filter(pk=node_run_id, token=token, status=Status.QUEUED).update(dispatched_at=None)
        except Error:
            log.exception("node run %s: could not mark its message unsent", node_run_id)


def run_advance(*, run: Run) -> None:
    """Move a run forward: decide, expand and dispatch ready nodes; finish the run when all are done.

    Call inside a transaction holding the run row (select_for_update); messages go out on commit.
    """
    if run.status not in ACTIVE or run.engine != LocalEngine.name:
        return
    graph = run.version.graph
    nodes = {n["id"]: n for n in graph["nodes"]}
    summary = {r.node: r for r in run.node_runs.filter(map_index__isnull=True)}
    items = _Items.of(run)
    now = timezone.now()
    decided: dict[str, NodeRun] = {}  # plain nodes whose trigger rule says run, waiting to be sent

    changed = True
    while changed:  # one decision can unlock the next (a skip propagates down a chain)
        changed = False
        for nid in graph_order(graph):
            row, node = summary[nid], nodes[nid]
            if row.status == Status.QUEUED and not row.token and not items[nid]:
                if nid in decided:
                    continue
                decision = trigger_decide(node["trigger_rule"], [summary[u].status for u in upstream_ids(graph, nid)])
                if decision == WAIT:
                    continue
                if decision != RUN:
                    _finish(row, decision, now)
                    changed = True
                    continue
                try:
                    params, map_values = node_inputs(run, graph, node, summary)
                except (NodeInputError, NotebookVersion.DoesNotExist) as e:  # a deleted version fails the node
                    row.error = node_error(str(e))
                    _finish(row, Status.FAILED, now)
                    changed = True
                    continue
                if map_values is None:
                    row.parameters = params
                    if _from_cache(run, graph, node, row, summary, now):
                        changed = True
                        continue
                    decided[nid] = row
                    continue
                changed = True
                if not map_values:
                    row.log = "map_over gave an empty list: nothing to run."
                    _finish(row, Status.SKIPPED, now)
                    continue
                target = fan_out(node["map_over"], node["map_parameter"]).parameter
                items[nid] = _Items(run, nid, rows=NodeRun.objects.bulk_create([
                    NodeRun(run=run, node=nid, map_index=i, version_id=run.version_id,
                            parameters={**_item_folder(run, nid, i, params), target: value})
                    for i, value in enumerate(map_values)
                ]))
                row.status, row.started_at = Status.RUNNING, now
                row.save(update_fields=["status", "started_at"])
            elif items[nid] and row.status in (Status.QUEUED, Status.RUNNING):
                if row.status == Status.QUEUED:  # repaired in place: its items keep their parameters
                    row.status, row.started_at = Status.RUNNING, now
                    row.save(update_fields=["status", "started_at"])
                    changed = True
                if items[nid].finished():
                    node_summarize(row, items[nid].rows(), node, now=now)
                    row.save(update_fields=["status", "attempts", "outputs", "error", "warnings", "started_at", "ended_at"])
                    changed = True

    _dispatch(run, nodes, list(decided.values()), items, summary, now)
    if all(r.status in FINISHED for r in summary.values()):
        run.status, run.error = run_outcome(summary.values())
        run.ended_at = now
        run.save(update_fields=["status", "error", "ended_at"])
        run_finished_send(run)


class _Items:
    """A fanned-out node's items as run_advance needs them: counted by status (one query for the
    whole run), and only the rows it acts on loaded, not thousands of them on each advance."""

    def __init__(self, run: Run, node: str, *, counts: Counter | None = None, sent: int = 0,
                 rows: list[NodeRun] | None = None):
        self.run, self.node, self._rows = run, node, rows
        self.counts = Counter(r.status for r in rows) if rows is not None else counts or Counter()
        # queued with their message out (a token): they hold a place under the node's cap
        self.sent = sum(1 for r in rows if r.status == Status.QUEUED and r.token) if rows is not None else sent

    @classmethod
    def of(cls, run: Run) -> "_NoItems":
        counts = (run.node_runs.filter(map_index__isnull=False).values("node", "status")
                  .annotate(n=Count("id"), sent=Count("id", filter=~Q(token=""))))
        by_node = defaultdict(lambda: (Counter(), [0]))
        for c in counts:
            tally, sent = by_node[c["node"]]
            tally[c["status"]] += c["n"]
            if c["status"] == Status.QUEUED:
                sent[0] += c["sent"]
        items = _NoItems(run)
        for node, (tally, sent) in by_node.items():
            items[node] = cls(run, node, counts=tally, sent=sent[0])
        return items

    def __bool__(self) -> bool:
        return sum(self.counts.values()) > 0

    def finished(self) -> bool:
        return all(status in FINISHED for status, n in self.counts.items() if n)

    def busy(self) -> int:
        return self.counts[Status.RUNNING] + self.sent

    def waiting(self, room: int) -> list[NodeRun]:
        """The first `room` items (by map_index) that wait for their message."""
        if room <= 0:
            return []
        if self._rows is not None:
            return [r for r in self.rows() if r.status == Status.QUEUED and not r.token][:room]
        return list(self.run.node_runs.filter(node=self.node, map_index__isnull=False, status=Status.QUEUED, token="")
                    .order_by("map_index").defer("notebook", "log")[:room])

    def rows(self) -> list[NodeRun]:
        """All of them, in map_index order, without their notebooks and logs."""
        if self._rows is None:
            self._rows = list(self.run.node_runs.filter(node=self.node, map_index__isnull=False).defer("notebook", "log"))
        return sorted(self._rows, key=lambda r: r.map_index)


class _NoItems(dict):
    """{node: _Items}; a node without items gets an empty one."""

    def __init__(self, run: Run):
        super().__init__()
        self.run = run

    def __missing__(self, node: str) -> _Items:
        return _Items(self.run, node, rows=[])


def _finish(row: NodeRun, status: str, now) -> None:
    row.status, row.ended_at = status, now
    row.save(update_fields=["status", "ended_at", "error", "log"])


class NodeInputError(Exception):
    pass


def node_cache_key(run: Run, graph: dict, node: dict, params: dict, summary: dict[str, NodeRun]) -> str:
    """The cache key of a plain node about to run with `params` (runs.reuse.cache_key)."""
    def outputs(source: str) -> dict | None:
        return summary[source].outputs if summary[source].status == Status.SUCCESS else None

    return cache_key(node=node, sha256=pinned_notebook(run, node["notebook"]).sha256, parameters=params,
                     received=received_outputs(graph, node["id"], outputs))


def _from_cache(run: Run, graph: dict, node: dict, row: NodeRun, summary: dict[str, NodeRun], now) -> bool:
    """Key the node (its row keeps the key, for later runs); with the run's cache on, take the
    outputs of the tenant's newest success with that key instead of executing. True on a hit."""
    if node["map_over"]:
        return False
    row.cache_key = node_cache_key(run, graph, node, row.parameters, summary)
    hit = cache_hit(tenant_id=run.tenant_id, key=row.cache_key) if run.cache and cacheable(node) else None
    if hit is None:
        return False
    row.status, row.outputs, row.error, row.cached_from_id = Status.SUCCESS, hit.outputs, None, hit.pk
    row.started_at, row.ended_at = now, now
    row.log += f"[{now:%H:%M:%S}] cached: the same inputs succeeded in run {hit.run_id} (not executed)\n"
    row.save(update_fields=["status", "outputs", "error", "cached_from", "cache_key", "parameters", "started_at",
                            "ended_at", "log"])
    run.reuse = {**run.reuse, node["id"]: hit.pk}
    run.save(update_fields=["reuse"])
    return True


def cache_plan(run: Run) -> None:
    """Before an engine that decides nothing itself (Airflow) gets the run: answer from the cache,
    in graph order, each plain node whose upstream outputs are already known (reused or cached).
    Call holding the run row."""
    graph = run.version.graph
    summary = {r.node: r for r in run.node_runs.filter(map_index=None)}
    now = timezone.now()
    for nid in graph_order(graph):
        node, row = next(n for n in graph["nodes"] if n["id"] == nid), summary[nid]
        if row.status != Status.QUEUED or any(summary[u].status != Status.SUCCESS for u in upstream_ids(graph, nid)):
            continue
        try:
            params, map_values = node_inputs(run, graph, node, summary)
        except (NodeInputError, NotebookVersion.DoesNotExist):
            continue
        if map_values is None:
            row.parameters = params
            if not _from_cache(run, graph, node, row, summary, now):
                row.save(update_fields=["cache_key", "parameters"])


def node_inputs(run: Run, graph: dict, node: dict, summary: dict[str, NodeRun]) -> tuple[dict, list | None]:
    """The node's parameters (without the map item) and, for a fanned-out node, the items."""
    pinned = pinned_notebook(run, node["notebook"])
    globals_ = {p["name"]: p.get("default") for p in graph["parameters"]}

    def outputs(source: str) -> dict | None:
        return summary[source].outputs if summary[source].status == Status.SUCCESS else None

    resolved = node_parameters(
        [p["name"] for p in pinned.parameters],
        overrides=run.parameters,
        values=node["parameters"],
        edge=edge_layer(graph_bindings(graph)[node["id"]], outputs),
        globals=globals_,
        artifacts_dir=str(artifacts_dir(run, node["id"])),
        dates=run_dates(run),
    )
    params = {name: r.value for name, r in resolved.items()}
    fan = fan_out(node["map_over"], node["map_parameter"])
    if fan is None:
        return params, None
    try:
        values = fan_out_items(fan, upstream=outputs(fan.node) if fan.node is not None else None,
                               overrides=run.parameters, globals=globals_)
    except TypeError as e:
        raise NodeInputError(str(e)) from None
    if len(values) > settings.LOOM_MAP_MAX_ITEMS:
        raise NodeInputError(f"map_over '{fan.over}' has {len(values)} items; the limit is {settings.LOOM_MAP_MAX_ITEMS} (LOOM_MAP_MAX_ITEMS).")
    return params, values


def run_dates(run: Run) -> dict[str, str]:
    """The run's logical date and data interval, as notebooks receive them (DATE_PARAMETERS)."""
    return {name: getattr(run, name).isoformat() for name in DATE_PARAMETERS if getattr(run, name) is not None}


def _item_folder(run: Run, node: str, map_index: int, params: dict) -> dict:
    """An item's parameters: Loom's artifacts folder is the item's own (its kernel's working
    folder, the only one its sandbox can write), unless the workflow gave another value."""
    if params.get(ARTIFACTS_PARAMETER) == str(artifacts_dir(run, node)):
        return {**params, ARTIFACTS_PARAMETER: str(artifacts_dir(run, node, map_index))}
    return params


def _dispatch(run: Run, nodes: dict, ready: list[NodeRun], items: dict, summary: dict, now) -> None:
    """Send the ready node runs, within the slots of their pool (runs.engines.slots) and each
    fanned-out node's cap; what does not fit waits for a slot (marked by `dispatched_at`, see
    the module's docstring)."""
    ready = list(ready)
    for nid, its in items.items():
        if its and summary[nid].status == Status.RUNNING:
            cap = nodes[nid]["max_active"] or settings.LOOM_MAP_MAX_ACTIVE
            ready.extend(its.waiting(cap - its.busy()))
    if not ready:
        return
    tenant, room, total = slots.rooms(run)
    sent_at = timezone.now()  # after the tenant's lock: dispatch times follow the order of dispatch
    sent = 0
    for row in ready:
        pool = slots.pool_key(tenant, nodes[row.node]["pool"])
        if room.get(pool, 0) > 0 and total > 0:
            room[pool], total, sent = room[pool] - 1, total - 1, sent + 1
            row.token, row.dispatched_at, row.pool = uuid.uuid4().hex, sent_at, pool
            row.save(update_fields=["token", "dispatched_at", "parameters", "pool", "cache_key"])
            transaction.on_commit(lambda i=row.pk, t=row.token: node_run_send(i, t))
            getattr(sent_here, "rows", []).append((row.pk, row.token))
        elif row.dispatched_at is None or row.pool != pool:
            row.dispatched_at, row.pool = row.dispatched_at or now, pool
            row.save(update_fields=["dispatched_at", "pool"])
    if sent and run.started_at is None:
        run.status, run.started_at = Status.RUNNING, now
        run.save(update_fields=["status", "started_at"])
    elif sent and run.status == Status.QUEUED:
        run.status = Status.RUNNING
        run.save(update_fields=["status"])


def artifacts_dir(run: Run, node: str, map_index: int | None = None) -> Path:
    """Where a node run keeps its files: <LOOM_ARTIFACTS_DIR>/<tenant>/<run>/<node>[-<map index>]."""
    leaf = node if map_index is None else f"{node}-{map_index}"
    return Path(settings.LOOM_ARTIFACTS_DIR) / run.tenant.slug / str(run.pk) / leaf


def pinned_notebook(run: Run, name: str) -> NotebookVersion:
    """The notebook version the run's workflow version pinned (cached on the run object)."""
    cache = run.__dict__.setdefault("_pinned", {})
    if name not in cache:
        found = version_notebooks(version=run.version, names={name}, content=True)
        if name not in found:
            raise NotebookVersion.DoesNotExist(f"The notebook {name} that version {run.version.number} pinned is gone.")
        cache[name] = found[name]
    return cache[name]


def attempt_end(run: Run, row: NodeRun, outcome: dict, now, *, retry: bool = True) -> None:
    """Record an attempt's outcome: success, a retry after the node's delay, or failure."""
    node = next(n for n in run.version.graph["nodes"] if n["id"] == row.node)
    row.heartbeat_at = None
    if outcome["status"] == Status.SUCCESS:
        row.status, row.outputs, row.error, row.ended_at = Status.SUCCESS, outcome["outputs"], None, now
        row.log += f"[{now:%H:%M:%S}] attempt {row.attempts} succeeded\n"
    elif retry and row.attempts <= node["retries"] and outcome["status"] != Status.CANCELLED:
        delay = node["retry_delay_s"] or 0
        row.status, row.error, row.ended_at = Status.QUEUED, outcome["error"], now
        row.token, row.dispatched_at = uuid.uuid4().hex, now
        row.not_before = now + timedelta(seconds=delay)
        row.log += f"[{now:%H:%M:%S}] attempt {row.attempts} failed: {outcome['error']['message']}; retrying in {delay} s\n"
        transaction.on_commit(lambda i=row.pk, t=row.token: node_run_send(i, t, countdown=delay))
    else:
        row.status, row.error, row.ended_at = Status.FAILED, outcome["error"], now
        row.log += f"[{now:%H:%M:%S}] attempt {row.attempts} failed: {outcome['error']['message']}\n"
    row.save()


def tenant_fill(tenant_id: int) -> None:
    """Give the tenant's free slots to its waiting work, oldest run first within each pool.

    Advances only the oldest run with rows waiting for a free slot of their pool, again while
    slots are free and it sends something: a finished node costs about one run_advance per slot
    it frees, however many runs wait.
    """
    tenant = Tenant.objects.get(pk=tenant_id)
    free, total = slots.free_slots(tenant)
    while total > 0:
        run_id = slots.waiting_in_open_pools(tenant, free).order_by("run_id").values_list("run_id", flat=True).first()
        if run_id is None:
            return
        with transaction.atomic():
            run = Run.objects.select_for_update().select_related("version", "tenant").get(pk=run_id)
            run_advance(run=run)
        before, (free, total) = total, slots.free_slots(tenant)
        if total >= before:
            return  # it sent nothing: younger runs of its pool may not pass it, so nothing more can start now
