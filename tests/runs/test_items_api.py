"""The items of a fanned-out node: GET .../runs/{id}/nodes/{node}/items/, and run details that
do not grow with the number of items. Rows are made directly in the database."""
from datetime import timedelta

import pytest
from django.utils import timezone

from runs.models import NodeRun, Run, Status
from workflows.services import workflow_create

GRAPH = {"name": "w", "parameters": [{"name": "accounts", "type": "list", "default": []}],
         "nodes": [{"id": "train", "notebook": "train.ipynb", "map_over": "accounts", "map_parameter": "account",
                    "outputs": ["auc"]},
                   {"id": "report", "notebook": "report.ipynb"}],
         "edges": [{"source": "train", "target": "report"}]}


def _run(tenant, items: int) -> Run:
    workflow = workflow_create(tenant=tenant, graph=GRAPH).workflow
    run = Run.objects.create(tenant=tenant, workflow=workflow, version=workflow.versions.get(), status=Status.RUNNING)
    start = timezone.now()
    NodeRun.objects.bulk_create([
        NodeRun(run=run, node="train", status=Status.RUNNING), NodeRun(run=run, node="report"),
        *(NodeRun(run=run, node="train", map_index=i, parameters={"account": f"acct-{i:05d}"},
                  status=Status.FAILED if i % 10 == 3 else Status.SUCCESS,
                  outputs={} if i % 10 == 3 else {"auc": (i * 37 % 100) / 100},
                  started_at=start, ended_at=start + timedelta(seconds=i % 7)) for i in range(items))])
    return run


def test_items_filter_sort_and_page(api, tenant):
    run = _run(tenant, 30)
    url = f"/api/tenants/{tenant.slug}/runs/{run.pk}/nodes/train/items/"
    page = api.get(url, {"limit": 5}).json()
    assert page["count"] == 30 and [i["map_index"] for i in page["results"]] == [0, 1, 2, 3, 4]
    assert page["results"][1]["item"] == "acct-00001" and page["results"][1]["duration_s"] == 1.0
    assert api.get(page["next"]).json()["results"][0]["map_index"] == 5

    failed = api.get(url, {"status": "failed"}).json()
    assert [i["map_index"] for i in failed["results"]] == [3, 13, 23]
    assert [i["item"] for i in api.get(url, {"item": "ACCT-0001"}).json()["results"]] == [
        f"acct-{i:05d}" for i in range(10, 20)]

    by_auc = [i["outputs"].get("auc") for i in api.get(url, {"sort": "-outputs.auc", "limit": 100}).json()["results"]]
    assert by_auc[:2] == [0.99, 0.96] and by_auc[-3:] == [None, None, None]  # failed items last
    assert by_auc[:-3] == sorted(by_auc[:-3], reverse=True)
    durations = [i["duration_s"] for i in api.get(url, {"sort": "duration", "limit": 100}).json()["results"]]
    assert durations == sorted(durations)

    bad = api.get(url, {"sort": "auc"})
    assert bad.status_code == 400 and "outputs.<name>" in bad.json()["detail"]
    assert api.get(url, {"status": "fine"}).status_code == 400
    assert api.get(f"/api/tenants/{tenant.slug}/runs/{run.pk}/nodes/report/items/").status_code == 404
    assert api.get(f"/api/tenants/{tenant.slug}/runs/{run.pk}/nodes/nope/items/").status_code == 404


@pytest.mark.parametrize("items", [5, 500])
def test_run_details_do_not_grow_with_items(api, tenant, items, django_assert_max_num_queries):
    run = _run(tenant, items)
    with django_assert_max_num_queries(12):
        response = api.get(f"/api/tenants/{tenant.slug}/runs/{run.pk}/")
    detail = response.json()
    assert [n["node"] for n in detail["nodes"]] == ["train", "report"]
    failed = sum(1 for i in range(items) if i % 10 == 3)
    assert detail["nodes"][0]["items"] == {"success": items - failed, "failed": failed}
    assert detail["nodes"][1]["items"] is None
    assert len(response.content) < 1500, len(response.content)  # as small for 500 items as for 5


def test_histogram_of_an_output_across_items(api, tenant, django_assert_max_num_queries):
    run = _run(tenant, 5000)
    url = f"/api/tenants/{tenant.slug}/runs/{run.pk}/nodes/train/items/histogram/"
    with django_assert_max_num_queries(8):
        response = api.get(url, {"output": "auc", "bins": 10})
    hist = response.json()
    assert response.status_code == 200, hist
    assert (hist["count"], hist["missing"], hist["min"], hist["max"]) == (4500, 500, 0.0, 0.99)
    assert [b["count"] for b in hist["bins"]] == [450] * 10  # the AUCs are evenly spread
    assert hist["bins"][0]["start"] == 0.0 and abs(hist["bins"][-1]["end"] - 0.99) < 1e-9
    assert len(response.content) < 2000  # bins, not the 5,000 items

    assert api.get(url, {"output": "auc", "status": "failed"}).json()["bins"] == []
    assert api.get(url, {"output": "auc"}).json()["bins"].__len__() == 20
    assert api.get(url).status_code == 400
    assert "bins" in api.get(url, {"output": "auc", "bins": 0}).json()["detail"]
    assert api.get(url.replace("/train/", "/report/"), {"output": "auc"}).status_code == 404
