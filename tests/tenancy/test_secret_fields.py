"""Secret fields of a connection kind (tenancy.kinds): encrypted, write-only, length-checked."""
from tenancy.kinds import SECRET_EXTRA_KEYS, secret_fields
from tenancy.models import Connection

URL = "/api/tenants/acme/connections/"
TOKEN = "api-token-0123456789"
BODY = {"name": "crm", "kind": "http", "host": "crm.example.com", "extra": {"token": TOKEN, "timeout": 30}}


def test_every_kind_declares_its_secret_fields():
    assert set(SECRET_EXTRA_KEYS) == {"postgres", "mysql", "s3", "http", "generic"}
    assert secret_fields("http") == ("secret", "extra.token", "extra.api_key")
    assert secret_fields("postgres") == ("secret",)


def test_secret_extra_key_is_write_only_and_encrypted_at_rest(admin_api, api):
    created = admin_api.post(URL, BODY, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["extra"] == {"timeout": 30}
    assert created.json()["secrets_set"] == {"secret": False, "extra.token": True, "extra.api_key": False}
    cid = created.json()["id"]
    for response in (created, admin_api.get(URL), admin_api.get(f"{URL}{cid}/"), api.get(URL), api.get(f"{URL}{cid}/")):
        assert TOKEN not in response.content.decode()
    stored = Connection.objects.get(pk=cid)
    assert stored.extra == {"timeout": 30} and TOKEN.encode() not in bytes(stored.secret_encrypted)
    assert stored.get_secret_extra() == {"token": TOKEN}
    assert stored.runtime_extra() == {"timeout": 30, "token": TOKEN} and stored.secret_values() == [TOKEN]


def test_put_keeps_a_secret_extra_key_unless_given_and_empty_clears_it(admin_api):
    cid = admin_api.post(URL, BODY | {"secret": "pass-word-1"}, format="json").json()["id"]
    # The editor's round trip: what GET shows, edited, sent back.
    shown = admin_api.get(f"{URL}{cid}/").json()
    body = {k: shown[k] for k in ("name", "kind", "host", "extra")} | {"extra": {"timeout": 60}}
    kept = admin_api.put(f"{URL}{cid}/", body, format="json").json()
    assert kept["secrets_set"]["extra.token"] is True and kept["extra"] == {"timeout": 60}
    conn = Connection.objects.get(pk=cid)
    assert conn.get_secret_extra() == {"token": TOKEN} and conn.get_secret() == "pass-word-1"
    cleared = admin_api.put(f"{URL}{cid}/", body | {"extra": {"token": ""}}, format="json").json()
    assert cleared["secrets_set"] == {"secret": True, "extra.token": False, "extra.api_key": False}
    assert Connection.objects.get(pk=cid).get_secret_extra() == {}
    assert Connection.objects.get(pk=cid).get_secret() == "pass-word-1"


def test_short_secrets_are_refused_naming_the_field(admin_api):
    short = admin_api.post(URL, BODY | {"secret": "1234567"}, format="json")
    assert short.status_code == 400 and list(short.json()) == ["secret"]
    assert "at least 8 characters" in short.json()["secret"][0]
    short_extra = admin_api.post(URL, BODY | {"extra": {"token": "abc"}}, format="json")
    assert short_extra.status_code == 400 and list(short_extra.json()) == ["extra.token"]
    not_text = admin_api.post(URL, BODY | {"extra": {"api_key": 12345678}}, format="json")
    assert not_text.status_code == 400 and list(not_text.json()) == ["extra.api_key"]
    assert not Connection.objects.exists()
    cid = admin_api.post(URL, BODY | {"secret": "12345678"}, format="json").json()["id"]
    assert admin_api.put(f"{URL}{cid}/", BODY | {"secret": "short"}, format="json").status_code == 400
    assert Connection.objects.get(pk=cid).get_secret() == "12345678"


def test_a_key_secret_for_one_kind_is_plain_for_another(admin_api):
    response = admin_api.post(URL, {"name": "db", "kind": "postgres", "extra": {"token": "not-secret-here"}}, format="json")
    assert response.json()["extra"] == {"token": "not-secret-here"} and response.json()["secrets_set"] == {"secret": False}
