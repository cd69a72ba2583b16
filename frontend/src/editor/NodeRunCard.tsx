import { useEffect, useState } from "react";
import { ApiError } from "../api/client";
import { endpoints } from "../api/endpoints";
import type { NodeItem, NodeRun } from "../api/types";
import { useStore } from "../store";
import { Modal } from "../ui/Modal";
import { StatusChip } from "../ui/StatusChip";
import { duration } from "../ui/format";
import { staticHtml } from "../ui/notebookHtml";
import { LiveLog } from "./LiveLog";

function traceback(tb: string | string[] | null): string {
  if (!tb) return "";
  const text = Array.isArray(tb) ? tb.join("\n") : tb;
  // nbconvert tracebacks carry ANSI colours; a <pre> shows them as noise.
  // eslint-disable-next-line no-control-regex
  return text.replace(/\u001b\[[0-9;]*m/g, "");
}

/**
 * The executed notebook as nbconvert's HTML. It is fetched and shown through srcdoc in a
 * sandbox without scripts: the page may be framed even though the API refuses framing
 * (X-Frame-Options), and nothing a notebook printed can run in Loom's origin.
 */
function NotebookViewer({ url, title, onClose }: { url: string; title: string; onClose: () => void }) {
  const [html, setHtml] = useState<string | null>(null);
  const [error, setError] = useState("");
  useEffect(() => {
    endpoints.text(url, "text/html").then((h) => setHtml(staticHtml(h)), (e) => setError(e instanceof ApiError ? e.message : String(e)));
  }, [url]);
  return (
    <Modal title={`Executed notebook · ${title}`} wide onClose={onClose} testId="notebook-viewer">
      {error && <div className="callout callout-error" role="alert">{error}</div>}
      {html === null && !error && <p className="muted">Loading the executed notebook…</p>}
      {html !== null && <iframe className="notebook-frame" title={`Executed notebook ${title}`} sandbox="" srcDoc={html} />}
    </Modal>
  );
}

/** An item's label: its value (`acme`), else its index. */
export function itemLabel(item: NodeItem): string {
  const v = item.item;
  if (v === null || v === undefined) return `[${item.map_index}]`;
  const text = typeof v === "string" ? v : JSON.stringify(v);
  return text.length > 60 ? `${text.slice(0, 59)}…` : text;
}

export function NodeRunCard({ node, nr, runId, summary, label }: {
  node: string; nr: NodeRun | NodeItem; runId: number; summary: boolean; label?: string;
}) {
  const tenant = useStore((s) => s.tenant);
  const [open, setOpen] = useState(false);
  const title = label ?? (summary ? `${node} (all items)` : node);
  // The summary row of a fanned-out node gathers its items' outputs; it ran no notebook itself.
  const hasNotebook = !summary && !["queued", "upstream_failed", "skipped", "cancelled"].includes(nr.status);
  return (
    <div className="run-card" data-testid={`node-run-${node}${nr.map_index === null ? "" : `-${nr.map_index}`}`}>
      <div className="run-card-head">
        <strong className="mono">{title}</strong>
        <StatusChip status={nr.status} />
        <span className="spacer" />
        <span className="muted small">{nr.attempts} attempt{nr.attempts === 1 ? "" : "s"}{nr.started_at ? ` · ${duration(nr.started_at, nr.ended_at)}` : ""}</span>
      </div>
      {Object.keys(nr.outputs ?? {}).length > 0 && (
        <dl className="outputs">
          {Object.entries(nr.outputs).map(([k, v]) => (
            <div key={k} className="output-value"><dt className="mono">{k}</dt><dd className="mono">{JSON.stringify(v)}</dd></div>
          ))}
        </dl>
      )}
      {nr.warnings?.map((w) => <div key={w} className="run-warning" role="alert">{w}</div>)}
      {nr.error && (
        <div className="run-error" role="alert">
          <div className="strong">{nr.error.message}</div>
          {nr.error.cell_index !== null && nr.error.cell_index !== undefined && <div className="muted small">in cell {nr.error.cell_index}</div>}
          {nr.error.cell_source && <pre className="code-block small">{nr.error.cell_source}</pre>}
          {nr.error.traceback && <details><summary>Traceback</summary><pre className="code-block small">{traceback(nr.error.traceback)}</pre></details>}
        </div>
      )}
      {!summary && !["queued", "upstream_failed", "skipped"].includes(nr.status) && (
        <LiveLog runId={runId} node={node} mapIndex={nr.map_index} status={nr.status} />
      )}
      {hasNotebook && (
        <div className="run-card-actions">
          <button className="button small" onClick={() => setOpen(true)}>Open executed notebook</button>
          <a className="button ghost small" href={endpoints.notebookIpynbUrl(tenant, runId, node, nr.map_index)} download title="Download the executed .ipynb">.ipynb</a>
        </div>
      )}
      {open && <NotebookViewer url={endpoints.notebookHtmlUrl(tenant, runId, node, nr.map_index)} title={title} onClose={() => setOpen(false)} />}
    </div>
  );
}
