// The platform admin's pages: every tenant (open one with its first admin, rename, deactivate)
// what each used over the last 30 days, and every tenant's audit log. Platform admins only; others see why not.
import { type PlatformSection, linkProps } from "../../router";
import { AuditLog } from "../admin/AuditLog";
import { useStore } from "../../store";
import { TopBar } from "../TopBar";
import { PlatformTenants } from "./PlatformTenants";
import { Usage } from "./Usage";

const TITLES: Record<PlatformSection, string> = { tenants: "Tenants", usage: "Usage", audit: "Audit log" };

export function Platform({ section }: { section: PlatformSection }) {
  const allowed = !!useStore((s) => s.user?.is_platform_admin);
  return (
    <div className="page">
      <TopBar>
        <span className="crumb-sep">/</span>
        <span className="crumb">Platform</span>
      </TopBar>
      <main className="content">
        {!allowed && <div className="empty" role="alert">Only platform admins manage tenants.</div>}
        {allowed && <>
          <nav className="tabs admin-tabs" aria-label="Platform">
            {(Object.keys(TITLES) as PlatformSection[]).map((s) => (
              <a key={s} className={`tab${s === section ? " active" : ""}`} aria-current={s === section ? "page" : undefined}
                {...linkProps(`/platform/${s}`)}>{TITLES[s]}</a>
            ))}
          </nav>
          {section === "tenants" && <PlatformTenants />}
          {section === "usage" && <Usage />}
          {section === "audit" && <AuditLog tenant={null} />}
        </>}
      </main>
    </div>
  );
}
