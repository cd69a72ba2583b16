from catalog.models import Notebook, NotebookVersion
from helpers import notebook_bytes, upload


def test_upload_infers_parameters(api):
    response = upload(api, "acme", "train.ipynb", notebook_bytes('account = None\nrate: float = 0.5  # step'))
    assert response.status_code == 201
    body = response.json()
    assert body["name"] == "train.ipynb" and body["version"] == 1
    assert body["parameters"] == [
        {"name": "account", "type": None, "default": None, "help": "", "required": True, "default_source": "None"},
        {"name": "rate", "type": "float", "default": 0.5, "help": "step", "required": False, "default_source": "0.5"},
    ]
    assert "".join(body["content"]["cells"][1]["source"]).startswith("account = None")


def test_reupload_makes_versions_and_old_ones_stay_readable(api):
    data = notebook_bytes("x = 1")
    first = upload(api, "acme", "nb.ipynb", data).json()
    same = upload(api, "acme", "nb.ipynb", data)
    assert same.status_code == 200 and same.json()["version"] == 1
    second = upload(api, "acme", "nb.ipynb", notebook_bytes("x = 'two'")).json()
    assert second["version"] == 2 and second["sha256"] != first["sha256"]
    assert [v["number"] for v in second["versions"]] == [2, 1]
    old = api.get(f"/api/tenants/acme/notebooks/{first['id']}/?version=1").json()
    assert old["parameters"][0]["type"] == "int" and old["version"] == 1
    assert api.get(f"/api/tenants/acme/notebooks/{first['id']}/").json()["parameters"][0]["type"] == "str"
    assert api.get(f"/api/tenants/acme/notebooks/{first['id']}/?version=9").status_code == 404
    assert [n["version"] for n in api.get("/api/tenants/acme/notebooks/").json()] == [2]


def test_bad_files_get_400_and_leave_nothing(api, settings):
    settings.LOOM_NOTEBOOK_MAX_BYTES = 2000
    cases = {
        b"not json at all": "not valid JSON",
        b'{"a": 1}': "not a Jupyter notebook",
        notebook_bytes("x = 1", "y = '" + "z" * 3000 + "'"): "limit is 2,000 bytes",
    }
    for data, reason in cases.items():
        response = upload(api, "acme", "bad.ipynb", data)
        assert response.status_code == 400 and reason in response.json()["file"][0], response.json()
    bad_name = upload(api, "acme", "../../etc/passwd", notebook_bytes("x = 1"))
    assert bad_name.status_code == 400 and "name" in bad_name.json()
    missing = api.post("/api/tenants/acme/notebooks/", {}, format="multipart")
    assert missing.status_code == 400 and "file" in missing.json()
    assert Notebook.objects.count() == NotebookVersion.objects.count() == 0


def test_viewers_read_editors_write(client_for, viewer, api):
    upload(api, "acme", "nb.ipynb", notebook_bytes("x = 1"))
    reader = client_for(viewer)
    assert reader.get("/api/tenants/acme/notebooks/").status_code == 200
    assert upload(reader, "acme", "nb2.ipynb", notebook_bytes("x = 1")).status_code == 403


def test_delete_refused_while_a_workflow_uses_it(api):
    nb = upload(api, "acme", "nb.ipynb", notebook_bytes("x = 1")).json()
    wf = api.post("/api/tenants/acme/workflows/", {"name": "uses it", "nodes": [{"id": "a", "notebook": "nb.ipynb"}]}, format="json").json()
    response = api.delete(f"/api/tenants/acme/notebooks/{nb['id']}/")
    assert response.status_code == 409 and response.json()["workflows"] == ["uses it"]
    api.delete(f"/api/tenants/acme/workflows/{wf['id']}/")
    assert api.delete(f"/api/tenants/acme/notebooks/{nb['id']}/").status_code == 204
    assert not Notebook.objects.exists()


def test_sync_command_loads_the_shipped_notebooks(tenant):
    from django.core.management import call_command

    call_command("sync_notebooks", "acme")
    assert set(Notebook.objects.values_list("name", flat=True)) >= {"ingest.ipynb", "train.ipynb", "report.ipynb"}
    call_command("sync_notebooks", "acme")
    assert NotebookVersion.objects.filter(notebook__name="ingest.ipynb").count() == 1


def test_a_parameters_cell_with_a_syntax_error_is_refused_naming_the_line(api):
    source = "account = None\nrate = = 0.5\n%matplotlib inline"
    response = upload(api, "acme", "broken.ipynb", notebook_bytes(source))
    assert response.status_code == 400
    assert response.json()["file"] == ["The parameters cell has a syntax error at line 2: invalid syntax (rate = = 0.5)."]
    assert not Notebook.objects.filter(name="broken.ipynb").exists()


def test_ipython_magics_in_the_parameters_cell_are_accepted(api):
    response = upload(api, "acme", "magic.ipynb", notebook_bytes("%matplotlib inline\n!echo hi\nrate = 0.5"))
    assert response.status_code == 201
    assert [p["name"] for p in response.json()["parameters"]] == ["rate"]


def test_outputs_are_discovered_from_glue_and_the_outputs_cell(api):
    from pathlib import Path

    data = (Path(__file__).parent / "notebooks" / "score.ipynb").read_bytes()
    body = upload(api, "acme", "score.ipynb", data).json()
    # The outputs cell's variables first, in order, then the glued names; types as for parameters.
    assert body["outputs"] == [
        {"name": "above", "type": "list"}, {"name": "n_above", "type": "int"}, {"name": "label", "type": "str"},
        {"name": "flagged", "type": "bool"}, {"name": "best_score", "type": None}, {"name": "summary", "type": "dict"},
    ]
    detail = api.get(f"/api/tenants/acme/notebooks/{body['id']}/").json()
    assert detail["versions"][0]["outputs"] == body["outputs"]
    assert api.get("/api/tenants/acme/notebooks/").json()[0]["outputs"] == body["outputs"]


def test_an_outputs_cell_with_a_syntax_error_is_refused(api):
    from nbformat.v4 import new_code_cell
    import nbformat

    nb = nbformat.reads(notebook_bytes("x = 1").decode(), as_version=4)
    cell = new_code_cell("result = (1,")
    cell.metadata["tags"] = ["outputs"]
    nb.cells.append(cell)
    response = upload(api, "acme", "bad.ipynb", nbformat.writes(nb).encode())
    assert response.status_code == 400
    assert response.json()["file"][0].startswith("The outputs cell has a syntax error at line 1:")


def test_the_detail_names_the_workflows_using_the_notebook(api):
    nb = upload(api, "acme", "nb.ipynb", notebook_bytes("x = 1")).json()
    assert api.get(f"/api/tenants/acme/notebooks/{nb['id']}/").json()["used_by"] == []
    api.post("/api/tenants/acme/workflows/", {"name": "uses it", "nodes": [{"id": "a", "notebook": "nb.ipynb"}]}, format="json")
    assert api.get(f"/api/tenants/acme/notebooks/{nb['id']}/").json()["used_by"] == ["uses it"]


def test_a_version_previews_as_sandboxed_html(api):
    nb = upload(api, "acme", "nb.ipynb", notebook_bytes("x = 1", "print('<script>alert(1)</script>')")).json()
    upload(api, "acme", "nb.ipynb", notebook_bytes("x = 2"))
    response = api.get(f"/api/tenants/acme/notebooks/{nb['id']}/preview/?version=1")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/html")
    assert response["Content-Security-Policy"].startswith("sandbox;")  # the page runs no script
    page = response.content.decode()
    assert '<h1 id="test-notebook">' in page and '<span class="mi">1</span>' in page  # version 1's markdown and code
    assert api.get(f"/api/tenants/acme/notebooks/{nb['id']}/preview/?version=9").status_code == 404


def test_the_detail_lists_each_workflow_version_running_the_notebook_and_which_notebook_version(api):
    nb = upload(api, "acme", "nb.ipynb", notebook_bytes("x = 1")).json()
    wf = api.post("/api/tenants/acme/workflows/", {"name": "once", "nodes": [{"id": "a", "notebook": "nb.ipynb"}]},
                  format="json").json()
    upload(api, "acme", "nb.ipynb", notebook_bytes("x = 2"))
    graph = api.get(f"/api/tenants/acme/workflows/{wf['id']}/").json()["graph"]
    for base, nodes in ((1, graph["nodes"]), (2, [])):  # v2 pins the notebook's v2; v3 drops the node
        saved = api.put(f"/api/tenants/acme/workflows/{wf['id']}/", {**graph, "nodes": nodes, "base_version": base},
                        format="json")
        assert saved.status_code == 200, saved.content

    detail = api.get(f"/api/tenants/acme/notebooks/{nb['id']}/").json()
    assert detail["used_by"] == []  # no latest version runs it: it may be deleted
    assert detail["used_in"] == [{"workflow": "once", "workflow_id": wf["id"], "latest": False, "versions": [
        {"number": 2, "notebook_version": 2}, {"number": 1, "notebook_version": 1}]}]
