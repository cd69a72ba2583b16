import { useEffect, useState } from "react";
import { ApiError } from "../api/client";
import { endpoints } from "../api/endpoints";
import type { Tenant } from "../api/types";
import { linkProps, navigate, useLocation } from "../router";
import { TopBar } from "./TopBar";

/** localStorage key of the workspace opened last (Home sets it). */
export const LAST_WORKSPACE = "loom.tenant";

export function Tenants() {
  const [tenants, setTenants] = useState<Tenant[] | null>(null);
  const [error, setError] = useState("");
  const { search } = useLocation();
  const picking = search.has("all"); // "Switch workspace": show them all, go nowhere by itself
  useEffect(() => {
    endpoints.tenants().then((ts) => {
      // One workspace: straight in. Several: the last one used, unless asked to pick.
      const last = ts.find((t) => t.slug === localStorage.getItem(LAST_WORKSPACE));
      const into = ts.length === 1 ? ts[0] : picking ? undefined : last;
      if (into) navigate(`/t/${into.slug}`, { replace: true });
      else setTenants(ts);
    }, (e) => setError(e instanceof ApiError ? e.message : String(e)));
  }, [picking]);
  return (
    <div className="page">
      <TopBar />
      <main className="content narrow-content">
        <h1>Workspaces</h1>
        <p className="muted">Pick the team whose workflows you want to work on.</p>
        {error && <div className="form-error">{error}</div>}
        {tenants && tenants.length === 0 && (
          <div className="empty">You are not a member of any workspace yet. Ask an admin of the workspace to add you.</div>
        )}
        <ul className="tenant-list">
          {tenants?.map((t) => (
            <li key={t.slug}>
              <a className="tenant-card" {...linkProps(`/t/${t.slug}`)}>
                <span className="tenant-avatar">{t.name.slice(0, 1).toUpperCase()}</span>
                <span className="tenant-name">{t.name}</span>
                <span className="muted small">{t.slug}</span>
                <span className="chip">{t.role}</span>
              </a>
            </li>
          ))}
        </ul>
      </main>
    </div>
  );
}
