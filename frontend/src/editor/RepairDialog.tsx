import { useState } from "react";
import { ApiError } from "../api/client";
import { endpoints } from "../api/endpoints";
import type { GraphError, Json, RunDetail } from "../api/types";
import { downstreamOf } from "../graph/runs";
import { useStore } from "../store";
import { Modal } from "../ui/Modal";
import { ValueInput } from "./ValueInput";

const NOT_SUCCEEDED = ["failed", "upstream_failed", "cancelled"];

/** Repair a run: rerun what did not succeed (and what depends on it), on the run's version or on
 * the latest (with the fix), with changed parameters if asked; what succeeded is kept. */
export function RepairDialog({ run, onClose }: { run: RunDetail; onClose: () => void }) {
  const tenant = useStore((s) => s.tenant);
  const latest = useStore((s) => s.version);
  const edges = useStore((s) => s.edges);
  const globals = useStore((s) => s.meta.parameters);
  const showRun = useStore((s) => s.showRun);
  const toast = useStore((s) => s.toast);
  const [version, setVersion] = useState<"run" | "latest">(latest > run.version ? "latest" : "run");
  const [overrides, setOverrides] = useState<Record<string, Json>>({});
  const [error, setError] = useState("");
  const [problems, setProblems] = useState<GraphError[]>([]);
  const [busy, setBusy] = useState(false);

  const failed = run.nodes.filter((n) => n.map_index === null && NOT_SUCCEEDED.includes(n.status)).map((n) => n.node);
  const after = downstreamOf(edges, failed);
  const rerun = [...new Set([...failed, ...after])];
  const kept = run.nodes.filter((n) => n.map_index === null && !rerun.includes(n.node)).map((n) => n.node);

  const repair = async () => {
    setBusy(true);
    setError("");
    setProblems([]);
    try {
      const fresh = await endpoints.runRepair(tenant, run.id, { ...(version === "latest" ? { version: "latest" } : {}), parameters: overrides });
      showRun(fresh);
      toast("info", `Repairing run #${run.id} on version ${fresh.version}: rerunning ${rerun.join(", ")}.`);
      onClose();
    } catch (e) {
      if (e instanceof ApiError) {
        setProblems((e.body as { errors?: GraphError[] } | null)?.errors ?? []);
        setError(e.message);
      } else setError(String(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Modal title={`Repair run #${run.id}`} onClose={onClose} testId="repair-dialog"
      footer={<>
        <button className="button" onClick={onClose}>Cancel</button>
        <button className="button primary" onClick={repair} disabled={busy}>{busy ? "Repairing…" : "Repair"}</button>
      </>}>
      <div className="field compact">
        <span>Rerun on</span>
        <div className="segmented" role="radiogroup" aria-label="Version">
          <label className={version === "run" ? "active" : ""}>
            <input type="radio" name="version" checked={version === "run"} onChange={() => setVersion("run")} />
            this run’s version ({run.version})
          </label>
          {latest > run.version && (
            <label className={version === "latest" ? "active" : ""} data-testid="repair-latest">
              <input type="radio" name="version" checked={version === "latest"} onChange={() => setVersion("latest")} />
              the latest version ({latest}), with your fix
            </label>
          )}
        </div>
      </div>
      <h4>What will rerun</h4>
      <p data-testid="repair-rerun"><span className="mono">{rerun.join(", ") || "nothing"}</span></p>
      {kept.length > 0 && <p className="muted small" data-testid="repair-kept">Kept (their outputs are reused): <span className="mono">{kept.join(", ")}</span></p>}
      <h4>Change parameters</h4>
      {globals.length === 0 && <p className="muted small">This workflow has no global parameters.</p>}
      {globals.map((g) => (
        <label key={g.name} className="field compact">
          <span><span className="mono">{g.name}</span> <span className={`type-tag type-${g.type}`}>{g.type}</span></span>
          <ValueInput type={g.type} label={`Change ${g.name}`} value={g.name in overrides ? overrides[g.name] : undefined}
            placeholder={g.name in run.parameters ? `this run: ${JSON.stringify(run.parameters[g.name])}` : "unchanged"}
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
