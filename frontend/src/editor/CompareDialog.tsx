import { useEffect, useState } from "react";
import { ApiError } from "../api/client";
import { endpoints } from "../api/endpoints";
import type { CompareNode, RunCompare } from "../api/types";
import { Modal } from "../ui/Modal";
import { StatusChip } from "../ui/StatusChip";

const show = (v: unknown) => (v === undefined ? "—" : JSON.stringify(v));
const secs = (s: number | null | undefined) => (s === null || s === undefined ? "—" : `${s.toFixed(1)}s`);

/** The diff of a node's two executed notebooks, as the API renders it (nbdime's diff, in a
 * sandbox without scripts, like the executed notebook). */
function NotebookDiff({ tenant, run, other, node }: { tenant: string; run: number; other: number; node: string }) {
  const [html, setHtml] = useState<string | null>(null);
  const [error, setError] = useState("");
  useEffect(() => {
    setHtml(null);
    endpoints.text(endpoints.nodeNotebookDiffHtmlUrl(tenant, run, other, node), "text/html").then(
      setHtml, (e) => setError(e instanceof ApiError ? e.message : String(e)));
  }, [tenant, run, other, node]);
  if (error) return <div className="callout callout-error" role="alert">{error}</div>;
  if (html === null) return <p className="muted">Loading the notebook diff…</p>;
  return <iframe className="notebook-frame" title={`Notebook diff of ${node}`} sandbox="" srcDoc={html} />;
}

function NodeRow({ n, onDiff, shown }: { n: CompareNode; onDiff: () => void; shown: boolean }) {
  const c = n.changed;
  const names = [...new Set([...Object.keys(n.run?.outputs ?? {}), ...Object.keys(n.other?.outputs ?? {})])];
  const changed = c.status || c.outputs.length > 0 || c.notebook || c.presence;
  return (
    <tr className={changed ? "changed" : ""} data-testid={`compare-${n.node}`}>
      <td className="mono">{n.node}{c.notebook && <span className="chip chip-map" title="The runs pinned different notebook versions">notebook changed</span>}</td>
      <td>{n.other ? <StatusChip status={n.other.status} /> : "—"} → {n.run ? <StatusChip status={n.run.status} /> : "—"}</td>
      <td className="small">{secs(n.other?.duration_s)} → {secs(n.run?.duration_s)}</td>
      <td className="small">
        {names.map((name) => (
          <div key={name} className={c.outputs.includes(name) ? "diff-changed" : ""}>
            <span className="mono">{name}</span>: <span className="mono">{show(n.other?.outputs[name])}</span>
            {c.outputs.includes(name) && <> → <span className="mono">{show(n.run?.outputs[name])}</span></>}
          </div>
        ))}
      </td>
      <td>{n.run && n.other && <button className={`button small${shown ? " primary" : ""}`} onClick={onDiff}>Notebook diff</button>}</td>
    </tr>
  );
}

/** Run `run` against `other` (older, usually): the parameters that differ and, per node, status,
 * duration and outputs side by side; a node's notebook diff on demand. */
export function CompareDialog({ tenant, run, other, onClose }: { tenant: string; run: number; other: number; onClose: () => void }) {
  const [body, setBody] = useState<RunCompare | null>(null);
  const [error, setError] = useState("");
  const [diffOf, setDiffOf] = useState<string | null>(null);
  useEffect(() => {
    endpoints.runCompare(tenant, run, other).then(setBody, (e) => setError(e instanceof ApiError ? e.message : String(e)));
  }, [tenant, run, other]);
  return (
    <Modal title={`Run #${other} → run #${run}`} wide onClose={onClose} testId="compare-dialog">
      {error && <div className="callout callout-error" role="alert">{error}</div>}
      {!body && !error && <p className="muted">Comparing…</p>}
      {body && (
        <>
          <p className="muted small">Version {body.other_version} → version {body.version}</p>
          <h3>Parameters</h3>
          {body.parameters.length === 0 ? <p className="muted small">The same parameters.</p> : (
            <table className="compare-table" aria-label="Parameters that differ">
              <thead><tr><th>Parameter</th><th>Run #{other}</th><th>Run #{run}</th></tr></thead>
              <tbody>{body.parameters.map((p) => (
                <tr key={p.name} className="changed"><td className="mono">{p.name}</td><td className="mono">{show(p.other)}</td><td className="mono">{show(p.run)}</td></tr>
              ))}</tbody>
            </table>
          )}
          <h3>Nodes</h3>
          <table className="compare-table" aria-label="Nodes compared">
            <thead><tr><th>Node</th><th>Status</th><th>Duration</th><th>Outputs</th><th /></tr></thead>
            <tbody>{body.nodes.map((n) => (
              <NodeRow key={n.node} n={n} shown={diffOf === n.node} onDiff={() => setDiffOf(diffOf === n.node ? null : n.node)} />
            ))}</tbody>
          </table>
          {diffOf && <><h3>Notebook diff · {diffOf}</h3><NotebookDiff tenant={tenant} run={run} other={other} node={diffOf} /></>}
        </>
      )}
    </Modal>
  );
}
