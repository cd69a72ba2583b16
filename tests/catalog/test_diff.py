"""The diff between two uploaded versions of a notebook (nbdime), as the notebook page shows it."""
import json
from pathlib import Path

from helpers import notebook_bytes, upload

INGEST = Path(__file__).resolve().parents[2] / "notebooks" / "ingest.ipynb"


def _versions(api, first: bytes, second: bytes) -> int:
    nb = upload(api, "acme", "nb.ipynb", first).json()
    assert upload(api, "acme", "nb.ipynb", second).json()["version"] == 2
    return nb["id"]


def _diff(api, nb_id: int, query: str = "from=1&to=2"):
    return api.get(f"/api/tenants/acme/notebooks/{nb_id}/diff/?{query}")


def test_a_changed_line_an_added_and_a_removed_cell(api):
    nb_id = _versions(
        api,
        notebook_bytes("rate = 0.5\nlimit = 10", "load()", "plot()", "save()"),
        notebook_bytes("rate = 0.7\nlimit = 10", "load()", "save()", "report()"),
    )
    response = _diff(api, nb_id)
    assert response.status_code == 200
    body = response.json()
    assert body["from_version"] == 1 and body["to_version"] == 2
    summary = [(c["status"], c["cell_type"], [(line["kind"], line["text"]) for line in c["lines"]]) for c in body["cells"]]
    assert summary == [
        ("unchanged", "markdown", [("same", "# test notebook")]),  # ids differ per upload: not a change
        ("modified", "code", [("removed", "rate = 0.5"), ("added", "rate = 0.7"), ("same", "limit = 10")]),
        ("unchanged", "code", [("same", "load()")]),
        ("removed", "code", [("removed", "plot()")]),
        ("unchanged", "code", [("same", "save()")]),
        ("added", "code", [("added", "report()")]),
    ]
    assert body["cells"][1]["tags"] == ["parameters"] and body["cells"][1]["changed"] == ["source"]


def test_a_line_added_to_a_real_notebook(api):
    original = INGEST.read_text()
    nb = json.loads(original)
    cell = next(c for c in nb["cells"] if "parameters" in c.get("metadata", {}).get("tags", []))
    cell["source"] = "".join(cell["source"]) + "\nlimit: int = 100  # rows at most"
    nb_id = _versions(api, original.encode(), json.dumps(nb).encode())
    cells = _diff(api, nb_id).json()["cells"]
    assert [c["status"] for c in cells].count("modified") == 1
    assert all(c["status"] == "unchanged" for c in cells if "parameters" not in c["tags"])
    changed = next(c for c in cells if c["status"] == "modified")
    assert [line for line in changed["lines"] if line["kind"] != "same"] == [{"kind": "added", "text": "limit: int = 100  # rows at most"}]
    assert "".join(line["text"] for line in changed["lines"]) == "".join(cell["source"]).replace("\n", "")


def test_backwards_and_same_version(api):
    nb_id = _versions(api, notebook_bytes("x = 1"), notebook_bytes("x = 1", "more()"))
    backwards = _diff(api, nb_id, "from=2&to=1").json()["cells"]
    assert [c["status"] for c in backwards] == ["unchanged", "unchanged", "removed"]
    assert {c["status"] for c in _diff(api, nb_id, "from=2&to=2").json()["cells"]} == {"unchanged"}


def test_bad_and_unknown_versions(api):
    nb_id = _versions(api, notebook_bytes("x = 1"), notebook_bytes("x = 2"))
    missing = _diff(api, nb_id, "to=2")
    assert missing.status_code == 400 and list(missing.json()) == ["from"]
    bad = _diff(api, nb_id, "from=1&to=two")
    assert bad.status_code == 400 and list(bad.json()) == ["to"] and "'two'" in bad.json()["to"][0]
    both = _diff(api, nb_id, "from=-1&to=")
    assert both.status_code == 400 and set(both.json()) == {"from", "to"}
    unknown = _diff(api, nb_id, "from=1&to=9")
    assert unknown.status_code == 404 and "no version 9" in unknown.json()["detail"]


def test_another_tenants_notebook_is_not_found(api, client_for, make_user, other_tenant):
    from tenancy.models import Role

    nb_id = _versions(api, notebook_bytes("x = 1"), notebook_bytes("x = 2"))
    outsider = client_for(make_user("olga", other_tenant, Role.ADMIN))
    assert outsider.get(f"/api/tenants/globex/notebooks/{nb_id}/diff/?from=1&to=2").status_code == 404
    not_member = outsider.get(f"/api/tenants/acme/notebooks/{nb_id}/diff/?from=1&to=2")
    assert not_member.status_code == 404 and not_member.json() == {"detail": "No such tenant."}
