"""Partial runs, repairs on another version, and the cache: which nodes of a run execute, and
where the others take their outputs from. Both engines use it (the local engine marks the rows;
Airflow gets the same map in the DAG run's conf, `reuse_conf`).

- `selection`: the nodes a partial run executes (`only`, `from` with its descendants, `to`
  with its ancestors);
- `node_fit_problem`: why a node of one graph may not take the outputs of the same node of
  another (its definition, its notebook version or a binding into it changed);
- `reuse_rows`: the source node runs of the nodes outside the selection, or a ReuseInvalid
  naming every node that does not fit;
- `cache_key` / `cache_hit`: a node's key (notebook sha256, resolved parameters, the upstream
  outputs it receives, its connections' names, the notebook environment) and the tenant's newest
  executed success with that key.
"""
import hashlib
import json
from functools import lru_cache
from pathlib import Path

from django.conf import settings

from loom.errors import Invalid
from runs.models import NodeRun, Run, Status
from runtime.parameters import ARTIFACTS_PARAMETER
from workflows.graph import ancestors, descendants, graph_bindings, upstream_ids

# The DAG run conf key carrying {node: outputs} of the nodes Airflow must not run (dags/airflow_tasks.py).
REUSE_CONF = "__loom_reuse"
# A node definition's fields that do not change what it computes.
_COSMETIC = {"label", "description", "position", "retries", "retry_delay_s", "timeout_s", "pool", "queue",
             "max_active", "memory_mb", "max_procs", "cache", "reuse_kernel"}


class ReuseInvalid(Invalid):
    """A partial run or a repair that cannot reuse what it names: every problem, by node."""

    def __init__(self, errors: list[dict]):
        self.errors = errors
        super().__init__(" ".join(e["message"] for e in errors))

    def body(self) -> dict:
        return {"detail": str(self), "errors": self.errors}


def selection(graph: dict, *, only: list[str] | None = None, from_: str | None = None, to: str | None = None) -> set[str]:
    """The nodes a partial run executes; all of them without only/from/to. ReuseInvalid naming
    unknown nodes, or more than one of only/from/to."""
    given = [name for name, v in (("only", only), ("from", from_), ("to", to)) if v]
    if len(given) > 1:
        raise ReuseInvalid([{"node": None, "field": given[1], "message": f"Give one of only, from and to, not {' and '.join(given)}."}])
    ids = {n["id"] for n in graph["nodes"]}
    asked = list(only or []) + [v for v in (from_, to) if v]
    unknown = [nid for nid in asked if nid not in ids]
    if unknown:
        raise ReuseInvalid([{"node": nid, "field": given[0], "message": f"'{nid}' is not a node of this workflow version."}
                            for nid in unknown])
    if only:
        return set(only)
    if from_:
        return {from_} | descendants(graph, from_)
    if to:
        return {to} | ancestors(graph, to)
    return ids


def _definition(graph: dict, pins: dict, nid: str) -> dict | None:
    node = next((n for n in graph["nodes"] if n["id"] == nid), None)
    if node is None:
        return None
    return {"node": {k: v for k, v in node.items() if k not in _COSMETIC},
            "sha256": pins.get(node["notebook"], {}).get("sha256"),
            "bindings": graph_bindings(graph)[nid]}


def node_fit_problem(nid: str, *, graph: dict, pins: dict, source_graph: dict, source_pins: dict) -> str | None:
    """Why `nid` of (graph, pins) may not reuse the outputs `nid` had in (source_graph, source_pins); None when it may."""
    mine, theirs = _definition(graph, pins, nid), _definition(source_graph, source_pins, nid)
    if theirs is None:
        return f"'{nid}' is not in the reused run's version."
    if mine["sha256"] != theirs["sha256"]:
        return f"'{nid}': its notebook changed since the reused run."
    if mine["bindings"] != theirs["bindings"]:
        return f"'{nid}': a binding into it changed since the reused run."
    if mine["node"] != theirs["node"]:
        changed = sorted(k for k in mine["node"].keys() | theirs["node"].keys() if mine["node"].get(k) != theirs["node"].get(k))
        return f"'{nid}' changed since the reused run ({', '.join(changed)})."
    return None


def reuse_rows(*, run_graph: dict, pins: dict, reused: set[str], source: Run) -> dict[str, NodeRun]:
    """{node: the source run's node run} for each node in `reused`, or ReuseInvalid naming each
    node that did not succeed there, changed since, or sits downstream of a node that changed."""
    rows = {r.node: r for r in source.node_runs.filter(map_index=None, node__in=reused)}
    source_graph, source_pins = source.version.graph, source.version.notebook_pins
    errors = []
    for nid in sorted(reused):
        problem = node_fit_problem(nid, graph=run_graph, pins=pins, source_graph=source_graph, source_pins=source_pins)
        row = rows.get(nid)
        if problem is None and (row is None or row.status != Status.SUCCESS):
            problem = f"'{nid}' has no outputs in run {source.pk} (it is {row.status if row else 'missing'})."
        if problem is None:
            changed_above = [u for u in sorted(ancestors(run_graph, nid))
                             if node_fit_problem(u, graph=run_graph, pins=pins, source_graph=source_graph, source_pins=source_pins)]
            if changed_above:
                problem = f"'{nid}' is downstream of {', '.join(changed_above)}, changed since run {source.pk}: run it too."
        if problem:
            errors.append({"node": nid, "field": "reuse", "message": problem})
    if errors:
        raise ReuseInvalid(errors)
    return rows


def reuse_source(*, run_workflow_id: int, reuse, reused: set[str], tenant) -> Run:
    """The run named by `reuse` (an id of the workflow's runs, or "latest": the newest run in which
    every node of `reused` succeeded). ReuseInvalid when there is none."""
    runs = Run.objects.filter(tenant=tenant, workflow_id=run_workflow_id).select_related("version")
    if reuse == "latest":
        for candidate in runs.order_by("-id")[:50]:
            ok = candidate.node_runs.filter(map_index=None, node__in=reused, status=Status.SUCCESS).count()
            if ok == len(reused):
                return candidate
        raise ReuseInvalid([{"node": None, "field": "reuse",
                             "message": f"No run of this workflow has all of {', '.join(sorted(reused))} succeeded to reuse."}])
    found = runs.filter(pk=reuse).first() if isinstance(reuse, int) else None
    if found is None:
        raise ReuseInvalid([{"node": None, "field": "reuse", "message": f"This workflow has no run {reuse}."}])
    return found


def origin(row: NodeRun) -> NodeRun | int:
    """The node run that executed what `row` holds (a reused or cached row points to its origin)."""
    return row.reused_from_id or row.cached_from_id or row.pk


# --- the cache ------------------------------------------------------------------------------

@lru_cache(maxsize=1)
def environment_hash() -> str:
    """The notebook environment's lock (notebook-env/requirements.txt), hashed: a new lock is a new key."""
    lock = Path(settings.REPO_DIR) / "notebook-env" / "requirements.txt"
    try:
        return hashlib.sha256(lock.read_bytes()).hexdigest()
    except OSError:
        return ""


def cache_key(*, node: dict, sha256: str, parameters: dict, received: dict) -> str:
    """sha256 over what decides a node's outputs: its notebook version, its resolved parameters
    (less Loom's artifacts folder, which names the run), the upstream outputs it receives, its
    connections' names and the notebook environment."""
    material = {"notebook": sha256, "parameters": {k: v for k, v in parameters.items() if k != ARTIFACTS_PARAMETER},
                "received": received, "connections": sorted(node.get("connections") or []), "env": environment_hash()}
    return hashlib.sha256(json.dumps(material, sort_keys=True, default=str).encode()).hexdigest()


def received_outputs(graph: dict, nid: str, outputs) -> dict:
    """{upstream node: its outputs} for the node's upstream nodes; `outputs(node)` gives them (None: none)."""
    return {u: outputs(u) for u in upstream_ids(graph, nid)}


def cacheable(node: dict) -> bool:
    """A node the cache may answer: not opted out, and not fanned out (its items run)."""
    return node.get("cache", True) is not False and not node.get("map_over")


def cache_hit(*, tenant_id: int, key: str) -> NodeRun | None:
    """The tenant's newest node run that executed with this key and succeeded."""
    return (NodeRun.objects.filter(cache_key=key, status=Status.SUCCESS, map_index=None, run__tenant_id=tenant_id,
                                   reused_from=None, cached_from=None).order_by("-id").first())
