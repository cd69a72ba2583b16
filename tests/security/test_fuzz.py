"""Schemathesis against Loom's own OpenAPI schema (issue 11): every operation, with bodies and
parameters generated from the schema (valid ones and invalid ones), as a user holding a token
who is a member of two tenants. No answer may be a 5xx or contradict the schema."""
import io
import json
import os
from contextlib import contextmanager, suppress

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.core import NotSet
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import Client, encode_multipart

from helpers import notebook_bytes
from tenancy.models import Membership, Role, Tenant
from test_isolation import OBJECTS

CHECKS = ("not_a_server_error", "status_code_conformance", "content_type_conformance", "response_schema_conformance")


@contextmanager
def rolled_back():
    """One request in a savepoint of the test's transaction, undone afterwards: every example
    starts from the same objects, and a database error cannot spoil the next one. As Django's
    test client does, the handler must not close the test's connection when the request ends."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        with transaction.atomic():
            yield
            transaction.set_rollback(True)
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def world(client_for, make_user):
    """A user who is admin of one tenant and editor of another, holding an API token; a third
    tenant they are not in; in each an object of every kind a path can name (the factories of
    the isolation tests), so that path parameters name real objects as well as generated ones."""
    user = make_user("fuzz")
    ids: dict[str, list] = {"tenant": []}
    for slug, role in (("acme", Role.ADMIN), ("globex", Role.EDITOR), ("initech", None)):
        tenant = Tenant.objects.create(slug=slug, name=slug.title())
        owner = make_user(f"{slug}-admin", tenant, Role.ADMIN)
        if role:
            Membership.objects.create(tenant=tenant, user=user, role=role)
        ids["tenant"].append(slug)
        for name, make in OBJECTS.items():
            ids.setdefault(name, []).append(make(tenant, owner))
    browser = client_for(user)
    browser.force_login(user)
    token = browser.post("/api/auth/tokens/", {"name": "fuzz"}, format="json").json()["token"]
    return token, ids


# Examples per operation: 20 keeps a pass of the suite within about a minute; a longer search is
# LOOM_FUZZ_EXAMPLES=500 .venv/bin/python -m pytest tests/security/test_fuzz.py.
EXAMPLES = int(os.environ.get("LOOM_FUZZ_EXAMPLES", 20))
CONFIG = schemathesis.Config.from_dict({
    "generation": {"deterministic": True, "database": "none"},
    # A 503 is right where an operation documents it (Airflow is not configured in tests):
    # status_code_conformance still fails any 5xx an operation does not document.
    "checks": {"not_a_server_error": {"expected-statuses": ["2xx", "3xx", "4xx", "502", "503"]}},
})
schema = schemathesis.openapi.from_wsgi("/api/schema/", WSGIHandler(), config=CONFIG)


# Hypothesis never generates a lone surrogate (its text is always encodable), and Python's json
# escapes one as "\ud800": what a client sends to make PostgreSQL refuse a row. So some examples get
# them put into their strings (keys too), and the notebook upload gets a real notebook with them.
SURROGATES = st.sampled_from(["\ud800", "\udbff", "\udc00", "\udfff"])


def with_surrogates(data, value):
    if isinstance(value, str):
        return value + data.draw(SURROGATES) if data.draw(st.booleans()) else value
    if isinstance(value, list):
        return [with_surrogates(data, item) for item in value]
    if isinstance(value, dict):
        return {with_surrogates(data, key): with_surrogates(data, item) for key, item in value.items()}
    return value


def a_notebook(data) -> bytes:
    nb = json.loads(notebook_bytes("p = 1", "x = 2"))
    nb["cells"][1]["source"] = with_surrogates(data, data.draw(st.sampled_from(["p = 'text'", "p = 1"])))
    nb["cells"][2]["source"] = with_surrogates(data, data.draw(st.text(max_size=20)))
    nb["metadata"] = with_surrogates(data, nb["metadata"])
    return json.dumps(nb).encode()


@schema.parametrize()
@schema.given(data=st.data())
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
def test_api(db, case, data, world):
    token, ids = world
    for name in case.path_parameters or {}:
        if name in ids:
            case.path_parameters[name] = data.draw(st.sampled_from(ids[name]) | st.just(case.path_parameters[name]))
    headers, body = {"Authorization": f"Token {token}"}, {}
    if case.media_type == "application/json" and not isinstance(case.body, NotSet) and data.draw(st.booleans()):
        with suppress(TypeError):  # a generated binary value: not JSON, left as it is
            body = {"data": json.dumps(with_surrogates(data, case.body)).encode()}
    if case.media_type == "multipart/form-data" and isinstance(case.body, dict) and "file" in case.body \
            and data.draw(st.booleans()):
        # Without the generated name, which is rarely one a notebook can have: the file's is used.
        fields = {"file": FileStorage(io.BytesIO(a_notebook(data)), "a.ipynb")}
        boundary, encoded = encode_multipart(MultiDict(fields))
        headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
        body = {"data": encoded}
    with rolled_back():
        case.call_and_validate(headers=headers, checks=[getattr(schemathesis.checks, c) for c in CHECKS], **body)


@pytest.mark.parametrize("body", [
    "{", "[]", '"x"', '{"version": "x"}', '{"engine": "nope"}', '{"parameters": {"nope": 1}}', '{"version": 99}',
], ids=["not JSON", "a list", "a string", "a bad version", "a bad engine", "an unknown parameter", "no such version"])
def test_bad_input_to_start_a_run_is_answered_as_documented(db, world, body):
    # Found by the fuzzer: a parse or field error on POST .../runs/ contradicted its documented 400.
    token, ids = world
    with rolled_back():
        response = Client(WSGIHandler()).post(
            f"/api/tenants/acme/workflows/{ids['workflow_id'][0]}/runs/", data=body, content_type="application/json",
            headers={"Authorization": f"Token {token}"})
    assert response.status_code in (400, 404), response.get_data()
    path = "/api/tenants/{tenant}/workflows/{workflow_id}/runs/"
    assert str(response.status_code) in schema.raw_schema["paths"][path]["post"]["responses"]
    schema[path]["POST"].validate_response(response)  # the body is the documented one
