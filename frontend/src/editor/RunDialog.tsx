import { useEffect, useState } from "react";
import { ApiError } from "../api/client";
import { endpoints, type RunStartBody } from "../api/endpoints";
import type { GraphError, Json, PlannedNode, RunSelection } from "../api/types";
import { flowToGraph } from "../graph/convert";
import { useStore } from "../store";
import { Modal } from "../ui/Modal";
import { ValueInput } from "./ValueInput";

/** What a partial run's selection says, in words. */
export function selectionText(s: RunSelection): string {
  if (s.only?.length) return `Only ${s.only.join(", ")}`;
  if (s.from) return `${s.from} and everything after it`;
  if (s.to) return `${s.to} and everything before it`;
  return "";
}

const ACTION_TEXT: Record<PlannedNode["action"], string> = { run: "runs", reused: "reused", cached: "cached", skipped: "not in this run" };

/** Start a run of the saved version (or of part of it), overriding global parameters for this run only. */
export function RunDialog({ onClose, selection = {} }: { onClose: () => void; selection?: RunSelection }) {
  const tenant = useStore((s) => s.tenant);
  const workflowId = useStore((s) => s.workflowId);
  const globals = useStore((s) => s.meta.parameters);
  const dirty = useStore((s) => s.dirty);
  const save = useStore((s) => s.save);
  const showRun = useStore((s) => s.showRun);
  const setPanel = useStore((s) => s.setPanel);
  const setErrors = useStore((s) => s.setErrors);
  const [engine, setEngine] = useState<"local" | "airflow">("local");
  // Offer Airflow only where this installation has one (unknown: offer it, the run says why not).
  const [airflow, setAirflow] = useState<boolean | null>(null);
  useEffect(() => {
    endpoints.engines().then((es) => setAirflow(es.find((e) => e.name === "airflow")?.available ?? false), () => setAirflow(true));
  }, []);
  const engines = airflow === false ? (["local"] as const) : (["local", "airflow"] as const);
  const [overrides, setOverrides] = useState<Record<string, Json>>({});
  const shownRun = useStore((s) => s.run);
  const openRun = useStore((s) => s.openRun);
  const partial = !!(selection.only?.length || selection.from || selection.to);
  // Reuse the outputs of the run shown, if it is of this workflow, else the newest that has them.
  const [reuse, setReuse] = useState<number | "latest">(shownRun && shownRun.workflow === workflowId ? shownRun.id : "latest");
  const [cache, setCache] = useState(true); // the editor's default: the cache answers what did not change
  const [plan, setPlan] = useState<PlannedNode[] | null>(null);
  const [planError, setPlanError] = useState("");
  const body = (): RunStartBody => ({
    engine, parameters: overrides, version: useStore.getState().version, cache, ...selection, ...(partial ? { reuse } : {}),
  });
  const bodyKey = JSON.stringify(body());
  useEffect(() => {
    if (workflowId === null) return;
    const timer = setTimeout(() => {
      endpoints.runPlan(tenant, workflowId, JSON.parse(bodyKey) as RunStartBody).then(
        (p) => { setPlan(p); setPlanError(""); },
        (e) => { setPlan(null); setPlanError(e instanceof ApiError ? e.message : String(e)); },
      );
    }, 150);
    return () => clearTimeout(timer);
  }, [tenant, workflowId, bodyKey]);
  const [problems, setProblems] = useState<GraphError[]>([]);
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);

  const start = async () => {
    if (workflowId === null) return;
    setBusy(true);
    setError("");
    setProblems([]);
    try {
      if (dirty) {
        // A canvas with known problems cannot run: say so before saving a version nobody asked for.
        const { meta, nodes, edges } = useStore.getState();
        const check = await endpoints.workflowValidate(tenant, workflowId, flowToGraph(meta, nodes, edges));
        if (!check.valid) {
          setProblems(check.errors);
          setErrors(check.errors);
          setError(`Not saved, not run: ${check.errors.length === 1 ? "this problem needs" : `these ${check.errors.length} problems need`} fixing first (Save keeps your changes as a draft version).`);
          return;
        }
        if (!(await save())) return;
      }
      const run = await endpoints.runStart(tenant, workflowId, body());
      showRun(run);
      setPanel("runs");
      onClose();
    } catch (e) {
      if (e instanceof ApiError) {
        const body = e.body as { errors?: GraphError[] } | null;
        if (body?.errors?.length) {
          setProblems(body.errors);
          setErrors(body.errors);
        }
        setError(e.status === 404 ? "Runs are not available on this server yet." : e.message);
      } else setError(String(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Modal title={partial ? `Run part of the workflow: ${selectionText(selection)}` : "Run workflow"} onClose={onClose} testId="run-dialog"
      footer={<>
        <button className="button" onClick={onClose}>Cancel</button>
        <button className="button primary" onClick={start} disabled={busy}>{busy ? "Starting…" : dirty ? "Save and run" : "Run"}</button>
      </>}>
      <div className="field compact">
        <span>Engine</span>
        <div className="segmented" role="radiogroup" aria-label="Engine">
          {engines.map((e) => (
            <label key={e} className={engine === e ? "active" : ""}>
              <input type="radio" name="engine" value={e} checked={engine === e} onChange={() => setEngine(e)} />
              {e === "local" ? "Local (this server)" : "Airflow"}
            </label>
          ))}
        </div>
        {airflow === false && <span className="help" data-testid="no-airflow">Runs go to this server’s own workers. Airflow is not set up here; ask your administrator if your team needs it.</span>}
      </div>
      {partial && (
        <label className="field compact">
          <span>Nodes outside the selection reuse the outputs of</span>
          <select value={String(reuse)} data-testid="reuse-select" onChange={(e) => setReuse(e.target.value === "latest" ? "latest" : Number(e.target.value))}>
            <option value="latest">the latest run that has them</option>
            {shownRun && shownRun.workflow === workflowId && <option value={shownRun.id}>run #{shownRun.id} (shown)</option>}
          </select>
        </label>
      )}
      <label className="field compact checkbox-field">
        <input type="checkbox" checked={cache} data-testid="cache-toggle" onChange={(e) => setCache(e.target.checked)} />
        <span>Use the cache: a node whose notebook, parameters, inputs, connections and environment did not change is not run
          again (untick to force every node to run)</span>
      </label>
      <h4>What runs</h4>
      {dirty && <p className="muted small">Shown for the saved version; your unsaved changes are saved first.</p>}
      {planError && <div className="callout callout-error" data-testid="plan-error">{planError}</div>}
      {plan && (
        <ul className="run-plan" data-testid="run-plan">
          {plan.map((p) => (
            <li key={p.node} data-node={p.node} data-action={p.action}>
              <span className="mono">{p.node}</span>
              <span className={`chip chip-plan-${p.action}`}>{ACTION_TEXT[p.action]}</span>
              {p.source && <button className="link-button small" onClick={() => { void openRun(p.source!.run); onClose(); }}>from run #{p.source.run}</button>}
            </li>
          ))}
        </ul>
      )}
      {plan && cache && <p className="help">Nodes after one that runs may still be cached once it ran, if their inputs come out the same.</p>}
      <h4>Parameters for this run</h4>
      {globals.length === 0 && <p className="muted small">This workflow has no global parameters.</p>}
      {globals.map((g) => (
        <label key={g.name} className="field compact">
          <span><span className="mono">{g.name}</span> <span className={`type-tag type-${g.type}`}>{g.type}</span>{g.help ? ` · ${g.help}` : ""}</span>
          <ValueInput type={g.type} label={`Override ${g.name}`} value={g.name in overrides ? overrides[g.name] : undefined}
            placeholder={g.default === null ? "no default" : `default ${JSON.stringify(g.default)}`}
            onChange={(v) => setOverrides((o) => {
              const next = { ...o };
              if (v === undefined) delete next[g.name];
              else next[g.name] = v;
              return next;
            })} />
        </label>
      ))}
      {error && <div className="form-error" role="alert">{error}</div>}
      {problems.length > 0 && <ul className="problem-list">{problems.map((p, i) => <li key={i}>{p.node ? <strong className="mono">{p.node}: </strong> : null}{p.message}</li>)}</ul>}
    </Modal>
  );
}
