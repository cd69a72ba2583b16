import { useEffect, useState } from "react";
import { ApiError } from "../api/client";
import { endpoints } from "../api/endpoints";
import type { Tenant } from "../api/types";
import { linkProps } from "../router";
import { TopBar } from "./TopBar";

export function Tenants() {
  const [tenants, setTenants] = useState<Tenant[] | null>(null);
  const [error, setError] = useState("");
  useEffect(() => {
    endpoints.tenants().then(setTenants, (e) => setError(e instanceof ApiError ? e.message : String(e)));
  }, []);
  return (
    <div className="page">
      <TopBar />
      <main className="content narrow-content">
        <h1>Workspaces</h1>
        <p className="muted">Pick the team whose workflows you want to work on.</p>
        {error && <div className="form-error">{error}</div>}
        {tenants && tenants.length === 0 && (
          <div className="empty">You are not a member of any workspace yet. Ask a tenant admin to add you.</div>
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
