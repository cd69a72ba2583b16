import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from tenancy.models import Membership, Role, Tenant


@pytest.fixture
def make_user(db):
    def make(username: str, tenant: Tenant | None = None, role: str = Role.EDITOR, **extra):
        user = get_user_model().objects.create_user(username=username, password="secret-pass", **extra)
        if tenant:
            Membership.objects.create(tenant=tenant, user=user, role=role)
        return user

    return make


@pytest.fixture
def client_for():
    def make(user) -> APIClient:
        client = APIClient()
        client.force_authenticate(user)
        return client

    return make


@pytest.fixture
def tenant(db) -> Tenant:
    return Tenant.objects.create(slug="acme", name="Acme")


@pytest.fixture
def other_tenant(db) -> Tenant:
    return Tenant.objects.create(slug="globex", name="Globex")


@pytest.fixture
def admin(make_user, tenant):
    return make_user("alice", tenant, Role.ADMIN)


@pytest.fixture
def editor(make_user, tenant):
    return make_user("eddie", tenant, Role.EDITOR)


@pytest.fixture
def viewer(make_user, tenant):
    return make_user("vera", tenant, Role.VIEWER)


@pytest.fixture
def api(client_for, editor) -> APIClient:
    """An editor of tenant `acme`."""
    return client_for(editor)


@pytest.fixture
def admin_api(client_for, admin) -> APIClient:
    return client_for(admin)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # The default PBKDF2 costs ~0.3 s per user; tests create many users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
