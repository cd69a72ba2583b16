import { useStore } from "../store";
import { Modal } from "../ui/Modal";

/** A stale save: someone saved in between. Reload theirs, or overwrite with ours. */
export function ConflictDialog() {
  const conflict = useStore((s) => s.conflict);
  const version = useStore((s) => s.version);
  const saving = useStore((s) => s.saving);
  const resolve = useStore((s) => s.resolveConflict);
  if (!conflict) return null;
  const by = conflict.current.updated_at ? new Date(conflict.current.updated_at).toLocaleString() : "";
  return (
    <Modal title="Someone else saved this workflow" onClose={() => resolve("cancel")} testId="conflict-dialog"
      footer={<>
        <button className="button" onClick={() => resolve("cancel")}>Keep editing</button>
        <button className="button" onClick={() => resolve("reload")} disabled={saving}>Reload version {conflict.current_version}</button>
        <button className="button danger" onClick={() => resolve("overwrite")} disabled={saving}>Overwrite with my changes</button>
      </>}>
      <p>
        You started from version {version}, but version {conflict.current_version} was saved{by ? ` at ${by}` : ""}. Your changes were not saved.
      </p>
      <ul className="muted small">
        <li><strong>Reload</strong> discards your changes and shows version {conflict.current_version}.</li>
        <li><strong>Overwrite</strong> saves your canvas as version {conflict.current_version + 1}; the other changes stay in the history.</li>
      </ul>
    </Modal>
  );
}
