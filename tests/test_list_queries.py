"""No list endpoint issues a query per row: each answers 20 rows with no more queries than 1 row."""
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.services import notebook_upload
from helpers import notebook_bytes
from runs.models import NodeRun, Run
from tenancy.models import Role
from tenancy.services import connection_save
from workflows.services import workflow_create, workflow_update

T = "/api/tenants/acme"


def graph(name="w", nodes=2):
    return {"name": name, "nodes": [{"id": f"n{i}", "notebook": "nb.ipynb"} for i in range(nodes)],
            "edges": [{"source": f"n{i}", "target": f"n{i + 1}"} for i in range(nodes - 1)]}


@pytest.fixture
def workflow(tenant, editor):
    notebook_upload(tenant=tenant, name="nb.ipynb", data=notebook_bytes("x = 1"))
    return workflow_create(tenant=tenant, graph=graph(), user=editor).workflow


def _run(workflow, editor, nodes=1):
    run = Run.objects.create(tenant=workflow.tenant, workflow=workflow, version=workflow.versions.first(),
                             created_by=editor, status="success")
    NodeRun.objects.bulk_create(NodeRun(run=run, node=f"n{i % 2}", map_index=i // 2 or None, status="success",
                                        outputs={"x": i}) for i in range(nodes))
    return run


def _rows(tenant, editor, admin, workflow, make_user):
    """For each list endpoint: its URL and a function adding n rows to what it lists."""
    run = _run(workflow, editor)
    users = iter(range(1000))
    counter = iter(range(1000))

    def members(n):
        for _ in range(n):
            make_user(f"member{next(users)}", tenant, Role.VIEWER, email="m@example.com")

    def connections(n):
        for _ in range(n):
            connection_save(tenant=tenant, data={"name": f"c{next(counter)}", "kind": "http", "secret": "s" * 12,
                                                 "extra": {"token": "t" * 12, "region": "eu"}})

    def notebooks(n):
        for _ in range(n):
            notebook_upload(tenant=tenant, name=f"nb{next(counter)}.ipynb", data=notebook_bytes("a = 1\nb = 'x'"))

    def workflows(n):
        for _ in range(n):
            w = workflow_create(tenant=tenant, graph=graph(f"w{next(counter)}"), user=editor).workflow
            _run(w, editor)

    def versions(n):
        for _ in range(n):
            workflow.refresh_from_db()
            workflow_update(workflow=workflow, graph=graph(nodes=3), base_version=workflow.latest_version, user=editor)

    def runs(n):
        for _ in range(n):
            _run(workflow, editor)

    def node_runs(n):
        count = run.node_runs.count()
        # One row per node: run details summarize items (their list is tests/runs/test_items_api.py's).
        NodeRun.objects.bulk_create(NodeRun(run=run, node=f"n{count + i}", status="failed") for i in range(n))

    def invitations(n):
        from tenancy.invitations import invitation_create

        for _ in range(n):
            invitation_create(tenant=tenant, email=f"i{next(counter)}@example.com", role=Role.VIEWER, invited_by=admin)

    def tokens(n):
        from accounts.services import token_create

        for _ in range(n):
            token_create(user=admin, name=f"t{next(counter)}", expires_in_days=1)

    def tenants(n):
        from tenancy.models import Membership, Tenant

        for _ in range(n):
            Membership.objects.create(tenant=Tenant.objects.create(slug=f"t{next(counter)}", name="T"), user=admin,
                                      role=Role.EDITOR)

    connections(1)  # every list starts with one row
    invitations(1)
    tokens(1)
    return {
        "members": (f"{T}/members/", members),
        "connections": (f"{T}/connections/", connections),
        "notebooks": (f"{T}/notebooks/", notebooks),
        "workflows": (f"{T}/workflows/", workflows),
        "versions": (f"{T}/workflows/{workflow.pk}/versions/", versions),
        "runs": (f"{T}/workflows/{workflow.pk}/runs/", runs),
        "run node runs": (f"{T}/runs/{run.pk}/", node_runs),
        "tenants": ("/api/tenants/", tenants),
        "invitations": (f"{T}/invitations/", invitations),
        "api tokens": ("/api/auth/tokens/", tokens),
    }


@pytest.mark.parametrize("endpoint", ["members", "connections", "notebooks", "workflows", "versions", "runs",
                                      "run node runs", "tenants", "invitations", "api tokens"])
def test_a_list_costs_the_same_queries_for_20_rows_as_for_1(
        endpoint, admin_api, tenant, editor, admin, workflow, make_user, django_assert_max_num_queries):
    url, add = _rows(tenant, editor, admin, workflow, make_user)[endpoint]

    def listed() -> int:
        with CaptureQueriesContext(connection) as queries:
            response = admin_api.get(url)
        assert response.status_code == 200, response.content
        return len(queries), response.json()

    one, _ = listed()
    add(19)
    with django_assert_max_num_queries(one):
        _, body = listed()
    rows = body["nodes"] if endpoint == "run node runs" else body
    assert len(rows) >= 20


def test_the_platform_admins_tenant_list_costs_the_same_for_20_tenants(client_for, make_user, django_assert_max_num_queries):
    from tenancy.models import Tenant

    client = client_for(make_user("root", is_superuser=True, is_staff=True))
    Tenant.objects.create(slug="first", name="First")
    with CaptureQueriesContext(connection) as one:
        assert client.get("/api/tenants/").status_code == 200
    Tenant.objects.bulk_create(Tenant(slug=f"t{i}", name="T") for i in range(19))
    with django_assert_max_num_queries(len(one)):
        assert len(client.get("/api/tenants/").json()) == 20


def test_the_workflow_detail_costs_the_same_queries_for_200_nodes_as_for_2(
        api, tenant, editor, workflow, django_assert_max_num_queries):
    with CaptureQueriesContext(connection) as small:
        assert api.get(f"{T}/workflows/{workflow.pk}/").status_code == 200
    big = workflow_create(tenant=tenant, graph=graph("big", nodes=200), user=editor).workflow
    with django_assert_max_num_queries(len(small)):
        assert len(api.get(f"{T}/workflows/{big.pk}/").json()["graph"]["nodes"]) == 200


# The graph column, except where one of its keys is extracted (SQLite's JSON functions,
# PostgreSQL's ->): that key is all the database sends (the run list's parameters, a deployment's schedule).
WHOLE_GRAPH = re.compile(r"""\."graph"(?!, '\$\."\w+"'| -> '\w+')""")


def test_lists_naming_versions_do_not_read_their_graphs(api, tenant, editor, workflow):
    """A large workflow's graph is read where it is shown, not once per run or version listed."""
    from django.utils import timezone

    from deployments.models import Deployment

    _run(workflow, editor)
    Deployment.objects.create(tenant=tenant, workflow=workflow, version=workflow.versions.get(), dag_id="d",
                              source_sha256="0" * 64, requested_at=timezone.now())
    for path in ("versions/", "runs/", "deployment/"):
        with CaptureQueriesContext(connection) as queries:
            response = api.get(f"{T}/workflows/{workflow.pk}/{path}")
        assert response.status_code == 200, response.content
        assert response.json(), path
        assert not [q["sql"] for q in queries if WHOLE_GRAPH.search(q["sql"])], path
