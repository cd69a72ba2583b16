import type { RunStatus } from "../api/types";

const LABEL: Record<RunStatus, string> = {
  queued: "queued", running: "running", success: "success", failed: "failed",
  skipped: "skipped", upstream_failed: "upstream failed", cancelled: "cancelled",
};

export function StatusChip({ status, extra }: { status: RunStatus; extra?: string }) {
  return (
    <span className={`chip status-${status}`} data-status={status}>
      <span className="dot" />
      {LABEL[status] ?? status}
      {extra ? ` ${extra}` : ""}
    </span>
  );
}
