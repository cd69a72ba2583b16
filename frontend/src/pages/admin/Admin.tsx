// The tenant's admin area: one top bar and tabs over members, connections, alert channels, the audit log and settings.
import { useCallback, useEffect, useState } from "react";
import { endpoints } from "../../api/endpoints";
import type { TenantDetail } from "../../api/types";
import { type AdminSection, linkProps } from "../../router";
import { errorText } from "../../ui/errors";
import { TopBar } from "../TopBar";
import { AuditLog } from "./AuditLog";
import { Channels } from "./Channels";
import { Connections } from "./Connections";
import { Members } from "./Members";
import { Settings } from "./Settings";

const TITLES: Record<AdminSection, string> = { members: "Members", connections: "Connections", channels: "Alerts", audit: "Audit log", settings: "Settings" };

export function Admin({ tenant, section }: { tenant: string; section: AdminSection }) {
  const [info, setInfo] = useState<TenantDetail | null>(null);
  const [error, setError] = useState("");
  const reload = useCallback(() => {
    endpoints.tenant(tenant).then((t) => { setInfo(t); setError(""); }, (e) => setError(errorText(e)));
  }, [tenant]);
  useEffect(reload, [reload]);
  const base = `/t/${encodeURIComponent(tenant)}/admin`;

  return (
    <div className="page">
      <TopBar admin={info?.role === "admin" ? tenant : undefined}>
        <span className="crumb-sep">/</span>
        <a className="crumb" {...linkProps(`/t/${encodeURIComponent(tenant)}`)}>{info?.name ?? tenant}</a>
        <span className="crumb-sep">/</span>
        <span className="crumb">Admin</span>
      </TopBar>
      <main className="content">
        {error && <div className="form-error" role="alert">{error}</div>}
        {!info && !error && <div className="empty">Loading…</div>}
        {info && info.role !== "admin" && (
          <div className="empty" role="alert">Only the admins of {info.name} manage it. Ask one of them to change your role.</div>
        )}
        {info?.role === "admin" && <>
          <nav className="tabs admin-tabs" aria-label="Admin">
            {(Object.keys(TITLES) as AdminSection[]).map((s) => (
              <a key={s} className={`tab${s === section ? " active" : ""}`} aria-current={s === section ? "page" : undefined}
                {...linkProps(`${base}/${s}`)}>{TITLES[s]}</a>
            ))}
          </nav>
          {section === "members" && <Members tenant={tenant} />}
          {section === "connections" && <Connections tenant={tenant} />}
          {section === "channels" && <Channels tenant={tenant} />}
          {section === "audit" && <AuditLog tenant={tenant} />}
          {section === "settings" && <Settings tenant={info} onSaved={setInfo} />}
        </>}
      </main>
    </div>
  );
}
