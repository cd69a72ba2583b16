import { useEffect, useState } from "react";
import { navigate, setLeaveGuard } from "../router";
import { useStore } from "../store";
import { Modal } from "../ui/Modal";
import { timeAgo } from "../ui/format";

/** Ask before the editor is left with unsaved changes (links, workspace switch, Back, closing the tab). */
export function LeaveGuard({ path }: { path: string }) {
  const [leaving, setLeaving] = useState<string | null>(null);
  const saving = useStore((s) => s.saving);

  useEffect(() => {
    // Staying on this workflow (a run in the address) is not leaving.
    setLeaveGuard((to) => {
      const toPath = to.split("?")[0].replace(/\/$/, "");
      if (!useStore.getState().dirty || toPath === path) return true;
      setLeaving(to);
      return false;
    });
    const warn = (e: BeforeUnloadEvent) => {
      if (useStore.getState().dirty) e.preventDefault();
    };
    window.addEventListener("beforeunload", warn);
    return () => {
      setLeaveGuard(null);
      window.removeEventListener("beforeunload", warn);
    };
  }, [path]);

  if (leaving === null) return null;
  const go = () => {
    setLeaving(null);
    navigate(leaving, { force: true });
  };
  const saveAndGo = async () => {
    if (await useStore.getState().save()) go();
    else setLeaving(null);
  };
  return (
    <Modal title="Leave with unsaved changes?" onClose={() => setLeaving(null)} testId="leave-dialog"
      footer={<>
        <button className="button" onClick={() => setLeaving(null)} autoFocus>Stay</button>
        <button className="button" onClick={go}>Leave</button>
        <button className="button primary" onClick={saveAndGo} disabled={saving}>Save and leave</button>
      </>}>
      <p>Your changes to this workflow are not saved as a version.</p>
      <p className="muted small">If you leave, they stay as a draft in this browser and are offered back when you open the workflow again.</p>
    </Modal>
  );
}

/** Says the canvas is a draft kept from an earlier visit, with a way to throw it away. */
export function DraftBanner() {
  const draft = useStore((s) => s.restoredDraft);
  const discard = useStore((s) => s.discardDraft);
  const [hidden, setHidden] = useState(false);
  if (!draft || hidden) return null;
  return (
    <div className="draft-banner" role="status" data-testid="draft-banner">
      <span><strong>Restored your unsaved changes</strong> <span className="muted">(kept {timeAgo(draft.savedAt)}, started from version {draft.version})</span></span>
      <button className="button small" onClick={() => void discard()}>Discard</button>
      <button className="button ghost small" onClick={() => setHidden(true)} aria-label="Keep the changes">Keep</button>
    </div>
  );
}
