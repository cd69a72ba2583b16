import { useEffect, useState } from "react";
import { ApiError } from "../api/client";
import { endpoints } from "../api/endpoints";
import type { GraphError, Json } from "../api/types";
import { flowToGraph } from "../graph/convert";
import { useStore } from "../store";
import { Modal } from "../ui/Modal";
import { ValueInput } from "./ValueInput";

/** Start a run of the saved version, overriding global parameters for this run only. */
export function RunDialog({ onClose }: { onClose: () => void }) {
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
      const run = await endpoints.runStart(tenant, workflowId, { engine, parameters: overrides, version: useStore.getState().version });
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
    <Modal title="Run workflow" onClose={onClose} testId="run-dialog"
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
