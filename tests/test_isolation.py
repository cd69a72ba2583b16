"""Tenant isolation, generated from the URL configuration.

Every route under /api/tenants/<tenant>/ and every method its view implements is checked:
a member of another tenant gets 404, and a viewer gets 403 on writes. A new endpoint is
covered as soon as it is routed; a new URL argument needs a factory in OBJECTS below, and
the test fails loudly until it has one.
"""
import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from helpers import notebook_bytes
from tenancy.models import Connection, Membership, Role

WRITE_METHODS = {"post", "put", "patch", "delete"}


def _walk(patterns, prefix=""):
    for p in patterns:
        route = prefix + str(p.pattern)
        if isinstance(p, URLResolver):
            yield from _walk(p.url_patterns, route)
        elif isinstance(p, URLPattern):
            yield route, p.callback


def tenant_routes() -> list[tuple[str, str]]:
    routes = []
    for route, callback in _walk(get_resolver().url_patterns):
        view = getattr(callback, "view_class", None) or getattr(callback, "cls", None)
        if "<slug:tenant>" not in route or view is None:
            continue
        for method in view.http_method_names:
            if method not in ("options", "head", "trace") and hasattr(view, method):
                routes.append((route, method))
    return routes


ROUTES = tenant_routes()


def _workflow(tenant):
    from workflows.services import workflow_create

    return workflow_create(tenant=tenant, graph={"name": "w", "nodes": [], "edges": []}).workflow


def _notebook(tenant):
    from catalog.services import notebook_upload

    return notebook_upload(tenant=tenant, name="nb.ipynb", data=notebook_bytes("x = 1"))[0].notebook


def _run(tenant):
    from runs.models import NodeRun, Run

    workflow = _workflow(tenant)
    run = Run.objects.create(tenant=tenant, workflow=workflow, version=workflow.versions.get(), status="failed")
    NodeRun.objects.create(run=run, node="a", status="failed", notebook=notebook_bytes("x = 1").decode())
    return run


def _backfill(tenant):
    from django.utils import timezone

    from schedules.models import Backfill

    workflow = _workflow(tenant)
    now = timezone.now()
    return Backfill.objects.create(tenant=tenant, workflow=workflow, version=workflow.versions.get(), start=now, end=now,
                                   status="success")


def _invitation(tenant):
    from tenancy.invitations import invitation_create

    return invitation_create(tenant=tenant, email="someone@example.com", role=Role.VIEWER, invited_by=None)


def _channel(tenant):
    from alerts.models import Channel

    return Channel.objects.create(tenant=tenant, name="ops", kind="webhook", url="http://127.0.0.1:9/hook")


# URL argument -> factory of an object of that kind in a given tenant, returning the URL value.
OBJECTS = {
    "member_id": lambda t, owner: Membership.objects.get(tenant=t, user=owner).pk,
    "connection_id": lambda t, owner: Connection.objects.create(tenant=t, name="db").pk,
    "channel_id": lambda t, owner: _channel(t).pk,
    "invitation_id": lambda t, owner: _invitation(t).pk,
    "notebook_id": lambda t, owner: _notebook(t).pk,
    "workflow_id": lambda t, owner: _workflow(t).pk,
    "run_id": lambda t, owner: _run(t).pk,
    "node": lambda t, owner: "a",
    "backfill_id": lambda t, owner: _backfill(t).pk,
}


def _url(route: str, tenant_slug: str, objects: dict) -> str:
    def fill(match):
        name = match.group(2)
        if name == "tenant":
            return tenant_slug
        assert name in objects, f"tests/test_isolation.py: add a factory for URL argument '{name}' to OBJECTS"
        return str(objects[name])

    return "/" + re.sub(r"<(\w+:)?(\w+)>", fill, route)


@pytest.fixture
def world(make_user, tenant, other_tenant):
    """Tenant `acme` with an outsider from `globex`, and one object of every kind in `acme`."""
    owner = make_user("owner", tenant, Role.ADMIN)
    objects = {name: make(tenant, owner) for name, make in OBJECTS.items()}
    return {
        "objects": objects,
        "outsider": make_user("outsider", other_tenant, Role.ADMIN),
        "viewer": make_user("viewer", tenant, Role.VIEWER),
    }


def test_routes_were_found():
    assert len(ROUTES) >= 15, ROUTES


@pytest.mark.parametrize("route,method", ROUTES, ids=[f"{m.upper()} {r}" for r, m in ROUTES])
def test_member_of_another_tenant_gets_404(route, method, world, tenant, client_for):
    client = client_for(world["outsider"])
    response = getattr(client, method)(_url(route, tenant.slug, world["objects"]), {}, format="json")
    assert response.status_code == 404, response.content[:300]


OBJECT_ROUTES = [(r, m) for r, m in ROUTES if re.search(r"<(\w+:)?\w+>", r.replace("<slug:tenant>", ""))]


@pytest.mark.parametrize("route,method", OBJECT_ROUTES, ids=[f"{m.upper()} {r}" for r, m in OBJECT_ROUTES])
def test_objects_of_another_tenant_are_404_in_your_own(route, method, world, other_tenant, client_for):
    """The outsider names their own tenant in the path but an object id of `acme`."""
    client = client_for(world["outsider"])
    response = getattr(client, method)(_url(route, other_tenant.slug, world["objects"]), {}, format="json")
    assert response.status_code == 404, response.content[:300]


@pytest.mark.parametrize("route,method", [(r, m) for r, m in ROUTES if m in WRITE_METHODS])
def test_viewer_cannot_write(route, method, world, tenant, client_for):
    client = client_for(world["viewer"])
    response = getattr(client, method)(_url(route, tenant.slug, world["objects"]), {}, format="json")
    assert response.status_code == 403, response.content[:300]


def test_anonymous_gets_401_or_403(world, tenant):
    from rest_framework.test import APIClient

    for route, method in ROUTES:
        response = getattr(APIClient(), method)(_url(route, tenant.slug, world["objects"]), {}, format="json")
        assert response.status_code in (401, 403), (route, method, response.status_code)
