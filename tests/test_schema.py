"""The OpenAPI schema describes every endpoint, with request and response bodies."""
import pytest
import yaml
from django.core.management import call_command

from test_isolation import ROUTES


@pytest.fixture(scope="module")
def schema(django_db_blocker, tmp_path_factory):
    out = tmp_path_factory.mktemp("schema") / "schema.yml"
    with django_db_blocker.unblock():
        # --fail-on-warn: a view whose bodies spectacular cannot describe fails this test.
        call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    return yaml.safe_load(out.read_text())


def test_every_tenant_route_and_method_is_documented(schema):
    for route, method in ROUTES:
        path = "/" + route.replace("<slug:tenant>", "{tenant}")
        for kind in ("int", "str", "slug"):
            path = path.replace(f"<{kind}:", "{")
        path = path.replace(">", "}")
        assert path in schema["paths"], path
        assert method in schema["paths"][path], (path, method)


def test_bodies_are_described(schema):
    create = schema["paths"]["/api/tenants/{tenant}/workflows/"]["post"]
    assert "GraphRequest" in str(create["requestBody"]) and "201" in create["responses"]
    put = schema["paths"]["/api/tenants/{tenant}/workflows/{workflow_id}/"]["put"]
    assert "409" in put["responses"]
    upload = schema["paths"]["/api/tenants/{tenant}/notebooks/"]["post"]
    assert "multipart/form-data" in upload["requestBody"]["content"]


def test_docs_page_and_schema_are_served(api):
    assert api.get("/api/docs/").status_code == 200
    assert api.get("/api/schema/").status_code == 200
