"""The DAG endpoint and `render_dag`: what a version renders to, and who may read it."""
import ast
import io

import pytest
from django.core.management import CommandError, call_command

from catalog.services import notebook_upload
from dags.rendering import runtime_sources
from dags.selectors import dag_file_get, dag_notebook_files
from tenancy.models import Connection
from tests.dags.examples import NOTEBOOKS, WORKFLOWS, inspected
from workflows.services import workflow_create, workflow_update


@pytest.fixture
def chain(tenant):
    """The `chain` example saved in tenant acme, with its notebooks and connection."""
    for name in ("extract.ipynb", "transform.ipynb", "load.ipynb"):
        notebook_upload(tenant=tenant, name=name, data=NOTEBOOKS[name])
    Connection.objects.create(tenant=tenant, name="warehouse")
    return workflow_create(tenant=tenant, graph=WORKFLOWS["chain"]).workflow


def url(workflow, query=""):
    return f"/api/tenants/{workflow.tenant.slug}/workflows/{workflow.id}/dag/{query}"


def module_constants(source: str) -> dict:
    return {s.targets[0].id: ast.literal_eval(s.value) for s in ast.parse(source).body
            if isinstance(s, ast.Assign) and isinstance(s.targets[0], ast.Name)}


def test_viewer_downloads_the_dag_file(client_for, viewer, chain):
    response = client_for(viewer).get(url(chain))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/x-python; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="loom__acme__{chain.id}.py"'
    source = response.content.decode()
    assert "\n# Loom workflow 'Sales chain', version 1\n" in source
    constants = module_constants(source)
    assert constants["DAG_ID"] == f"loom__acme__{chain.id}"
    # The pinned notebook, content-addressed, and the connection by its namespaced id.
    extract = constants["NODES"]["extract"]
    assert extract["notebook"] == f"acme/{inspected('extract.ipynb').sha256}/extract.ipynb"
    assert extract["connections"] == {"warehouse": "loom__acme__warehouse"}
    assert extract["parameters"] == ["seed", "query"]


def test_the_file_carries_the_runtime_verbatim(chain):
    source = dag_file_get(version=chain.versions.get()).source
    assert module_constants(source)["LOOM_RUNTIME"] == runtime_sources()
    assert "import papermill" not in source.split("LOOM_RUNTIME = ")[0], "parsing the DAG must not import papermill"


def test_versions_render_as_pinned_and_deterministically(api, chain):
    graph = {**WORKFLOWS["chain"], "name": "Renamed chain"}
    workflow_update(workflow=chain, graph=graph, base_version=1)
    first = api.get(url(chain, "?version=1")).content.decode()
    assert "\n# Loom workflow 'Sales chain', version 1\n" in first
    latest = api.get(url(chain)).content.decode()
    assert "\n# Loom workflow 'Renamed chain', version 2\n" in latest
    assert api.get(url(chain, "?version=1")).content.decode() == first
    assert api.get(url(chain, "?version=9")).status_code == 404


def test_an_invalid_graph_is_refused_with_its_errors(api, tenant, chain):
    broken = {**WORKFLOWS["chain"], "edges": [{"source": "extract", "target": "nowhere", "bind": {}}]}
    workflow_update(workflow=chain, graph=broken, base_version=1)
    response = api.get(url(chain))
    assert response.status_code == 400
    body = response.json()
    assert "fix them first" in body["detail"]
    assert body["errors"] == [{"node": None, "field": "edges[0]", "message": "Edge extract → nowhere refers to unknown node 'nowhere'."}]
    assert api.get(url(chain, "?version=1")).status_code == 200


def test_other_tenants_get_404(client_for, make_user, other_tenant, chain):
    outsider = make_user("olga", other_tenant)
    assert client_for(outsider).get(url(chain)).status_code == 404


def test_notebook_files_for_deploy(chain):
    files = dag_notebook_files(version=chain.versions.get())
    assert files == {f"acme/{inspected(n).sha256}/{n}": inspected(n).content
                     for n in ("extract.ipynb", "transform.ipynb", "load.ipynb")}


def test_render_dag_command(chain, tmp_path):
    out = io.StringIO()
    call_command("render_dag", "acme", str(chain.id), stdout=out)
    assert out.getvalue() == dag_file_get(version=chain.versions.get()).source
    target = tmp_path / "dag.py"
    call_command("render_dag", "acme", "Sales chain", "--version", "1", "-o", str(target), stderr=io.StringIO())
    assert target.read_text() == out.getvalue()


def test_render_dag_command_explains_refusals(tenant, chain):
    with pytest.raises(CommandError, match="no workflow 'nope'"):
        call_command("render_dag", "acme", "nope")
    with pytest.raises(CommandError, match="has no version 5"):
        call_command("render_dag", "acme", str(chain.id), "--version", "5")
    workflow_update(workflow=chain, graph={**WORKFLOWS["chain"], "nodes": WORKFLOWS["chain"]["nodes"][:2]}, base_version=1)
    with pytest.raises(CommandError, match="refers to unknown node 'load'"):
        call_command("render_dag", "acme", str(chain.id))


def test_a_nodes_execution_timeout_is_capped_at_the_platform_maximum(tenant, chain, settings):
    """The local engine's rule (runtime/limits.py's Limits.timeout): a node's timeout_s, never more
    than LOOM_NODE_TIMEOUT_MAX_S; one below it renders as it is, one without none."""
    from dataclasses import replace

    graph = {**WORKFLOWS["chain"], "nodes": [{**n, "timeout_s": {"extract": 7200, "transform": 600}.get(n["id"])}
                                              for n in WORKFLOWS["chain"]["nodes"]]}
    workflow_update(workflow=chain, graph=graph, base_version=1)
    settings.LOOM_NODE_LIMITS = replace(settings.LOOM_NODE_LIMITS, timeout_max_s=3600.0)
    source = dag_file_get(version=chain.versions.get(number=2)).source
    timeouts = {}
    for call in ast.walk(ast.parse(source.split("# ==== Loom runtime: begin")[0])):
        if isinstance(call, ast.Call) and getattr(call.func, "attr", None) == "override":
            kw = {k.arg: k.value for k in call.keywords}
            timeouts[ast.literal_eval(kw["task_id"])] = (ast.literal_eval(kw["execution_timeout"].keywords[0].value)
                                                         if "execution_timeout" in kw else None)
    assert timeouts == {"extract": 3600, "transform": 600, "load": None}
