"""A node's kernel limits (memory_mb, max_procs; README, "Limits"): saved with the graph, and a
value above the platform's maximum refused with a 400 naming the field and the setting."""
from django.conf import settings

from helpers import notebook_bytes, upload
from workflows.models import Workflow

URL = "/api/tenants/acme/workflows/"


def graph(**node):
    return {"name": "limits", "nodes": [{"id": "n", "notebook": "n.ipynb", **node}]}


def test_a_node_keeps_its_memory_and_process_limits(api):
    upload(api, "acme", "n.ipynb", notebook_bytes("x = 1"))
    body = api.post(URL, graph(memory_mb=512, max_procs=16), format="json").json()
    node = body["graph"]["nodes"][0]
    assert (node["memory_mb"], node["max_procs"], body["errors"]) == (512, 16, [])
    unset = api.post(URL, graph(), format="json").json()["graph"]["nodes"][0]
    assert (unset["memory_mb"], unset["max_procs"]) == (None, None)  # the tenant's default, else the platform's


def test_limits_above_the_platform_maximum_are_refused_naming_it(api):
    top, longest = settings.LOOM_SANDBOX, int(settings.LOOM_NODE_LIMITS.timeout_max_s)
    for field, value, message in (
        ("timeout_s", longest + 1, f"At most {longest:,} s: the platform maximum (LOOM_NODE_TIMEOUT_MAX_S)."),
        ("memory_mb", top.memory_mb + 1, f"At most {top.memory_mb:,} MB: the platform maximum (LOOM_KERNEL_MEMORY_MB)."),
        ("max_procs", top.max_procs + 1,
         f"At most {top.max_procs:,} processes and threads: the platform maximum (LOOM_KERNEL_MAX_PROCS)."),
        ("memory_mb", 0, "Ensure this value is greater than or equal to 1."),
    ):
        response = api.post(URL, graph(**{field: value}), format="json")
        assert response.status_code == 400
        assert response.json()["nodes"] == {"0": {field: [message]}}, response.json()
    assert not Workflow.objects.exists()
