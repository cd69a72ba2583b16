import { ReactFlowProvider } from "@xyflow/react";
import { Suspense, lazy, useCallback, useEffect, useState } from "react";
import { endpoints } from "../api/endpoints";
import type { Tenant } from "../api/types";
import { linkProps, navigate } from "../router";
import { useStore } from "../store";
import { Modal } from "../ui/Modal";
import { Canvas } from "./Canvas";
import { ConflictDialog } from "./ConflictDialog";
import { HistoryPanel, ViewingBanner, versionOpen } from "./HistoryPanel";
import { Inspector } from "./Inspector";
import { DraftBanner, LeaveGuard } from "./LeaveGuard";
import { Palette } from "./Palette";
import { RunDialog } from "./RunDialog";
import { RunsPanel } from "./RunsPanel";
import { Toolbar } from "./Toolbar";
import { WorkflowPanel } from "./WorkflowPanel";
import { SHORTCUTS, useShortcuts } from "./useShortcuts";
import { useDraftAutosave } from "./useDraftAutosave";
import { useLiveValidation } from "./useLiveValidation";
import { useRunPolling } from "./useRunPolling";

const TAB_NAMES = { node: "Node", workflow: "Workflow", runs: "Runs", history: "History" } as const;

// The highlighter is only needed once someone opens the DAG code: load it then.
const DagDialog = lazy(() => import("./DagDialog").then((m) => ({ default: m.DagDialog })));

function SidePanel({ readOnly, canEdit, onRun }: { readOnly: boolean; canEdit: boolean; onRun: () => void }) {
  const panel = useStore((s) => s.panel);
  const setPanel = useStore((s) => s.setPanel);
  // Only the id: the inspector subscribes to the node itself, so dragging others is cheap.
  const selectedId = useStore((s) => {
    let found: string | null = null;
    for (const n of s.nodes) {
      if (n.selected) {
        if (found !== null) return "";
        found = n.id;
      }
    }
    return found;
  });
  const selected = useStore((s) => (selectedId ? s.nodes.find((n) => n.id === selectedId) : undefined));
  return (
    <aside className="side-panel">
      <nav className="tabs" role="tablist">
        {(["node", "workflow", "runs", "history"] as const).map((p) => (
          <button key={p} role="tab" aria-selected={panel === p} className={panel === p ? "tab active" : "tab"} onClick={() => setPanel(p)}>
            {TAB_NAMES[p]}
          </button>
        ))}
      </nav>
      <div className="side-panel-body">
        {panel === "node" && (selected ? <Inspector key={selected.id} node={selected} readOnly={readOnly} />
          : <p className="muted pad">{selectedId === "" ? "Several nodes are selected. Select one to edit it." : "Select a node to edit its parameters, outputs and execution settings."}</p>)}
        {panel === "workflow" && <WorkflowPanel readOnly={readOnly} />}
        {panel === "runs" && <RunsPanel onRun={onRun} readOnly={readOnly} />}
        {panel === "history" && <HistoryPanel canEdit={canEdit} />}
      </div>
    </aside>
  );
}

function EditorScreen({ tenant, workflowId }: { tenant: string; workflowId: number }) {
  const load = useStore((s) => s.load);
  const loadError = useStore((s) => s.loadError);
  const dirty = useStore((s) => s.dirty);
  const [role, setRole] = useState<Tenant["role"] | null>(null);
  const [dialog, setDialog] = useState<"dag" | "help" | null>(null);
  const viewing = useStore((s) => s.viewingVersion);
  const canEdit = role !== null && role !== "viewer"; // read-only until the role is known
  useEffect(() => useStore.setState({ canEdit }), [canEdit]);
  const readOnly = !canEdit || viewing !== null; // an older version opened from History is read-only too
  const runDialog = useStore((s) => s.runDialog);
  const openRunDialog = useStore((s) => s.openRunDialog);
  const openRun = useCallback(() => openRunDialog({}), [openRunDialog]);

  useEffect(() => {
    // ?run=<id> opens the editor showing that run (links from elsewhere, a reload mid-run);
    // ?version=<n> shows that version read-only (the audit log's links).
    const params = new URLSearchParams(location.search);
    const runId = Number(params.get("run"));
    const versionNumber = Number(params.get("version"));
    void load(tenant, workflowId).then(async () => {
      if (useStore.getState().loadError) return;
      if (versionNumber && versionNumber !== useStore.getState().version) {
        await versionOpen(versionNumber).then(() => useStore.getState().setPanel("history"),
          (e) => useStore.getState().toast("error", `Version ${versionNumber}: ${e instanceof Error ? e.message : String(e)}`));
      }
      if (!runId) return;
      try {
        useStore.getState().showRun(await endpoints.run(tenant, runId));
        useStore.getState().setPanel("runs");
      } catch (e) {
        useStore.getState().toast("error", `Run #${runId}: ${e instanceof Error ? e.message : String(e)}`);
      }
    });
    endpoints.tenants().then((ts) => setRole(ts.find((t) => t.slug === tenant)?.role ?? null), () => undefined);
  }, [tenant, workflowId, load]);

  useEffect(() => {
    document.title = `${dirty ? "• " : ""}${useStore.getState().meta.name || "Workflow"} · Loom`;
  }, [dirty]);

  // Keep the shown run in the address, so a reload or a shared link shows it again.
  const runId = useStore((s) => s.run?.id);
  useEffect(() => {
    const path = `/t/${tenant}/workflows/${workflowId}`;
    if (runId !== undefined) navigate(`${path}?run=${runId}`, { replace: true });
    else if (location.search.includes("run=") && useStore.getState().workflowId === workflowId) navigate(path, { replace: true });
  }, [runId, tenant, workflowId]);

  useShortcuts({ readOnly, onRun: openRun });
  useRunPolling();
  useLiveValidation();
  useDraftAutosave();

  if (loadError) {
    return (
      <div className="centered-page">
        <div className="card narrow">
          <h1>Cannot open this workflow</h1>
          <p className="form-error">{loadError}</p>
          <a className="button primary" {...linkProps(`/t/${tenant}`)}>Back to workflows</a>
        </div>
      </div>
    );
  }

  return (
    <div className="editor">
      <Toolbar tenant={tenant} readOnly={readOnly} onRun={openRun} onDag={() => setDialog("dag")} onHelp={() => setDialog("help")} />
      <div className="editor-main">
        <Palette readOnly={readOnly} />
        <Canvas readOnly={readOnly} />
        <SidePanel readOnly={readOnly} canEdit={canEdit} onRun={openRun} />
      </div>
      <DraftBanner />
      <LeaveGuard path={`/t/${tenant}/workflows/${workflowId}`} />
      <ViewingBanner canRestore={canEdit} />
      {!canEdit && role !== null && <div className="readonly-banner">Read only: your role in this workspace is viewer.</div>}
      <ConflictDialog />
      {runDialog && <RunDialog selection={runDialog} onClose={() => openRunDialog(null)} />}
      {dialog === "dag" && <Suspense fallback={null}><DagDialog onClose={() => setDialog(null)} /></Suspense>}
      {dialog === "help" && (
        <Modal title="Keyboard shortcuts" onClose={() => setDialog(null)}>
          <table className="table shortcuts">
            <tbody>{SHORTCUTS.map(([k, what]) => <tr key={k}><td><kbd>{k}</kbd></td><td>{what}</td></tr>)}</tbody>
          </table>
        </Modal>
      )}
    </div>
  );
}

export function Editor(props: { tenant: string; workflowId: number }) {
  return (
    <ReactFlowProvider>
      <EditorScreen {...props} />
    </ReactFlowProvider>
  );
}
