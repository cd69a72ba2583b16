import { useState } from "react";
import { ApiError } from "../api/client";
import { endpoints } from "../api/endpoints";
import { type Change, signatureDiff } from "../graph/diff";
import { outputName } from "../graph/model";
import { useStore } from "../store";

/** Says when a node's notebook has a newer version than the saved workflow runs, what it changes, and applies it. */
export function NewerNotebook({ nodeId, readOnly }: { nodeId: string; readOnly: boolean }) {
  const spec = useStore((s) => s.nodes.find((n) => n.id === nodeId)?.data.node);
  const notebook = useStore((s) => (spec ? s.notebookMap.get(spec.notebook) : undefined));
  const pin = useStore((s) => (spec ? s.pins[spec.notebook] : undefined));
  const tenant = useStore((s) => s.tenant);
  const [changes, setChanges] = useState<Change[] | null>(null);
  const [error, setError] = useState("");
  if (!spec || !notebook || !pin || pin.version >= notebook.version) return null;

  const show = async () => {
    try {
      const old = await endpoints.notebook(tenant, notebook.id, pin.version);
      setChanges(signatureDiff(old, notebook));
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    }
  };
  // The canvas already shows the newest signature; the node takes its new outputs and drops values
  // of parameters the notebook no longer has. Saving pins the new version for the whole workflow.
  const update = () => {
    const s = useStore.getState();
    const names = new Set(notebook.parameters.map((p) => p.name));
    const parameters = Object.fromEntries(Object.entries(spec.parameters).filter(([k]) => names.has(k)));
    const declared = new Set(spec.outputs.map(outputName));
    const outputs = [...spec.outputs, ...(notebook.outputs ?? []).filter((o) => !declared.has(o.name))];
    s.updateNode(nodeId, { parameters, outputs });
    s.toast("info", `${nodeId} now uses ${notebook.name} v${notebook.version}; save to run it.`);
    setChanges(null);
  };

  return (
    <div className="callout callout-info" data-testid="newer-notebook">
      <strong className="mono">{notebook.name}</strong> has a newer version: v{notebook.version} (the saved workflow runs v{pin.version}).
      {changes === null && <div><button className="button small" onClick={show}>What changes</button></div>}
      {changes && (
        <>
          <ul className="change-list">
            {changes.map((c, i) => (
              <li key={i} className={`change change-${c.kind}`}><span className="change-kind">{c.kind}</span> {c.area} <strong className="mono">{c.subject}</strong>{c.detail ? <span className="muted">: {c.detail}</span> : null}</li>
            ))}
            {changes.length === 0 && <li className="muted">No change to its parameters or outputs.</li>}
          </ul>
          {!readOnly && <button className="button primary small" onClick={update}>Update this node</button>}
          <p className="help">Saving pins v{notebook.version} for every node of this notebook.</p>
        </>
      )}
      {error && <div className="field-error">{error}</div>}
    </div>
  );
}
