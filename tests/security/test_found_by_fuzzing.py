"""What tests/security/test_fuzz.py found in endpoints that have no better home for its test."""
from django.core import mail

from tenancy.models import Invitation, Role


def test_an_invitation_without_a_role_invites_a_viewer(admin_api, tenant):
    # The role is optional in the schema (the model's default); the service required it: a 500.
    response = admin_api.post("/api/tenants/acme/invitations/", {"email": "new@example.com"}, format="json")
    assert response.status_code == 201 and response.json()["role"] == Role.VIEWER
    assert Invitation.objects.get().role == Role.VIEWER and "as viewer" in mail.outbox[0].body
