from rest_framework.test import APIClient

from tenancy.models import Connection, Membership, Role, Tenant


def test_token_auth(db, make_user):
    make_user("tok")
    client = APIClient()
    assert client.post("/api/auth/token/", {"username": "tok", "password": "wrong"}, format="json").status_code == 400
    token = client.post("/api/auth/token/", {"username": "tok", "password": "secret-pass"}, format="json").json()["token"]
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/tenants/").status_code == 200


def test_tenant_list_shows_only_my_tenants_with_my_role(api, other_tenant):
    assert [(t["slug"], t["role"]) for t in api.get("/api/tenants/").json()] == [("acme", "editor")]


def test_only_platform_admins_create_tenants(admin_api, make_user, client_for):
    assert admin_api.post("/api/tenants/", {"slug": "new", "name": "New"}, format="json").status_code == 403
    root = client_for(make_user("root", is_superuser=True, is_staff=True))
    response = root.post("/api/tenants/", {"slug": "new-team", "name": "New team"}, format="json")
    assert response.status_code == 201 and response.json()["slug"] == "new-team"
    duplicate = root.post("/api/tenants/", {"slug": "new-team", "name": "Again"}, format="json")
    assert duplicate.status_code == 400 and "already exists" in str(duplicate.json())
    bad = root.post("/api/tenants/", {"slug": "Bad Slug!", "name": "x"}, format="json")
    assert bad.status_code == 400 and "slug" in bad.json()
    assert Tenant.objects.filter(slug="new-team").count() == 1


def test_tenant_admins_rename_but_platform_admins_set_the_quota(admin_api, api, tenant, root_api):
    assert api.patch("/api/tenants/acme/", {"name": "Acme Inc"}, format="json").status_code == 403
    renamed = admin_api.patch("/api/tenants/acme/", {"name": "Acme Inc", "description": "Data team"}, format="json")
    assert renamed.status_code == 200 and renamed.json()["description"] == "Data team"
    refused = admin_api.patch("/api/tenants/acme/", {"concurrency_quota": 2}, format="json")
    assert refused.status_code == 403 and refused.json()["fields"] == ["concurrency_quota"]
    assert root_api.patch("/api/tenants/acme/", {"concurrency_quota": 2}, format="json").json()["concurrency_quota"] == 2


class TestMembers:
    def test_platform_admins_add_existing_users(self, make_user, root_api, tenant):
        root = root_api
        make_user("bob")
        response = root.post("/api/tenants/acme/members/", {"username": "bob", "role": "viewer"}, format="json")
        assert response.status_code == 201 and response.json()["role"] == "viewer"
        again = root.post("/api/tenants/acme/members/", {"username": "bob", "role": "viewer"}, format="json")
        assert again.status_code == 400 and "already a member" in str(again.json())
        created = root.post("/api/tenants/acme/members/", {"username": "carol", "role": "editor", "password": "long-enough"}, format="json")
        assert created.status_code == 201
        assert APIClient().post("/api/auth/token/", {"username": "carol", "password": "long-enough"}, format="json").status_code == 200

    def test_change_role_and_remove(self, admin_api, editor):
        member = Membership.objects.get(user=editor)
        assert admin_api.patch(f"/api/tenants/acme/members/{member.pk}/", {"role": "viewer"}, format="json").json()["role"] == "viewer"
        assert admin_api.patch(f"/api/tenants/acme/members/{member.pk}/", {"role": "boss"}, format="json").status_code == 400
        assert admin_api.delete(f"/api/tenants/acme/members/{member.pk}/").status_code == 204
        assert not Membership.objects.filter(pk=member.pk).exists()

    def test_editors_read_but_do_not_manage(self, api, admin):
        assert api.get("/api/tenants/acme/members/").status_code == 200
        assert api.post("/api/tenants/acme/members/", {"username": "alice", "role": "viewer"}, format="json").status_code == 403


class TestConnections:
    SECRET = "s3cr3t-p@ss-ÿ"
    BODY = {"name": "warehouse", "kind": "postgres", "host": "db.internal", "port": 5432, "login": "etl",
            "schema": "analytics", "extra": {"sslmode": "require"}, "secret": SECRET}

    def test_secret_is_write_only_and_encrypted_at_rest(self, admin_api, api):
        created = admin_api.post("/api/tenants/acme/connections/", self.BODY, format="json")
        assert created.status_code == 201
        for response in (created, admin_api.get("/api/tenants/acme/connections/"),
                         admin_api.get(f"/api/tenants/acme/connections/{created.json()['id']}/"),
                         api.get("/api/tenants/acme/connections/")):
            assert self.SECRET not in response.content.decode()
            assert "secret_encrypted" not in response.content.decode()
        assert created.json()["has_secret"] is True
        stored = Connection.objects.get(name="warehouse")
        assert self.SECRET.encode() not in bytes(stored.secret_encrypted)
        assert stored.get_secret() == self.SECRET

    def test_put_keeps_the_secret_unless_given(self, admin_api):
        cid = admin_api.post("/api/tenants/acme/connections/", self.BODY, format="json").json()["id"]
        body = {k: v for k, v in self.BODY.items() if k != "secret"} | {"host": "db2.internal"}
        assert admin_api.put(f"/api/tenants/acme/connections/{cid}/", body, format="json").json()["has_secret"] is True
        assert Connection.objects.get(pk=cid).get_secret() == self.SECRET
        cleared = admin_api.put(f"/api/tenants/acme/connections/{cid}/", body | {"secret": ""}, format="json")
        assert cleared.json()["has_secret"] is False and cleared.json()["host"] == "db2.internal"

    def test_bad_input(self, admin_api):
        admin_api.post("/api/tenants/acme/connections/", self.BODY, format="json")
        duplicate = admin_api.post("/api/tenants/acme/connections/", self.BODY, format="json")
        assert duplicate.status_code == 400 and "already exists" in str(duplicate.json())
        bad_name = admin_api.post("/api/tenants/acme/connections/", self.BODY | {"name": "Bad Name"}, format="json")
        assert bad_name.status_code == 400 and "name" in bad_name.json()
        bad_extra = admin_api.post("/api/tenants/acme/connections/", self.BODY | {"name": "x", "extra": [1]}, format="json")
        assert bad_extra.status_code == 400 and "extra" in bad_extra.json()
        assert Connection.objects.count() == 1

    def test_editors_cannot_manage(self, api):
        assert api.post("/api/tenants/acme/connections/", self.BODY, format="json").status_code == 403
