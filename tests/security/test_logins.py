"""Logins (issue 11): failed logins are throttled per account and per address (django-axes),
with a 429 that says why; every password Loom sets passes Django's validators."""
import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from rest_framework.test import APIClient

TOKEN = "/api/auth/token/"
SESSION = "/api/auth/session/"
LOCKED = "Too many failed logins for this account or from this address: try again in 15 minutes."


@pytest.fixture
def eddie(editor):
    editor.set_password("right-horse-battery")
    editor.save()
    return editor


def login(path, username, password, ip="10.0.0.1"):
    return APIClient().post(path, {"username": username, "password": password}, format="json", REMOTE_ADDR=ip)


@pytest.mark.parametrize("path", [TOKEN, SESSION])
def test_an_account_is_locked_after_five_failures_from_any_address(db, eddie, path):
    for i in range(4):
        wrong = login(path, "eddie", "guess", ip=f"10.0.0.{i}")
        assert wrong.status_code == 400 and wrong.json() == {"detail": "Wrong username or password."}
    assert login(path, "eddie", "guess", ip="10.0.0.5").status_code == 429  # the fifth failure locks
    locked = login(path, "eddie", "right-horse-battery", ip="10.9.9.9")  # the right password, too late
    assert locked.status_code == 429 and locked.json() == {"detail": LOCKED}
    assert locked["Retry-After"] == "900"
    assert login(path, "vera", "guess", ip="10.9.9.9").status_code == 400  # other accounts are not locked


def admin_login(username, password, ip):
    return Client().post("/admin/login/", {"username": username, "password": password}, REMOTE_ADDR=ip)


# Each login: how it answers a wrong password, then a lock (with the right password), then a success.
LOGINS = {
    "token": (lambda *a: login(TOKEN, *a), 400, lambda r: r.json() == {"detail": LOCKED}, lambda r: r.json()["token"]),
    "session": (lambda *a: login(SESSION, *a), 400, lambda r: r.json() == {"detail": LOCKED},
                lambda r: r.status_code == 200),
    "admin": (admin_login, 200, lambda r: r.content.decode() == LOCKED, lambda r: r.status_code == 302),
}


@pytest.mark.parametrize("kind", LOGINS)
def test_an_address_is_locked_after_five_failures_on_any_accounts(db, eddie, kind):
    attempt, wrong, says_locked, succeeded = LOGINS[kind]
    eddie.is_staff = eddie.is_superuser = True  # so the admin login lets him in, once he may
    eddie.save()
    assert [attempt(name, "guess", "10.1.1.1").status_code for name in "abcde"] == [wrong] * 4 + [429]
    locked = attempt("eddie", "right-horse-battery", "10.1.1.1")
    assert locked.status_code == 429 and says_locked(locked)
    # From elsewhere eddie still gets in, and a success clears his own count.
    assert succeeded(attempt("eddie", "right-horse-battery", "10.2.2.2"))


def test_forwarded_for_counts_only_behind_trusted_proxies(db, eddie, settings):
    spoofed = [APIClient().post(TOKEN, {"username": f"u{i}", "password": "x"}, format="json",
                                REMOTE_ADDR="10.3.3.3", HTTP_X_FORWARDED_FOR=f"192.0.2.{i}") for i in range(5)]
    assert [r.status_code for r in spoofed] == [400] * 4 + [429]
    assert login(TOKEN, "eddie", "right-horse-battery", ip="10.3.3.3").status_code == 429  # a header does not hide you
    settings.LOOM_TRUSTED_PROXIES = 1  # behind one proxy: the address it saw is the client's
    ok = APIClient().post(TOKEN, {"username": "eddie", "password": "right-horse-battery"}, format="json",
                          REMOTE_ADDR="10.3.3.3", HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert ok.status_code == 200


def test_the_admin_login_is_throttled_too(db, eddie):
    client = Client()
    for _ in range(4):
        page = client.post("/admin/login/", {"username": "eddie", "password": "guess"})
        assert page.status_code == 200  # the form again, with its error
    assert client.post("/admin/login/", {"username": "eddie", "password": "guess"}).status_code == 429
    locked = client.post("/admin/login/", {"username": "eddie", "password": "right-horse-battery"})
    assert locked.status_code == 429 and locked.content.decode() == LOCKED


@pytest.mark.parametrize("body", ["[]", '"x"', "{}", '{"username": ["eddie"], "password": "x"}', "1"])
def test_a_login_body_that_is_not_credentials_is_a_400_naming_it(db, body):
    response = APIClient().post(TOKEN, body, content_type="application/json")
    assert response.status_code == 400 and response["Content-Type"] == "application/json"
    assert response.json()  # DRF names the field or says a dictionary was expected


@pytest.mark.parametrize("password, problem", [
    ("12345678901", "This password is entirely numeric."),
    ("password123", "This password is too common."),
    ("carolcarol1", "The password is too similar to the username."),
    ("Xy-9", "Ensure this field has at least 8 characters."),
])
def test_a_member_created_with_a_weak_password_is_refused(root_api, tenant, password, problem):
    response = root_api.post("/api/tenants/acme/members/", {"username": "carolcarol", "role": "editor",
                                                             "password": password}, format="json")
    assert response.status_code == 400 and problem in response.json()["password"]
    assert not get_user_model().objects.filter(username="carolcarol").exists()
    ok = root_api.post("/api/tenants/acme/members/", {"username": "carolcarol", "role": "editor",
                                                       "password": "tide-lantern-42"}, format="json")
    assert ok.status_code == 201


def test_the_demo_passwords_pass_the_validators(db, settings, tmp_path):
    from workflows.demo import DEMO_PASSWORD, demo_setup

    settings.LOOM_DATA_DIR = tmp_path
    demo_setup()
    for name in ("admin", "editor", "viewer"):
        assert get_user_model().objects.get(username=name).check_password(DEMO_PASSWORD)
