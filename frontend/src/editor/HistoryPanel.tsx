import { useEffect, useState } from "react";
import { ApiError } from "../api/client";
import { endpoints } from "../api/endpoints";
import type { WorkflowVersion } from "../api/types";
import { type Change, diffMarks, graphDiff } from "../graph/diff";
import { draftWrite } from "../graph/drafts";
import { flowToGraph } from "../graph/convert";
import { useStore } from "../store";
import { timeAgo } from "../ui/format";

const msg = (e: unknown) => (e instanceof ApiError ? e.message : String(e));

/** Show an older version on the canvas, read-only. Unsaved changes stay as the draft and come back with the latest. */
export async function versionOpen(number: number): Promise<void> {
  const s = useStore.getState();
  if (s.workflowId === null) return;
  if (s.dirty) draftWrite(s.tenant, s.workflowId, { version: s.version, graph: flowToGraph(s.meta, s.nodes, s.edges), savedAt: new Date().toISOString() });
  const detail = await endpoints.workflow(s.tenant, s.workflowId, number);
  s.applyDetail(detail);
  useStore.setState({ viewingVersion: number, diffMarks: new Map(), history: { past: [], future: [] }, loadSeq: s.loadSeq + 1, restoredDraft: null });
}

/** Save an older version's graph as the newest version (its notebooks pinned anew). */
export async function versionRestore(number: number): Promise<void> {
  const { tenant, workflowId, toast, load } = useStore.getState();
  if (workflowId === null) return;
  const [old, latest] = await Promise.all([endpoints.workflow(tenant, workflowId, number), endpoints.workflow(tenant, workflowId)]);
  const saved = await endpoints.workflowSave(tenant, workflowId, old.graph, latest.version);
  await load(tenant, workflowId);
  toast("success", `Restored version ${number} as version ${saved.version}.`);
}

function ChangeList({ changes }: { changes: Change[] }) {
  if (!changes.length) return <p className="muted small">No differences (node positions aside).</p>;
  return (
    <ul className="change-list">
      {changes.map((c, i) => (
        <li key={i} className={`change change-${c.kind}`} data-kind={c.kind}>
          <span className="change-kind">{c.kind}</span> {c.area} <strong className="mono">{c.subject}</strong>{c.detail ? <span className="muted">: {c.detail}</span> : null}
        </li>
      ))}
    </ul>
  );
}

/** Who saved which version when; compare any version with the one on the canvas; open or restore one. */
export function HistoryPanel({ canEdit }: { canEdit: boolean }) {
  const tenant = useStore((s) => s.tenant);
  const workflowId = useStore((s) => s.workflowId);
  const shown = useStore((s) => s.version);
  const viewing = useStore((s) => s.viewingVersion);
  const dirty = useStore((s) => s.dirty);
  const [versions, setVersions] = useState<WorkflowVersion[] | null>(null);
  const [compare, setCompare] = useState<{ from: number; changes: Change[] } | null>(null);
  const [error, setError] = useState("");

  useEffect(() => {
    if (workflowId === null) return;
    endpoints.workflowVersions(tenant, workflowId).then(setVersions, (e) => setError(msg(e)));
  }, [tenant, workflowId, shown]);
  useEffect(() => () => useStore.setState({ diffMarks: new Map() }), []);

  const compareWith = async (number: number) => {
    const s = useStore.getState();
    if (workflowId === null) return;
    try {
      const old = await endpoints.workflow(tenant, workflowId, number);
      // Against what the canvas shows, unsaved edits included.
      const changes = graphDiff(old.graph, flowToGraph(s.meta, s.nodes, s.edges));
      setCompare({ from: number, changes });
      useStore.setState({ diffMarks: diffMarks(changes) });
    } catch (e) {
      setError(msg(e));
    }
  };
  const act = (f: () => Promise<void>) => () => {
    setCompare(null);
    f().catch((e) => setError(msg(e)));
  };

  return (
    <div className="history" data-testid="history-panel">
      {error && <div className="form-error" role="alert">{error}</div>}
      {compare && (
        <section className="section-box" data-testid="version-diff">
          <div className="row-between">
            <strong>Changes from v{compare.from} to {viewing ? `v${viewing}` : "the canvas"}</strong>
            <button className="button ghost small" onClick={() => { setCompare(null); useStore.setState({ diffMarks: new Map() }); }}>Close</button>
          </div>
          <ChangeList changes={compare.changes} />
        </section>
      )}
      <ul className="version-list">
        {versions?.map((v) => (
          <li key={v.number} className={`version-row${v.number === shown ? " current" : ""}`} data-testid={`version-${v.number}`}>
            <div>
              <strong>v{v.number}</strong>{v.number === versions[0].number ? <span className="chip">latest</span> : null}
              <div className="muted small">{v.created_by ?? "someone"} · <span title={new Date(v.created_at).toLocaleString()}>{timeAgo(v.created_at)}</span></div>
            </div>
            <div className="row-actions">
              {v.number !== shown && <button className="button ghost small" onClick={() => compareWith(v.number)}>Compare</button>}
              {v.number !== shown && v.number !== versions[0].number && <button className="button ghost small" onClick={act(() => versionOpen(v.number))}>Open</button>}
              {canEdit && v.number !== versions[0].number && (
                <button className="button small" onClick={act(() => versionRestore(v.number))} disabled={dirty}
                  title={dirty ? "Save or discard your changes first" : `Save version ${v.number} as a new version`}>Restore</button>
              )}
            </div>
          </li>
        ))}
      </ul>
      <p className="help">Compare lists what changed from a version to the canvas and marks changed nodes. Open shows a version read-only; Restore saves it as a new version.</p>
    </div>
  );
}

/** The banner over a version opened read-only. */
export function ViewingBanner({ canRestore }: { canRestore: boolean }) {
  const viewing = useStore((s) => s.viewingVersion);
  const { tenant, workflowId, load, toast } = useStore.getState();
  if (viewing === null || workflowId === null) return null;
  return (
    <div className="draft-banner" role="status" data-testid="viewing-banner">
      <span><strong>Version {viewing}</strong> <span className="muted">(read only)</span></span>
      <button className="button small" onClick={() => void load(tenant, workflowId)}>Back to latest</button>
      {canRestore && <button className="button primary small" onClick={() => versionRestore(viewing).catch((e) => toast("error", msg(e)))}>Restore as new version</button>}
    </div>
  );
}
