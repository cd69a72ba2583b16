"""API tokens (issue 11): several per user with names, an expiry, `last_used`, revocation; the
secret is shown once and stored hashed; an expired or revoked token is a 401 saying which; a
password change revokes them all. Throttling of the token login: test_logins.py."""
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.authentication import INVALID
from accounts.models import ApiToken

TOKENS = "/api/auth/tokens/"
WORKFLOWS = "/api/tenants/acme/workflows/"


@pytest.fixture
def browser(editor) -> APIClient:
    """Eddie logged in with a session, as the app is."""
    client = APIClient()
    client.force_login(editor)
    return client


def with_token(secret: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    return client


def create(client, name: str, **extra):
    return client.post(TOKENS, {"name": name, **extra}, format="json")


def test_a_token_is_created_shown_once_listed_without_its_secret_and_revoked(browser, tenant):
    created = create(browser, "ci", expires_in_days=7)
    assert created.status_code == 201
    body = created.json()
    secret = body.pop("token")
    assert secret.startswith("loom_") and len(secret) == 5 + 64
    assert body["name"] == "ci" and body["last_used"] is None and body["expired"] is False
    expires = timezone.datetime.fromisoformat(body["expires"])
    assert abs(expires - (timezone.now() + timedelta(days=7))) < timedelta(minutes=1)

    assert with_token(secret).get(WORKFLOWS).status_code == 200
    listed = browser.get(TOKENS)
    assert listed.status_code == 200
    [row] = listed.json()
    assert set(row) == {"id", "name", "created", "expires", "expired", "last_used"}
    assert row["id"] == body["id"] and row["last_used"] is not None  # noted when it was used
    stored = ApiToken.objects.get()
    for leak in (secret, secret[5:], stored.digest, stored.token_key):  # nor anything derived from it
        assert leak not in listed.content.decode()
    assert stored.digest != secret and secret not in stored.digest  # stored hashed

    assert browser.delete(f"{TOKENS}{body['id']}/").status_code == 204
    revoked = with_token(secret).get(WORKFLOWS)
    assert revoked.status_code == 401 and revoked.json() == {"detail": INVALID}
    assert revoked["WWW-Authenticate"] == "Token"
    assert browser.get(TOKENS).json() == []


def test_several_tokens_per_user_newest_first_names_unique_per_user(browser, editor, make_user, client_for):
    for name in ("laptop", "ci", "airflow"):
        assert create(browser, name).status_code == 201
    assert [t["name"] for t in browser.get(TOKENS).json()] == ["airflow", "ci", "laptop"]
    again = create(browser, "ci")
    assert again.status_code == 400 and again.json() == {"name": ["You already have a token named 'ci'."]}
    other = client_for(make_user("olga"))
    assert create(other, "ci").status_code == 201  # another user's names are theirs
    assert [t["name"] for t in other.get(TOKENS).json()] == ["ci"]  # and nobody sees another's tokens
    assert ApiToken.objects.filter(user=editor).count() == 3


@pytest.mark.parametrize("body, field", [
    ({}, "name"),
    ({"name": ""}, "name"),
    ({"name": "x" * 101}, "name"),
    ({"name": "a\x00b"}, "name"),
    ({"name": "ok", "expires_in_days": 0}, "expires_in_days"),
    ({"name": "ok", "expires_in_days": 366}, "expires_in_days"),
    ({"name": "ok", "expires_in_days": "soon"}, "expires_in_days"),
])
def test_a_bad_token_request_is_a_400_naming_the_field(browser, body, field):
    response = browser.post(TOKENS, body, format="json")
    assert response.status_code == 400 and list(response.json()) == [field], response.json()
    assert not ApiToken.objects.exists()


def test_the_longest_lifetime_is_a_setting(browser, settings):
    settings.LOOM_TOKEN_MAX_DAYS = 10
    response = create(browser, "long", expires_in_days=11)
    assert response.json() == {"expires_in_days": ["Ensure this value is less than or equal to 10."]}
    assert create(browser, "long", expires_in_days=10).status_code == 201


def test_an_expired_token_is_a_401_saying_so_and_stays_listed_as_expired(browser, editor):
    token, secret = ApiToken.objects.create(user=editor, name="old", expiry=timedelta(days=1))
    ApiToken.objects.filter(pk=token.pk).update(expiry=timezone.now() - timedelta(hours=1))
    response = with_token(secret).get(WORKFLOWS)
    assert response.status_code == 401
    assert response.json()["detail"].startswith("Token expired at ") and response.json()["detail"].endswith(
        ": create a new one.")
    assert with_token(secret).get(WORKFLOWS).status_code == 401  # still expired, not deleted into "invalid"
    assert [(t["name"], t["expired"]) for t in browser.get(TOKENS).json()] == [("old", True)]


@pytest.mark.parametrize("header", ["Token nonsense", "Token loom_" + "0" * 64, "Token \xff\xfe"])
def test_an_unknown_token_is_a_401_saying_it_is_invalid(db, header):
    response = APIClient().get(WORKFLOWS, HTTP_AUTHORIZATION=header)
    assert response.status_code == 401 and response.json() == {"detail": INVALID}


def test_a_token_cannot_create_tokens_but_lists_and_revokes(editor):
    token, secret = ApiToken.objects.create(user=editor, name="script")
    client = with_token(secret)
    refused = create(client, "another")
    assert refused.status_code == 403 and "A token cannot create tokens" in refused.json()["detail"]
    assert [t["name"] for t in client.get(TOKENS).json()] == ["script"]
    assert client.delete(f"{TOKENS}{token.pk}/").status_code == 204
    assert client.get(TOKENS).status_code == 401


def test_nobody_revokes_anothers_token(browser, make_user):
    theirs, secret = ApiToken.objects.create(user=make_user("olga"), name="mine")
    assert browser.delete(f"{TOKENS}{theirs.pk}/").status_code == 404
    assert with_token(secret).get("/api/tenants/").status_code == 200


def test_the_number_of_live_tokens_is_bounded(browser, settings):
    settings.LOOM_TOKEN_MAX_PER_USER = 2
    assert [create(browser, n).status_code for n in "abc"] == [201, 201, 400]
    assert create(browser, "d").json() == {"detail": "You have 2 unexpired API tokens, the most allowed: revoke one first."}
    first = browser.get(TOKENS).json()[-1]["id"]
    browser.delete(f"{TOKENS}{first}/")
    assert create(browser, "d").status_code == 201


class TestTheLoginEndpoint:
    """/api/auth/token/ still answers a token for a password (existing scripts), now a named one."""

    def login(self, **extra):
        return APIClient().post("/api/auth/token/", {"username": "eddie", "password": "secret-pass", **extra},
                                format="json")

    def test_each_login_makes_a_token_with_the_default_name_and_expiry(self, browser, settings):
        settings.LOOM_TOKEN_DEFAULT_DAYS = 3
        first, second = self.login(), self.login()
        assert first.status_code == second.status_code == 200
        assert with_token(first.json()["token"]).get(WORKFLOWS).status_code == 200
        assert with_token(second.json()["token"]).get(WORKFLOWS).status_code == 200
        names = [t["name"] for t in browser.get(TOKENS).json()]
        assert len(set(names)) == 2 and all(n.startswith("login ") for n in names)
        expires = timezone.datetime.fromisoformat(first.json()["expires"])
        assert abs(expires - (timezone.now() + timedelta(days=3))) < timedelta(minutes=1)

    def test_a_login_may_name_its_token_and_its_lifetime(self, browser):
        response = self.login(name="nightly", expires_in_days=2)
        assert response.status_code == 200 and response.json()["name"] == "nightly"
        assert self.login(name="nightly").json() == {"name": ["You already have a token named 'nightly'."]}


class TestAPasswordChangeRevokesTheTokens:
    @pytest.fixture
    def tokens(self, editor, make_user):
        mine = [ApiToken.objects.create(user=editor, name=n)[1] for n in ("a", "b")]
        theirs = ApiToken.objects.create(user=make_user("olga"), name="a")[1]
        return mine, theirs

    def assert_revoked(self, tokens):
        mine, theirs = tokens
        assert [with_token(s).get("/api/tenants/").status_code for s in mine] == [401, 401]
        assert with_token(theirs).get("/api/tenants/").status_code == 200  # only the user's own

    def test_set_password(self, editor, tokens):
        editor.set_password("a-new-horse-battery")
        editor.save()
        self.assert_revoked(tokens)

    def test_in_the_admin(self, editor, tokens, make_user):
        admin = Client()
        admin.force_login(make_user("root", is_superuser=True, is_staff=True))
        page = admin.post(f"/admin/auth/user/{editor.pk}/password/",
                          {"password1": "a-new-horse-battery", "password2": "a-new-horse-battery"})
        assert page.status_code == 302, page.content
        self.assert_revoked(tokens)

    def test_with_changepassword(self, editor, tokens, monkeypatch):
        from django.core.management import call_command

        monkeypatch.setattr("getpass.getpass", lambda prompt="": "a-new-horse-battery")
        call_command("changepassword", "eddie", stdout=open("/dev/null", "w"))
        self.assert_revoked(tokens)

    def test_but_not_a_hash_upgrade_at_login(self, editor, tokens, settings):
        """Django re-hashes a password at login when its hasher changed (each Django release
        raises PBKDF2's iterations): the password is the same, so the tokens stay."""
        settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher",
                                     "django.contrib.auth.hashers.MD5PasswordHasher"]
        assert editor.password.startswith("md5$")
        login = APIClient().post("/api/auth/session/", {"username": "eddie", "password": "secret-pass"}, format="json")
        assert login.status_code == 200
        assert get_user_model().objects.get(pk=editor.pk).password.startswith("pbkdf2_sha256$")
        mine, _ = tokens
        assert [with_token(s).get("/api/tenants/").status_code for s in mine] == [200, 200]


def test_tokens_from_before_named_tokens_keep_working_hashed(transactional_db, editor):
    """The migration from DRF's plain-text tokens (rest_framework.authtoken's table)."""
    from importlib import import_module

    from django.apps import apps
    from django.db import connection

    convert = import_module("accounts.migrations.0002_convert_drf_tokens").convert
    old = "9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b"  # DRF's token: 40 hex characters
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, created timestamp, user_id integer)")
        cursor.execute("INSERT INTO authtoken_token VALUES (%s, %s, %s)", [old, timezone.now(), editor.pk])
    with connection.schema_editor() as editor_:
        convert(apps, editor_)
    assert "authtoken_token" not in connection.introspection.table_names()
    assert with_token(old).get("/api/tenants/").status_code == 200
    assert old not in ApiToken.objects.get().digest


def test_a_locked_out_token_login_makes_no_token(db, editor):
    for _ in range(5):
        APIClient().post("/api/auth/token/", {"username": "eddie", "password": "guess"}, format="json")
    locked = APIClient().post("/api/auth/token/", {"username": "eddie", "password": "secret-pass"}, format="json")
    assert locked.status_code == 429 and not ApiToken.objects.exists()


def test_platform_admins_see_and_revoke_tokens_in_the_admin_without_their_digest(editor, make_user):
    token, secret = ApiToken.objects.create(user=editor, name="ci")
    admin = Client()
    admin.force_login(make_user("root", is_superuser=True, is_staff=True))
    listed = admin.get("/admin/accounts/apitoken/")
    assert listed.status_code == 200 and "ci" in listed.content.decode()
    for page in (listed, admin.get(f"/admin/accounts/apitoken/{token.pk}/change/")):
        assert token.digest not in page.content.decode() and token.token_key not in page.content.decode()
    assert admin.post(f"/admin/accounts/apitoken/{token.pk}/delete/", {"post": "yes"}).status_code == 302
    assert with_token(secret).get("/api/tenants/").status_code == 401
