"""What tests/security/test_fuzz.py found in endpoints that have no better home for its test."""
from django.core import mail

from tenancy.models import Invitation, Role


def test_an_invitation_without_a_role_invites_a_viewer(admin_api, tenant):
    # The role is optional in the schema (the model's default); the service required it: a 500.
    response = admin_api.post("/api/tenants/acme/invitations/", {"email": "new@example.com"}, format="json")
    assert response.status_code == 201 and response.json()["role"] == Role.VIEWER
    assert Invitation.objects.get().role == Role.VIEWER and "as viewer" in mail.outbox[0].body


def test_a_global_parameter_without_a_default_is_stored_and_answered_with_null(api, tenant):
    # The default is optional when saving; the stored graph (answered as stored) lacked it, which
    # the response schema requires: a response that contradicted the schema.
    graph = {"name": "g", "parameters": [{"name": "region", "type": "str"}], "nodes": [], "edges": []}
    response = api.post("/api/tenants/acme/workflows/", graph, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["graph"]["parameters"] == [{"name": "region", "type": "str", "default": None, "help": ""}]
    again = api.get(f"/api/tenants/acme/workflows/{response.json()['id']}/").json()
    assert again["graph"]["parameters"] == response.json()["graph"]["parameters"]
