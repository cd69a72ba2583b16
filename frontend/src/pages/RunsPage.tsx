import { useEffect, useRef, useState } from "react";
import { ApiError } from "../api/client";
import { endpoints } from "../api/endpoints";
import type { RunListItem, WorkflowListItem } from "../api/types";
import { CompareDialog } from "../editor/CompareDialog";
import { linkProps } from "../router";
import { StatusChip } from "../ui/StatusChip";
import { timeAgo } from "../ui/format";
import { TopBar } from "./TopBar";

const STATUSES = ["queued", "running", "success", "failed", "skipped", "upstream_failed", "cancelled"];
const TRIGGERS = ["manual", "api", "schedule", "backfill", "airflow"];
const PAGE = 50;
// <input type="datetime-local"> gives local time without a zone; the API wants ISO 8601 with one.
const iso = (local: string) => (local ? new Date(local).toISOString() : "");

/** Every run of the workspace, filtered by workflow, status, trigger and time; two picked runs compared. */
export function RunsPage({ tenant }: { tenant: string }) {
  const [workflows, setWorkflows] = useState<WorkflowListItem[]>([]);
  const [filters, setFilters] = useState({ workflow: "", status: "", trigger: "", since: "", until: "" });
  const [runs, setRuns] = useState<RunListItem[] | null>(null);
  const [count, setCount] = useState(0);
  const [error, setError] = useState("");
  const [picked, setPicked] = useState<number[]>([]);
  const [comparing, setComparing] = useState(false);

  useEffect(() => {
    endpoints.workflows(tenant).then(setWorkflows, () => setWorkflows([]));
  }, [tenant]);

  const query = { ...filters, since: iso(filters.since), until: iso(filters.until), limit: PAGE };
  const key = `${tenant} ${JSON.stringify(filters)}`;
  const shown = useRef(key); // the query whose answers the list shows: an older one's answer comes too late
  useEffect(() => {
    shown.current = key;
    endpoints.tenantRuns(tenant, query).then(
      (page) => { if (shown.current === key) { setRuns(page.results); setCount(page.count); setError(""); } },
      (e) => shown.current === key && setError(e instanceof ApiError ? e.message : String(e)));
    // The query is rebuilt each render; the filters are what it depends on.
  }, [key]);

  const more = async () => {
    const asked = key;
    try {
      const page = await endpoints.tenantRuns(tenant, { ...query, offset: runs?.length ?? 0 });
      if (shown.current === asked) setRuns((r) => [...(r ?? []), ...page.results]);
    } catch (e) {
      if (shown.current === asked) setError(e instanceof ApiError ? e.message : String(e));
    }
  };
  const set = (name: keyof typeof filters) => (e: { target: { value: string } }) => setFilters((f) => ({ ...f, [name]: e.target.value }));
  const pick = (id: number) => setPicked((p) => (p.includes(id) ? p.filter((x) => x !== id) : [...p, id].slice(-2)));

  return (
    <div className="page">
      <TopBar>
        <span className="crumb-sep">/</span>
        <a className="crumb" {...linkProps(`/t/${encodeURIComponent(tenant)}`)}>{tenant}</a>
        <span className="crumb-sep">/</span>
        <span className="crumb">Runs</span>
      </TopBar>
      <main className="content">
        <section className="section">
          <div className="section-head"><h1>Runs</h1></div>
          <div className="runs-filters" role="search">
            <label className="field compact"><span>Workflow</span>
              <select className="input" aria-label="Workflow" value={filters.workflow} onChange={set("workflow")}>
                <option value="">all</option>
                {workflows.map((w) => <option key={w.id} value={w.id}>{w.name}</option>)}
              </select>
            </label>
            <label className="field compact"><span>Status</span>
              <select className="input" aria-label="Status" value={filters.status} onChange={set("status")}>
                <option value="">all</option>
                {STATUSES.map((s) => <option key={s} value={s}>{s}</option>)}
              </select>
            </label>
            <label className="field compact"><span>Trigger</span>
              <select className="input" aria-label="Trigger" value={filters.trigger} onChange={set("trigger")}>
                <option value="">all</option>
                {TRIGGERS.map((s) => <option key={s} value={s}>{s}</option>)}
              </select>
            </label>
            <label className="field compact"><span>From</span>
              <input className="input" type="datetime-local" aria-label="From" value={filters.since} onChange={set("since")} />
            </label>
            <label className="field compact"><span>Until</span>
              <input className="input" type="datetime-local" aria-label="Until" value={filters.until} onChange={set("until")} />
            </label>
            <button className="button primary" disabled={picked.length !== 2} onClick={() => setComparing(true)}
              title="Tick two runs to compare them">Compare {picked.length === 2 ? `#${Math.min(...picked)} → #${Math.max(...picked)}` : "two runs"}</button>
          </div>
          {error && <div className="callout callout-error" role="alert">{error}</div>}
          {runs && runs.length === 0 && <div className="empty">No run matches.</div>}
          {runs && runs.length > 0 && (
            <table className="runs-table" aria-label="Runs">
              <thead><tr><th /><th>Run</th><th>Workflow</th><th>Status</th><th>Trigger</th><th>By</th><th>Version</th><th>Parameters</th><th>Duration</th><th>Started</th></tr></thead>
              <tbody>{runs.map((r) => (
                <tr key={r.id} data-testid={`run-row-${r.id}`}>
                  <td><input type="checkbox" aria-label={`Pick run #${r.id}`} checked={picked.includes(r.id)} onChange={() => pick(r.id)} /></td>
                  <td className="mono">#{r.id}</td>
                  <td><a {...linkProps(`/t/${encodeURIComponent(tenant)}/workflows/${r.workflow}`)}>{r.workflow_name}</a></td>
                  <td><StatusChip status={r.status} /></td>
                  <td>{r.trigger}</td>
                  <td>{r.created_by ?? "—"}</td>
                  <td>v{r.version} · {r.engine}</td>
                  <td className="mono small">{Object.entries(r.parameters_changed ?? {}).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(", ") || "defaults"}</td>
                  <td>{r.duration_s !== null && r.duration_s !== undefined ? `${r.duration_s.toFixed(1)}s` : "—"}</td>
                  <td className="muted small" title={r.created_at}>{timeAgo(r.created_at)}</td>
                </tr>
              ))}</tbody>
            </table>
          )}
          {runs && runs.length < count && <button className="button" onClick={more}>More ({count - runs.length} left)</button>}
        </section>
      </main>
      {comparing && picked.length === 2 && (
        <CompareDialog tenant={tenant} run={Math.max(...picked)} other={Math.min(...picked)} onClose={() => setComparing(false)} />
      )}
    </div>
  );
}
