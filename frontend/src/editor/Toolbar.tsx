import { linkProps } from "../router";
import { useStore } from "../store";
import { StatusChip } from "../ui/StatusChip";
import { useFitAll } from "./useFitAll";

export function Toolbar(props: { tenant: string; readOnly: boolean; onRun: () => void; onDag: () => void; onHelp: () => void }) {
  const name = useStore((s) => s.meta.name);
  const version = useStore((s) => s.version);
  const dirty = useStore((s) => s.dirty);
  const saving = useStore((s) => s.saving);
  const errors = useStore((s) => s.errors.length);
  const canUndo = useStore((s) => s.history.past.length > 0);
  const canRedo = useStore((s) => s.history.future.length > 0);
  const run = useStore((s) => s.run);
  const { undo, redo, save, autoLayout, setPanel } = useStore.getState();
  const fitAll = useFitAll();
  const fit = () => fitAll();

  return (
    <header className="topbar editor-bar">
      <a className="brand" {...linkProps("/")}><span className="brand-mark">L</span></a>
      <a className="button ghost small" {...linkProps(`/t/${props.tenant}`)} aria-label="Back to workflows">← Workflows</a>
      <div className="editor-title">
        <span className="workflow-name" data-testid="workflow-title">{name || "Untitled"}</span>
        <span className="chip" data-testid="version">v{version}</span>
        {saving ? <span className="muted small">Saving…</span> : dirty ? <span className="unsaved small" data-testid="dirty">● Unsaved changes</span> : <span className="muted small" data-testid="saved">Saved</span>}
        {errors > 0 && <button className="chip chip-error" onClick={() => setPanel("workflow")} data-testid="problem-count">{errors} problem{errors > 1 ? "s" : ""}</button>}
        {run && <button className="chip-button" onClick={() => setPanel("runs")} title="Show the run"><StatusChip status={run.status} extra={`#${run.id}`} /></button>}
      </div>
      <div className="toolbar-actions">
        {!props.readOnly && <>
          <button className="icon-button" onClick={undo} disabled={!canUndo} title="Undo (Ctrl/⌘ Z)" aria-label="Undo">↶</button>
          <button className="icon-button" onClick={redo} disabled={!canRedo} title="Redo (Ctrl/⌘ Shift Z)" aria-label="Redo">↷</button>
          <button className="button ghost small" onClick={() => { autoLayout(); requestAnimationFrame(fit); }} title="Automatic layout (L)">Layout</button>
        </>}
        <button className="button ghost small" onClick={fit} title="Fit at a readable zoom (F); Shift F: the whole graph">Fit</button>
        <button className="button ghost small" onClick={props.onHelp} title="Keyboard shortcuts" aria-label="Keyboard shortcuts">?</button>
        <button className="button small" onClick={props.onDag} title="The Airflow DAG file of the saved version">DAG code</button>
        {!props.readOnly && <>
          <button className="button small" onClick={() => save()} disabled={saving} title="Save (Ctrl/⌘ S)">Save</button>
          <button className="button primary small" onClick={props.onRun} title="Run (Ctrl/⌘ Enter)">▶ Run</button>
        </>}
      </div>
    </header>
  );
}
