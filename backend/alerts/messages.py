"""What an alert says: one dict per delivery, which each channel kind renders (alerts.senders).
Built from the run's rows only: a channel's secret is never part of it, and node errors are
the first line of what the node run stored (already scrubbed of connection secrets)."""
from django.conf import settings
from django.utils import timezone

from runs.models import Run, Status

_TITLES = {"failure": "failed", "success": "succeeded", "recovery": "recovered (succeeded after a failure)",
           "duration": "ran longer than expected", "test": "test alert"}
_STILL_RUNNING = "is taking longer than expected (still running)"  # a duration alert sent before the run ended


def run_url(run: Run) -> str:
    return f"{settings.LOOM_PUBLIC_URL}/t/{run.tenant.slug}/workflows/{run.workflow_id}?run={run.pk}"


def _first_line(error) -> str:
    message = (error or {}).get("message", "") if isinstance(error, dict) else str(error or "")
    return next((line.strip() for line in str(message).splitlines() if line.strip()), "")[:500]


def run_duration_s(run: Run, *, now=None) -> float | None:
    """How long the run took, from its start (its creation, if it never started); a run that has not
    ended: how long it has taken until `now` (None without one). The one measure of duration rules."""
    start, end = run.started_at or run.created_at, run.ended_at or now
    return (end - start).total_seconds() if end and start else None


def alert_message(*, run: Run, event: str, duration_s: int | None = None) -> dict:
    """The alert for `event` of a run (the JSON body of a webhook): a finished one, or for `duration`
    one still running (its duration_s: so far)."""
    failed = [{"node": r.node, "status": r.status, "error": _first_line(r.error)}
              for r in run.node_runs.filter(map_index=None, status=Status.FAILED).order_by("id")]
    ended = run.ended_at is not None
    duration = run_duration_s(run, now=timezone.now())
    logical = run.logical_date.isoformat() if run.logical_date else None
    title = _TITLES[event] if ended or event != "duration" else _STILL_RUNNING
    text = f"Loom: workflow {run.workflow.name} (version {run.version.number}) {title}: run {run.pk}"
    text += f", logical date {logical}" if logical else ""
    text += f", status {run.status}"
    if event == "duration" and duration is not None:
        text += f", {'took' if ended else 'running for'} {duration:.0f} s (limit {duration_s} s)"
    text += "." + "".join(f"\n- {f['node']}: {f['error'] or f['status']}" for f in failed)
    text += f"\n{run_url(run)}"
    return {
        "event": event, "tenant": run.tenant.slug,
        "workflow": {"id": run.workflow_id, "name": run.workflow.name}, "version": run.version.number,
        "run": {"id": run.pk, "status": run.status, "engine": run.engine, "trigger": run.trigger,
                "logical_date": logical,
                "started_at": run.started_at.isoformat() if run.started_at else None,
                "ended_at": run.ended_at.isoformat() if run.ended_at else None,
                "duration_s": duration, "url": run_url(run)},
        "failed_nodes": failed, "text": text,
        **({"duration_limit_s": duration_s} if event == "duration" else {}),
    }


def test_message(*, channel) -> dict:
    return {"event": "test", "tenant": channel.tenant.slug, "channel": channel.name,
            "text": f"Loom: test alert to channel {channel.name} of {channel.tenant.name}. Alerts will arrive like this."}
