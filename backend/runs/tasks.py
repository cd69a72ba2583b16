from celery import shared_task

from runs.engines import local


@shared_task(name="runs.node_run_execute", ignore_result=True)
def node_run_execute_task(node_run_id: int, token: str) -> None:
    """Run one attempt of a node run (a stale or duplicate message does nothing)."""
    local.node_run_execute(node_run_id=node_run_id, token=token)
