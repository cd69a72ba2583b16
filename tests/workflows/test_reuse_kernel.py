"""A node's reuse_kernel (docs/workflow-graph.md, "Fan-out"): off unless asked, kept on a
fanned-out node; on a node that does not fan out it is a problem naming the field, and the
workflow cannot run."""
import pytest

from helpers import notebook_bytes, upload
from runs.models import Run
from workflows.models import Workflow

URL = "/api/tenants/acme/workflows/"


@pytest.fixture(autouse=True)
def catalog(api):
    upload(api, "acme", "item.ipynb", notebook_bytes("n = 0", "square = n * n"))


def graph(**node):
    return {"name": "w", "parameters": [{"name": "ns", "type": "list", "default": [1, 2]}],
            "nodes": [{"id": "item", "notebook": "item.ipynb", **node}]}


def test_reuse_kernel_is_off_unless_asked_and_kept_on_a_fanned_out_node(api):
    plain = api.post(URL, graph(map_over="ns", map_parameter="n"), format="json").json()
    assert plain["graph"]["nodes"][0]["reuse_kernel"] is False and plain["errors"] == []

    created = api.post(URL, graph(map_over="ns", map_parameter="n", reuse_kernel=True), format="json")
    assert created.status_code == 201 and created.json()["errors"] == [], created.content
    stored = api.get(f"{URL}{created.json()['id']}/").json()
    assert stored["graph"]["nodes"][0]["reuse_kernel"] is True and stored["errors"] == []


def test_reuse_kernel_without_map_over_is_named_and_the_workflow_cannot_run(api):
    body = api.post(URL, graph(reuse_kernel=True), format="json").json()
    expected = [{"node": "item", "field": "reuse_kernel",
                 "message": "reuse_kernel applies to a fanned-out node only: set map_over, or clear reuse_kernel."}]
    assert body["errors"] == expected  # saved as a draft, like any graph that does not validate
    response = api.post(f"{URL}{body['id']}/runs/", {}, format="json")
    assert response.status_code == 400 and response.json()["errors"] == expected
    assert not Run.objects.exists()


def test_reuse_kernel_that_is_not_true_or_false_is_refused_naming_it(api):
    response = api.post(URL, graph(map_over="ns", map_parameter="n", reuse_kernel="sometimes"), format="json")
    assert response.status_code == 400
    assert response.json()["nodes"] == {"0": {"reuse_kernel": ["Must be a valid boolean."]}}, response.json()
    assert not Workflow.objects.exists()
