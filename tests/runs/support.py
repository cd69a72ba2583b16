"""Polling helpers of the engine tests."""
import time

FINISHED = ("success", "failed", "skipped", "upstream_failed", "cancelled")


def wait_run(api, tenant_slug: str, run_id: int, *, timeout: float = 60, until=None) -> dict:
    """Poll the API until the run is finished (or `until(detail)` holds)."""
    deadline = time.monotonic() + timeout
    while True:
        detail = api.get(f"/api/tenants/{tenant_slug}/runs/{run_id}/").json()
        if (until(detail) if until else detail["status"] in FINISHED):
            return detail
        assert time.monotonic() < deadline, detail
        time.sleep(0.05)


def nodes_of(detail: dict) -> dict:
    """{node or (node, map_index): node run} of a run detail."""
    return {(n["node"] if n["map_index"] is None else (n["node"], n["map_index"])): n for n in detail["nodes"]}
