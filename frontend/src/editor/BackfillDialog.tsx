import { useEffect, useState } from "react";
import { ApiError } from "../api/client";
import { endpoints } from "../api/endpoints";
import type { BackfillDetail, BackfillDryRun } from "../api/types";
import { useStore } from "../store";
import { Modal } from "../ui/Modal";
import { StatusChip } from "../ui/StatusChip";

const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
type Reprocess = "none" | "failed" | "all";

/** Runs for the logical dates of a range: a dry-run preview first, then the backfill's progress. */
export function BackfillDialog({ engine, onClose }: { engine: string; onClose: () => void }) {
  const tenant = useStore((s) => s.tenant);
  const workflowId = useStore((s) => s.workflowId)!;
  // The run history and the calendar reload when runsVersion changes.
  const bumpRuns = () => useStore.setState((s) => ({ runsVersion: s.runsVersion + 1 }));
  const [start, setStart] = useState(day(-7));
  const [end, setEnd] = useState(day(-1));
  const [maxActive, setMaxActive] = useState(2);
  const [reprocess, setReprocess] = useState<Reprocess>("none");
  const [preview, setPreview] = useState<BackfillDryRun | null>(null);
  const [backfill, setBackfill] = useState<BackfillDetail | null>(null);
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const body = () => ({ start: `${start}T00:00:00Z`, end: `${end}T23:59:59Z`, max_active_runs: maxActive, reprocess, engine: engine as "local" | "airflow" });

  const call = async (what: () => Promise<void>) => {
    setBusy(true);
    setError("");
    try {
      await what();
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };
  // Progress: look again every 2 s while it runs.
  useEffect(() => {
    if (!backfill || backfill.status !== "running") return;
    const timer = setTimeout(() => endpoints.backfill(tenant, workflowId, backfill.id).then((b) => { setBackfill(b); bumpRuns(); }, () => undefined), 2000);
    return () => clearTimeout(timer);
  }, [backfill, tenant, workflowId]);

  const done = backfill ? Object.entries(backfill.progress).filter(([s]) => !["queued", "running"].includes(s)).reduce((n, [, c]) => n + c, 0) : 0;
  return (
    <Modal title="Backfill" onClose={onClose} testId="backfill-dialog"
      footer={backfill ? <>
        {backfill.status === "running" && <button className="button danger" disabled={busy} data-testid="backfill-cancel"
          onClick={() => call(async () => setBackfill(await endpoints.backfillCancel(tenant, workflowId, backfill.id)))}>Cancel backfill</button>}
        <button className="button" onClick={onClose}>Close</button>
      </> : <>
        <button className="button" onClick={onClose}>Cancel</button>
        <button className="button" disabled={busy} data-testid="backfill-preview"
          onClick={() => call(async () => setPreview(await endpoints.backfillPreview(tenant, workflowId, body())))}>Preview dates</button>
        <button className="button primary" disabled={busy || !preview || preview.dates.length === 0} data-testid="backfill-start"
          onClick={() => call(async () => { setBackfill(await endpoints.backfillStart(tenant, workflowId, body())); bumpRuns(); })}>
          Start {preview ? `${preview.dates.length} run${preview.dates.length === 1 ? "" : "s"}` : "backfill"}
        </button>
      </>}>
      {!backfill && (
        <>
          <p className="help">Runs the deployed version for each logical date of its schedule in the range (UTC), on {engine === "local" ? "the local engine" : "Airflow"}.</p>
          <div className="grid-2">
            <label className="field compact"><span>From</span>
              <input className="input" type="date" value={start} onChange={(e) => { setStart(e.target.value); setPreview(null); }} data-testid="backfill-from" /></label>
            <label className="field compact"><span>To (inclusive)</span>
              <input className="input" type="date" value={end} onChange={(e) => { setEnd(e.target.value); setPreview(null); }} data-testid="backfill-to" /></label>
            <label className="field compact"><span>Runs at once</span>
              <input className="input" type="number" min={1} max={100} value={maxActive} onChange={(e) => setMaxActive(Math.max(1, Number(e.target.value) || 1))} /></label>
            <label className="field compact"><span>Dates that already ran</span>
              <select className="input" value={reprocess} onChange={(e) => { setReprocess(e.target.value as Reprocess); setPreview(null); }}>
                <option value="none">skip them</option>
                <option value="failed">run the failed ones again</option>
                <option value="all">run them all again</option>
              </select></label>
          </div>
          {preview && (
            <div data-testid="backfill-dates">
              <strong>{preview.dates.length} logical date{preview.dates.length === 1 ? "" : "s"}</strong>
              <ul className="plain-list mono small backfill-dates">
                {preview.dates.slice(0, 50).map((d) => <li key={d.logical_date}>{d.logical_date.replace("T", " ").replace("Z", "")}{d.existing_status ? ` (again: was ${d.existing_status})` : ""}</li>)}
                {preview.dates.length > 50 && <li className="muted">and {preview.dates.length - 50} more</li>}
              </ul>
            </div>
          )}
        </>
      )}
      {backfill && (
        <div data-testid="backfill-progress">
          <div className="run-head">
            <strong>Backfill #{backfill.id}</strong>
            <span className={`chip status-${backfill.status}`} data-testid="backfill-status"><span className="dot" />{backfill.status}</span>
            <span className="muted small">{done} of {backfill.dates.length} done</span>
          </div>
          <progress max={backfill.dates.length || 1} value={done} />
          <ul className="plain-list small backfill-dates">
            {backfill.dates.map((d) => (
              <li key={d.logical_date}><span className="mono">{d.logical_date.slice(0, 16).replace("T", " ")}</span> <StatusChip status={d.status as never} /></li>
            ))}
          </ul>
        </div>
      )}
      {error && <div className="form-error" role="alert">{error}</div>}
    </Modal>
  );
}
