// Usage per tenant over the last 30 days: runs, failures, node-hours; artifacts on disk now.
import { useEffect, useState } from "react";
import { endpoints } from "../../api/endpoints";
import type { TenantUsage } from "../../api/types";
import { linkProps } from "../../router";
import { errorText } from "../../ui/errors";

const DAYS = 30;

export function bytesText(n: number): string {
  const units = ["B", "kB", "MB", "GB", "TB"];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) { n /= 1000; i += 1; }
  return `${i ? n.toFixed(1) : n} ${units[i]}`;
}

export function Usage() {
  const [rows, setRows] = useState<TenantUsage[] | null>(null);
  const [error, setError] = useState("");
  useEffect(() => { endpoints.platformUsage(DAYS).then(setRows, (e) => setError(errorText(e))); }, []);
  return (
    <section className="section">
      <div className="section-head"><h1>Usage</h1></div>
      <p className="muted">Runs created, runs failed and hours notebooks ran over the last {DAYS} days; the artifacts each tenant keeps on the local engine's disk now.</p>
      {error && <div className="form-error" role="alert">{error}</div>}
      {!rows && !error && <div className="empty">Loading…</div>}
      {rows?.length === 0 && <div className="empty">No tenants yet.</div>}
      {rows && rows.length > 0 && (
        <table className="table" aria-label="Usage per tenant">
          <thead><tr><th>Tenant</th><th className="num">Runs</th><th className="num">Failed runs</th><th className="num">Node-hours</th><th className="num">Artifacts</th></tr></thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.tenant} data-testid={`usage-${r.tenant}`}>
                <td>
                  <a className="strong" {...linkProps(`/t/${encodeURIComponent(r.tenant)}`)}>{r.name}</a> <span className="muted small mono">{r.tenant}</span>
                  {!r.is_active && <span className="chip"> deactivated</span>}
                </td>
                <td className="num">{r.runs}</td>
                <td className={`num${r.failed_runs ? " danger-text" : ""}`}>{r.failed_runs}</td>
                <td className="num">{r.node_hours.toFixed(2)}</td>
                <td className="num">{bytesText(r.artifacts_bytes)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
