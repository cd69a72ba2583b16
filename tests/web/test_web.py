"""The SPA is served by Django, and the browser logs in with a session and CSRF."""
import re

import pytest
from django.test import Client


@pytest.fixture
def dist(tmp_path, settings):
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text('<!doctype html><div id="root"></div><script src="/assets/app-1a2b.js"></script>')
    (tmp_path / "assets" / "app-1a2b.js").write_text("console.log('loom')")
    settings.LOOM_FRONTEND_DIST = tmp_path
    return tmp_path


@pytest.mark.parametrize("path", ["/", "/login", "/t/acme", "/t/acme/workflows/7"])
def test_client_routes_get_index_with_csrf_cookie(db, dist, path):
    response = Client().get(path)
    assert response.status_code == 200
    assert b'<div id="root">' in response.content
    assert response["Cache-Control"] == "no-cache"
    assert "csrftoken" in response.cookies


def test_assets_are_cached_forever(db, dist):
    response = Client().get("/assets/app-1a2b.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert "immutable" in response["Cache-Control"]
    assert b"".join(response.streaming_content) == b"console.log('loom')"


@pytest.mark.parametrize("path", ["/assets/missing.js", "/assets/../index.html", "/assets/%2e%2e/index.html"])
def test_assets_outside_the_build_are_404(db, dist, path):
    assert Client().get(path).status_code == 404


def test_api_paths_are_not_swallowed_by_the_spa(db, dist):
    assert Client().get("/api/nope/").status_code == 404


def test_unbuilt_frontend_says_how_to_build_it(db, settings, tmp_path):
    settings.LOOM_FRONTEND_DIST = tmp_path / "nothing"
    response = Client().get("/")
    assert response.status_code == 503
    assert b"make install" in response.content


def test_session_login_me_logout(db, make_user, tenant):
    make_user("sam", tenant)
    client = Client(enforce_csrf_checks=True)
    assert client.get("/api/auth/me/").json() == {"authenticated": False, "user": None}
    token = client.cookies["csrftoken"].value

    wrong = client.post("/api/auth/session/", {"username": "sam", "password": "nope"}, content_type="application/json", HTTP_X_CSRFTOKEN=token)
    assert wrong.status_code == 400 and wrong.json()["detail"] == "Wrong username or password."

    ok = client.post("/api/auth/session/", {"username": "sam", "password": "secret-pass"}, content_type="application/json", HTTP_X_CSRFTOKEN=token)
    assert ok.status_code == 200 and ok.json()["user"]["username"] == "sam"
    assert client.get("/api/tenants/").json()[0]["slug"] == "acme"

    token = client.cookies["csrftoken"].value  # login rotates the token
    assert client.delete("/api/auth/session/").status_code == 403  # no CSRF header
    assert client.delete("/api/auth/session/", HTTP_X_CSRFTOKEN=token).status_code == 204
    assert client.get("/api/auth/me/").json()["authenticated"] is False


def test_session_login_needs_csrf(db, make_user, tenant):
    make_user("sam", tenant)
    client = Client(enforce_csrf_checks=True)
    response = client.post("/api/auth/session/", {"username": "sam", "password": "secret-pass"}, content_type="application/json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]


@pytest.mark.parametrize("path", ["/workflows/1", "/admin/login/", "/api/docs/", "/api/engines/"])
def test_every_page_carries_a_content_security_policy(db, dist, path):
    page = Client().get(path)
    csp = [d.strip() for d in page["Content-Security-Policy"].split(";")]
    assert "script-src 'self'" in csp and "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "object-src 'none'" in csp and "base-uri 'none'" in csp


def test_the_api_docs_load_nothing_from_another_origin(db):
    page = Client().get("/api/docs/").content.decode()
    assert "<script>" not in page.replace(" ", "")  # no inline script: its script is a file of its own
    remote = [u for u in re.findall(r'(?:src|href)="([^"]+)"', page) if "//" in u]
    assert remote == [], remote
