import { useCallback, useEffect, useState } from "react";
import { ApiError } from "../api/client";
import { endpoints } from "../api/endpoints";
import type { Deployment, Run } from "../api/types";
import { useStore } from "../store";
import { StatusChip } from "../ui/StatusChip";
import { BackfillDialog } from "./BackfillDialog";

const message = (e: unknown) => (e instanceof ApiError ? e.message : String((e as Error)?.message ?? e));
const utc = (iso: string) => iso.replace("T", " ").replace(/:00(\.0+)?(Z|\+00:00)$/, "").replace(/(Z|\+00:00)$/, "") + " UTC";

/** Where the workflow's schedule runs: deploy to an engine, pause/resume, next runs, backfills, run calendar. */
export function SchedulePanel({ readOnly }: { readOnly: boolean }) {
  const tenant = useStore((s) => s.tenant);
  const workflowId = useStore((s) => s.workflowId);
  const version = useStore((s) => s.version);
  const schedule = useStore((s) => s.meta.schedule);
  const toast = useStore((s) => s.toast);
  const [deployment, setDeployment] = useState<Deployment | null | undefined>(undefined);
  const [engines, setEngines] = useState<string[]>(["local"]);
  const [engine, setEngine] = useState("local");
  const [busy, setBusy] = useState(false);
  const [backfill, setBackfill] = useState(false);

  const load = useCallback(() => {
    if (workflowId === null) return;
    endpoints.deployment(tenant, workflowId).then(setDeployment, () => setDeployment(undefined));
  }, [tenant, workflowId]);
  useEffect(load, [load]);
  useEffect(() => {
    endpoints.engines().then((list) => {
      const names = list.filter((e) => e.available).map((e) => e.name);
      setEngines(names.length ? names : ["local"]);
      setEngine(names.includes("airflow") ? "airflow" : "local");
    }, () => undefined);
  }, []);
  // Airflow parses a new DAG for a few seconds: look again until it says.
  useEffect(() => {
    if (deployment?.status !== "deploying") return;
    const timer = setTimeout(load, 1500);
    return () => clearTimeout(timer);
  }, [deployment, load]);

  if (workflowId === null) return null;
  const act = async (what: () => Promise<unknown>, done: string) => {
    setBusy(true);
    try {
      await what();
      toast("info", done);
      load();
    } catch (e) {
      toast("error", message(e));
    } finally {
      setBusy(false);
    }
  };
  const deploy = () => act(() => endpoints.deploy(tenant, workflowId, { version, engine: engine as "local" | "airflow" }),
    `Version ${version} deployed to ${engine === "local" ? "the local engine" : "Airflow"}.`);

  return (
    <div className="schedule-panel" data-testid="schedule-panel">
      {deployment === null && (
        <div className={`callout ${schedule ? "callout-warning" : ""}`} data-testid="not-deployed">
          {schedule
            ? <>Not deployed: the schedule <span className="mono">{schedule}</span> does not run until you deploy the workflow.</>
            : <>Not deployed. Deploy it to run it on a schedule.</>}
        </div>
      )}
      {deployment && (
        <div className="deployment-box" data-testid="deployment">
          <div className="run-head">
            <strong>Deployed v{deployment.version}</strong>
            <span className={`chip ${deployment.paused ? "status-cancelled" : deployment.status === "deployed" ? "status-success" : deployment.status === "failed" ? "status-failed" : "status-running"}`}
              data-testid="deployment-state">
              <span className="dot" />
              {deployment.status !== "deployed" ? deployment.status : deployment.paused ? "paused" : "active"}
            </span>
            <span className="muted small">on {deployment.engine === "local" ? "the local engine" : "Airflow"}</span>
          </div>
          {deployment.error && <div className="callout callout-error">{deployment.error}</div>}
          {deployment.schedule ? (
            <p className="small" data-testid="schedule-text">
              <span className="mono">{deployment.schedule}</span>: {deployment.schedule_text}{deployment.catchup ? " · catches up" : ""}
            </p>
          ) : <p className="muted small">No schedule in this version: it runs only when started.</p>}
          {deployment.next_runs.length > 0 && (
            <div className="small" data-testid="next-runs">
              <span className="muted">Next runs</span>
              <ul className="plain-list">{deployment.next_runs.map((t) => <li key={t} className="mono">{utc(t)}</li>)}</ul>
            </div>
          )}
          {deployment.version !== version && <p className="help">The editor shows version {version}; deploy it to schedule it instead.</p>}
          {!readOnly && (
            <div className="button-row">
              <button className="button small" disabled={busy} data-testid="pause-toggle"
                onClick={() => act(() => endpoints.deploymentPause(tenant, workflowId, !deployment.paused), deployment.paused ? "Schedule resumed." : "Schedule paused.")}>
                {deployment.paused ? "Resume" : "Pause"}
              </button>
              <button className="button small" disabled={busy || !deployment.schedule} onClick={() => setBackfill(true)} data-testid="backfill-open">Backfill…</button>
              <button className="button danger small" disabled={busy} onClick={() => act(() => endpoints.undeploy(tenant, workflowId), "Undeployed.")}>Undeploy</button>
            </div>
          )}
        </div>
      )}
      {!readOnly && deployment !== undefined && (
        <div className="deploy-row">
          <select className="input small-select" aria-label="Engine to deploy to" value={engine} onChange={(e) => setEngine(e.target.value)} data-testid="deploy-engine">
            {engines.map((e) => <option key={e} value={e}>{e === "local" ? "Local engine" : "Airflow"}</option>)}
          </select>
          <button className="button primary small" disabled={busy} onClick={deploy} data-testid="deploy">
            {deployment ? `Deploy v${version}` : "Deploy"}
          </button>
        </div>
      )}
      <RunCalendar />
      {backfill && deployment && <BackfillDialog engine={deployment.engine} onClose={() => setBackfill(false)} />}
    </div>
  );
}

/** Runs by logical date, one row per day, a coloured cell per run (as Airflow's grid); click opens the run. */
export function RunCalendar() {
  const tenant = useStore((s) => s.tenant);
  const workflowId = useStore((s) => s.workflowId);
  const runsVersion = useStore((s) => s.runsVersion);
  const shown = useStore((s) => s.run);
  const showRun = useStore((s) => s.showRun);
  const toast = useStore((s) => s.toast);
  const [runs, setRuns] = useState<Run[]>([]);
  useEffect(() => {
    if (workflowId === null) return;
    endpoints.runs(tenant, workflowId).then(setRuns, () => setRuns([]));
  }, [tenant, workflowId, runsVersion, shown?.id, shown?.status]);
  const dated = runs.filter((r) => r.logical_date).sort((a, b) => a.logical_date!.localeCompare(b.logical_date!));
  if (dated.length === 0) return null;
  const days = new Map<string, Run[]>();
  for (const r of dated) {
    const day = r.logical_date!.slice(0, 10);
    days.set(day, [...(days.get(day) ?? []), r]);
  }
  const open = async (id: number) => {
    try {
      showRun(await endpoints.run(tenant, id));
    } catch (e) {
      toast("error", message(e));
    }
  };
  return (
    <div className="run-calendar" data-testid="run-calendar">
      <span className="muted small">Runs by logical date (UTC)</span>
      {[...days.entries()].slice(-31).map(([day, list]) => (
        <div className="calendar-row" key={day}>
          <span className="mono small calendar-day">{day}</span>
          {list.map((r) => (
            <button key={r.id} className={`calendar-cell status-${r.status}${shown?.id === r.id ? " active" : ""}`} data-status={r.status}
              title={`Run #${r.id} · ${utc(r.logical_date!)} · ${r.status} · ${r.trigger ?? ""}`} aria-label={`Run ${r.id} of ${utc(r.logical_date!)}: ${r.status}`}
              onClick={() => open(r.id)} />
          ))}
        </div>
      ))}
      <div className="calendar-legend small muted">
        {(["success", "failed", "running", "queued"] as const).map((s) => <StatusChip key={s} status={s} />)}
      </div>
    </div>
  );
}
