import { useEffect, useState } from "react";
import { ApiError } from "../api/client";
import { endpoints } from "../api/endpoints";
import type { Run } from "../api/types";
import { itemsChip, runFinished } from "../graph/runs";
import { useStore } from "../store";
import { StatusChip } from "../ui/StatusChip";
import { RepairDialog } from "./RepairDialog";
import { duration, timeAgo } from "../ui/format";
import { CompareDialog } from "./CompareDialog";
import { RunTimeline } from "./RunTimeline";

/** What a run changed from the defaults, in one line: `x=5, name="b"`. */
const changedText = (p: Record<string, unknown>) => Object.entries(p).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(", ");

/** The shown run (cancel, repair, per-node summary) and the workflow's run history. */
export function RunsPanel({ onRun, readOnly }: { onRun: () => void; readOnly: boolean }) {
  const tenant = useStore((s) => s.tenant);
  const workflowId = useStore((s) => s.workflowId);
  const run = useStore((s) => s.run);
  const runStatus = useStore((s) => s.runStatus);
  const runsVersion = useStore((s) => s.runsVersion);
  const showRun = useStore((s) => s.showRun);
  const selectOnly = useStore((s) => s.selectOnly);
  const setPanel = useStore((s) => s.setPanel);
  const toast = useStore((s) => s.toast);
  const [runs, setRuns] = useState<Run[] | null>(null);
  const [unavailable, setUnavailable] = useState("");
  const [busy, setBusy] = useState(false);
  const [comparing, setComparing] = useState<number | null>(null);

  useEffect(() => {
    if (workflowId === null) return;
    endpoints.runs(tenant, workflowId).then(
      (r) => { setRuns(r); setUnavailable(""); },
      (e) => setUnavailable(e instanceof ApiError && e.status === 404 ? "Runs are not available on this server yet." : String(e.message ?? e)),
    );
  }, [tenant, workflowId, runsVersion, run?.id]);

  const open = async (id: number) => {
    try {
      showRun(await endpoints.run(tenant, id));
    } catch (e) {
      toast("error", e instanceof ApiError ? e.message : String(e));
    }
  };

  const [repairing, setRepairing] = useState(false);
  const cancel = async () => {
    if (!run) return;
    setBusy(true);
    try {
      showRun(await endpoints.runCancel(tenant, run.id));
      toast("info", `Cancelling run #${run.id}.`);
    } catch (e) {
      toast("error", e instanceof ApiError ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };

  const failedSome = run?.nodes.some((n) => ["failed", "upstream_failed", "cancelled"].includes(n.status));

  return (
    <div className="runs-panel" data-testid="runs-panel">
      {run && (
        <section className="section-box" aria-label="Shown run">
          <div className="run-head">
            <strong>Run #{run.id}</strong>
            <StatusChip status={run.status} />
            <span className="spacer" />
            <button className="icon-button" title="Stop showing this run" aria-label="Hide run" onClick={() => showRun(null)}>✕</button>
          </div>
          <div className="muted small">
            {run.engine} engine · version {run.version} · {timeAgo(run.created_at)}
            {run.started_at ? ` · ${duration(run.started_at, run.ended_at)}` : ""}{run.created_by ? ` · by ${run.created_by}` : ""}
          </div>
          {run.logical_date && (
            <div className="muted small" data-testid="run-dates">
              {run.trigger ?? "manual"} · logical date <span className="mono">{run.logical_date.slice(0, 16).replace("T", " ")}</span>
              {run.data_interval_start && run.data_interval_start !== run.logical_date
                ? <> · data <span className="mono">{run.data_interval_start.slice(0, 16).replace("T", " ")}</span> → <span className="mono">{run.data_interval_end?.slice(0, 16).replace("T", " ")}</span></>
                : null} UTC
            </div>
          )}
          {run.error && <div className="callout callout-error">{run.error}</div>}
          {!readOnly && (
            <div className="button-row">
              {!runFinished(run.status) && <button className="button danger small" disabled={busy} onClick={cancel}>Cancel run</button>}
              {runFinished(run.status) && failedSome && <button className="button small" disabled={busy} onClick={() => setRepairing(true)}>Repair…</button>}
            </div>
          )}
          <ul className="node-run-list">
            {[...new Set(run.nodes.map((n) => n.node))].map((id) => {
              const s = runStatus.get(id);
              return (
                <li key={id}>
                  <button className="link-button mono" onClick={() => { selectOnly(id); setPanel("node"); }}>{id}</button>
                  {s && <StatusChip status={s.status} extra={itemsChip(s)} />}
                  {s?.source && <button className="link-button small" onClick={() => open(s.source!.run)}>{s.source.kind} · run #{s.source.run}</button>}
                </li>
              );
            })}
          </ul>
          <RunTimeline nodes={run.nodes} />
          <p className="help">Click a node on the canvas for its outputs, log, error and executed notebook.</p>
        </section>
      )}
      {repairing && run && <RepairDialog run={run} onClose={() => setRepairing(false)} />}
      <section className="section-box" aria-label="Run history">
        <div className="run-head">
          <strong>History</strong>
          <span className="spacer" />
          {!readOnly && !unavailable && <button className="button primary small" onClick={onRun}>Run…</button>}
        </div>
        {unavailable && <p className="muted small">{unavailable}</p>}
        {runs && runs.length === 0 && <p className="muted small">No runs yet.</p>}
        {run && runs && runs.length > 1 && <p className="help">⇄ compares a run with the shown run #{run.id}.</p>}
        <ul className="run-history">
          {runs?.map((r) => (
            <li key={r.id} className="run-history-row">
              <button className={`run-history-item${run?.id === r.id ? " active" : ""}`} onClick={() => open(r.id)}>
                <span className="mono">#{r.id}</span>
                <StatusChip status={r.status} />
                <span className="muted small">v{r.version} · {r.engine} · {r.trigger}{r.created_by ? ` by ${r.created_by}` : ""}</span>
                <span className="spacer" />
                <span className="muted small">{r.duration_s !== null && r.duration_s !== undefined ? `${r.duration_s.toFixed(1)}s · ` : ""}{timeAgo(r.created_at)}</span>
                {Object.keys(r.parameters_changed ?? {}).length > 0 && (
                  <span className="run-history-params mono small" title="Parameters that differ from the defaults">{changedText(r.parameters_changed)}</span>
                )}
              </button>
              {run && run.id !== r.id && (
                <button className="icon-button" title={`Compare run #${r.id} with run #${run.id}`} aria-label={`Compare run #${r.id} with run #${run.id}`}
                  onClick={() => setComparing(r.id)}>⇄</button>
              )}
            </li>
          ))}
        </ul>
        {run && comparing !== null && <CompareDialog tenant={tenant} run={Math.max(run.id, comparing)} other={Math.min(run.id, comparing)} onClose={() => setComparing(null)} />}
      </section>
    </div>
  );
}
