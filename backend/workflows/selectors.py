import hashlib
from pathlib import Path

from django.conf import settings
from django.db.models import F, OuterRef, Q, QuerySet, Subquery, TextField
from django.db.models.functions import Cast

from catalog import inspection
from catalog.models import NotebookVersion
from catalog.selectors import notebook_signatures
from runtime import parameters
from tenancy.models import Connection, Tenant
from workflows import graph as graph_shape
from workflows import validation as graph_rules
from loom import values
from loom.memo import SizedLRU
from loom.renderers import RawJSON
from workflows.graph import GraphError
from workflows.validation import (
    alert_errors,
    alert_uses,
    connection_errors,
    connection_uses,
    graph_validate,
    placement_errors,
    placement_uses,
)
from workflows.models import Workflow, WorkflowVersion
from workflows.signals import tenant_channel_names

# The validation rules as this code has them: the modules graph_validate's rules live in. A version
# whose kept problems were found by other rules (Loom was upgraded since) is checked again once.
RULES = hashlib.sha256(b"".join(
    Path(module.__file__).read_bytes() for module in (graph_shape, graph_rules, values, inspection, parameters)
)).hexdigest()[:16]


def workflow_list(*, tenant: Tenant) -> QuerySet[Workflow]:
    """The tenant's workflows, each annotated with its last run (`last_run_id`, `last_run_status`,
    `last_run_created_at`; None without runs) in the same query, through the runs' reverse relation."""
    def last_run(field: str) -> Subquery:
        runs = Workflow.objects.filter(pk=OuterRef("pk"), runs__isnull=False).order_by("-runs__id")
        return Subquery(runs.values(f"runs__{field}")[:1])

    return Workflow.objects.filter(tenant=tenant).annotate(
        last_run_id=last_run("id"), last_run_status=last_run("status"), last_run_created_at=last_run("created_at"),
    )


def workflow_version_get(*, workflow: Workflow, number: int | None = None) -> WorkflowVersion:
    """A version of the workflow (the latest by default); WorkflowVersion.DoesNotExist naming the
    workflow and the number when there is no such version."""
    try:
        return workflow.versions.get(number=number or workflow.latest_version)
    except WorkflowVersion.DoesNotExist:
        raise WorkflowVersion.DoesNotExist(f"Workflow '{workflow.name}' has no version {number}.") from None


def workflow_version_shown(*, tenant: Tenant, workflow_id: int, number: int | None = None) -> WorkflowVersion | None:
    """What a workflow's GET shows, in one query: the version (the latest by default) with its
    workflow, without its graph (version_graph_json has it); None when the tenant has no such
    workflow or version (workflow_version_get then says which)."""
    versions = WorkflowVersion.objects.filter(workflow__tenant=tenant, workflow_id=workflow_id).select_related("workflow")
    versions = versions.filter(number=number) if number else versions.filter(number=F("workflow__latest_version"))
    try:
        version = versions.defer("graph").get()
    except WorkflowVersion.DoesNotExist:
        return None
    version.workflow.tenant = tenant  # the one the filter matched: not read again
    return version


# Saved graphs as the database's JSON text, encoded to send, by version: a version never changes, so
# each web process reads one at most once while it is among the most recently shown (PostgreSQL's
# jsonb-to-text of a 1,000-node graph costs it more CPU than the rest of the GET). The key has the version's creation
# time as well as its id: SQLite may give a rolled-back version's id again.
_GRAPH_JSON = SizedLRU(int(settings.LOOM_GRAPH_CACHE_MB * 1024 * 1024))


def version_graph_json(*, version: WorkflowVersion) -> RawJSON:
    """The version's graph as the JSON text the database keeps, ready to send (once parsed, the
    same as `version.graph`)."""
    def read() -> RawJSON:
        texts = WorkflowVersion.objects.filter(pk=version.pk).annotate(text=Cast("graph", TextField()))
        return RawJSON.from_text(texts.values_list("text", flat=True).get())

    return _GRAPH_JSON.get_or_make((version.pk, version.created_at), read)


def version_notebooks(*, version: WorkflowVersion, names: set[str] | None = None,
                      content: bool = False) -> dict[str, NotebookVersion]:
    """The notebook versions a workflow version pinned, by name, in one query (only `names` if
    given; with their content only if asked). A pin whose notebook version is gone is left out.

    A pin is matched by content (sha256): re-uploading a deleted notebook's exact content serves it."""
    pins = {name: pin for name, pin in version.notebook_pins.items() if names is None or name in names}
    if not pins:
        return {}
    found = _pinned(version, pins).select_related("notebook").order_by("number")
    if not content:
        found = found.defer("content")
    return {v.notebook.name: v for v in found if pins[v.notebook.name]["sha256"] == v.sha256}


def _pinned(version: WorkflowVersion, pins: dict) -> QuerySet[NotebookVersion]:
    """Candidates for the pins (filter each by its sha256 too)."""
    tenant = Workflow.objects.filter(pk=version.workflow_id).values("tenant_id")  # a subquery: one round trip
    return NotebookVersion.objects.filter(
        notebook__tenant_id=Subquery(tenant), notebook__name__in=pins,
        sha256__in={pin["sha256"] for pin in pins.values()},
    )


def _pins_intact(version: WorkflowVersion) -> bool:
    """Whether every notebook version the version pinned is still there (a deleted notebook
    takes its versions along), in one small query."""
    pins = version.notebook_pins
    if not pins:
        return True
    found = set(_pinned(version, pins).values_list("notebook__name", "sha256"))
    return all((name, pin["sha256"]) in found for name, pin in pins.items())


def workflow_errors(*, tenant: Tenant, graph: dict) -> list[GraphError]:
    """Validate a graph against the tenant's current catalog and connections."""
    names = {n.get("notebook") for n in graph.get("nodes", [])}
    return graph_validate(
        graph,
        notebooks=notebook_signatures(tenant=tenant, names=names),
        connections=Connection.objects.filter(tenant=tenant).values_list("name", flat=True),
        pools=tenant.pools, queues=tenant.allowed_queues, channels=tenant_channel_names(tenant.pk),
    )


def version_validation(*, graph: dict, notebooks: dict[str, list[dict]]) -> dict:
    """What a version keeps (WorkflowVersion.validation): its problems against the notebook
    signatures it pins; what depends on the tenant (connections, pools, queues, channels) aside, as uses."""
    errors = graph_validate(graph, notebooks=notebooks, connections=None, pools=None, queues=None, channels=None)
    return {"rules": RULES, "errors": [e.as_dict() for e in errors], "connections": connection_uses(graph),
            "placements": placement_uses(graph), "alerts": alert_uses(graph)}


def workflow_version_errors(*, version: WorkflowVersion) -> list[GraphError]:
    """A saved version's problems against the notebook versions it pinned and what its tenant has
    now (connections, pools, allowed queues). The version and its pins never change, so the
    problems kept at save serve, unless the rules changed since (then they are found and kept
    again) or a pinned notebook was deleted (then found without it, not kept: re-uploading the
    content brings it back). Whether one was is asked only after the tenant deleted a notebook."""
    kept, tenant = version.validation, version.workflow.tenant
    fresh = bool(kept) and kept.get("rules") == RULES and "alerts" in kept
    if fresh and kept.get("notebooks_deleted") != tenant.notebooks_deleted:
        fresh = _pins_intact(version)
        if fresh:
            kept = _keep(version, {**kept, "notebooks_deleted": tenant.notebooks_deleted})
    if not fresh:
        notebooks = {name: v.parameters for name, v in version_notebooks(version=version).items()}
        kept = {**version_validation(graph=version.graph, notebooks=notebooks), "notebooks_deleted": tenant.notebooks_deleted}
        if notebooks.keys() == version.notebook_pins.keys():
            _keep(version, kept)
    errors = [GraphError(**e) for e in kept["errors"]]
    if kept["connections"]:
        names = Connection.objects.filter(tenant_id=version.workflow.tenant_id).values_list("name", flat=True)
        errors += connection_errors(kept["connections"], names)
    if kept["placements"]:
        errors += placement_errors(kept["placements"], tenant.pools, tenant.allowed_queues)
    if kept["alerts"]:
        errors += alert_errors(kept["alerts"], tenant_channel_names(tenant.pk))
    return errors


def _keep(version: WorkflowVersion, validation: dict) -> dict:
    version.validation = validation
    WorkflowVersion.objects.filter(pk=version.pk).update(validation=validation)
    return validation


def workflow_names_using_connections(*, tenant: Tenant, names) -> dict[str, list[str]]:
    """{connection name: the workflows whose latest version has a node naming it}, for `names`."""
    wanted, used = set(names), {}
    latest = WorkflowVersion.objects.filter(
        workflow__tenant=tenant, number=F("workflow__latest_version")
    ).select_related("workflow").order_by("workflow__name", "workflow__id")
    for version in latest:
        named = {c for n in version.graph.get("nodes", []) for c in n.get("connections") or [] if isinstance(c, str)}
        for name in sorted(named & wanted):
            used.setdefault(name, []).append(version.workflow.name)
    return used


def notebook_usage(*, tenant: Tenant, notebook_name: str) -> list[dict]:
    """Each workflow that runs the notebook in any of its versions: the versions that pinned it
    (with the notebook version each pinned, newest first) and whether its latest version runs it
    (what keeps the notebook from being deleted)."""
    versions = WorkflowVersion.objects.filter(workflow__tenant=tenant).filter(
        Q(notebook_pins__has_key=notebook_name) | Q(number=F("workflow__latest_version"))
    ).select_related("workflow").order_by("workflow__name", "workflow__id", "-number")
    usage: dict[int, dict] = {}
    for v in versions:
        pin = v.notebook_pins.get(notebook_name)
        latest = v.number == v.workflow.latest_version and any(
            n.get("notebook") == notebook_name for n in v.graph.get("nodes", []))
        if not (pin or latest):
            continue
        entry = usage.setdefault(v.workflow_id, {"workflow": v.workflow.name, "workflow_id": v.workflow_id,
                                                 "latest": False, "versions": []})
        entry["latest"] |= latest
        if pin:
            entry["versions"].append({"number": v.number, "notebook_version": pin["version"]})
    return list(usage.values())
