"""The platform admin's API: tenants (open with a first admin, rename, deactivate) and usage per tenant."""
from datetime import timedelta
from pathlib import Path

from django.utils import timezone

from runs.models import NodeRun, Run
from tenancy.models import Membership, Tenant
from workflows.models import Workflow, WorkflowVersion

TENANTS = "/api/platform/tenants/"


def test_only_platform_admins(admin_api, api):
    for client in (admin_api, api):  # a tenant admin, an editor
        assert client.get(TENANTS).status_code == 403
        assert client.post(TENANTS, {"slug": "x", "name": "X", "admin_username": "alice"}, format="json").status_code == 403
        assert client.patch(f"{TENANTS}acme/", {"is_active": False}, format="json").status_code == 403
        assert client.get("/api/platform/usage/").status_code == 403
    assert Tenant.objects.get(slug="acme").is_active


def test_open_a_tenant_with_a_new_first_admin(root_api, client_for, tenant):
    created = root_api.post(TENANTS, {"slug": "initech", "name": "Initech", "admin_username": "bill",
                                      "admin_password": "a-long-pass-phrase-7", "admin_email": "bill@initech.test"},
                            format="json")
    assert created.status_code == 201, created.content
    assert created.json() | {"created_at": None} == {"slug": "initech", "name": "Initech", "description": "", "is_active": True,
                                                     "members": 1, "admins": ["bill"], "created_at": None}
    bill = Membership.objects.get(tenant__slug="initech").user
    assert bill.check_password("a-long-pass-phrase-7")
    assert client_for(bill).get("/api/tenants/initech/members/").status_code == 200


def test_a_bad_first_admin_opens_nothing(root_api, tenant):
    for body, field in (({"admin_username": "nobody-yet"}, "admin_username"),  # no such user, no password
                        ({"admin_username": "newbie", "admin_password": "password"}, "admin_password")):  # too common
        answer = root_api.post(TENANTS, {"slug": "hooli", "name": "Hooli", **body}, format="json")
        assert answer.status_code == 400 and field in answer.json(), answer.content
    assert not Tenant.objects.filter(slug="hooli").exists()
    taken = root_api.post(TENANTS, {"slug": "acme", "name": "Again", "admin_username": "x"}, format="json")
    assert taken.status_code == 400 and "already exists" in taken.json()["slug"][0]


def test_rename_and_deactivate(root_api, admin_api, admin, tenant):
    renamed = root_api.patch(f"{TENANTS}acme/", {"name": "Acme Corp"}, format="json")
    assert renamed.status_code == 200 and renamed.json()["name"] == "Acme Corp" and renamed.json()["admins"] == ["alice"]
    assert root_api.patch(f"{TENANTS}acme/", {"is_active": False}, format="json").json()["is_active"] is False
    # Its members can no longer open it, nor see it in their list; the platform admin still can.
    refused = admin_api.get("/api/tenants/acme/workflows/")
    assert refused.status_code == 403 and "deactivated" in refused.json()["detail"]
    assert admin_api.get("/api/tenants/").json() == []
    assert root_api.get("/api/tenants/acme/").status_code == 200
    assert root_api.patch(f"{TENANTS}acme/", {"is_active": True}, format="json").status_code == 200
    assert admin_api.get("/api/tenants/acme/workflows/").status_code == 200
    assert root_api.patch(f"{TENANTS}nope/", {"name": "x"}, format="json").status_code == 404


def _run(tenant, status, *, created, minutes=0, items=0):
    wf = Workflow.objects.get_or_create(tenant=tenant, name="wf")[0]
    version = WorkflowVersion.objects.filter(workflow=wf).first() or WorkflowVersion.objects.create(workflow=wf, number=1, graph={})
    run = Run.objects.create(tenant=tenant, workflow=wf, version=version, status=status)
    Run.objects.filter(pk=run.pk).update(created_at=created)
    start = created
    if items:  # a fanned-out node: its summary row spans the items and is not counted again
        NodeRun.objects.create(run=run, node="m", started_at=start, ended_at=start + timedelta(minutes=minutes * items))
        for i in range(items):
            NodeRun.objects.create(run=run, node="m", map_index=i, started_at=start, ended_at=start + timedelta(minutes=minutes))
    elif minutes:
        NodeRun.objects.create(run=run, node="n", started_at=start, ended_at=start + timedelta(minutes=minutes))
    return run


def test_usage_per_tenant_over_30_days(root_api, tenant, other_tenant, django_assert_max_num_queries, settings, tmp_path):
    settings.LOOM_ARTIFACTS_DIR = tmp_path
    now = timezone.now()
    _run(tenant, "success", created=now - timedelta(days=1), minutes=30)
    _run(tenant, "failed", created=now - timedelta(days=2), minutes=6, items=5)  # 5 x 6 min
    _run(tenant, "failed", created=now - timedelta(days=40), minutes=600)  # too old
    _run(other_tenant, "success", created=now - timedelta(hours=1))
    folder = Path(settings.LOOM_ARTIFACTS_DIR) / "globex" / "1" / "n"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "data.bin").write_bytes(b"x" * 12345)
    with django_assert_max_num_queries(4):  # one per measure, and the tenants: never per tenant
        answer = root_api.get("/api/platform/usage/")
    assert answer.status_code == 200
    assert {r["tenant"]: r for r in answer.json()} == {
        "acme": {"tenant": "acme", "name": "Acme", "is_active": True, "runs": 2, "failed_runs": 1, "node_hours": 1.0,
                 "artifacts_bytes": 0},
        "globex": {"tenant": "globex", "name": "Globex", "is_active": True, "runs": 1, "failed_runs": 0, "node_hours": 0.0,
                   "artifacts_bytes": 12345}}
    assert root_api.get("/api/platform/usage/?days=60").json()[0]["node_hours"] == 11.0
    assert root_api.get("/api/platform/usage/?days=0").status_code == 400
