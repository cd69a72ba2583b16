import { type ReactNode, useEffect, useState } from "react";
import { endpoints } from "../api/endpoints";
import type { Tenant } from "../api/types";
import { linkProps, navigate, useLocation } from "../router";
import { useStore } from "../store";

// The user's workspaces, asked once per page load (the switcher is on every page).
let workspaces: Promise<Tenant[]> | null = null;
export function workspacesForget(): void {
  workspaces = null;
}

/** `admin`: the tenant whose admin pages the user may open (tenant admins only: others never see
 * the link). The workspace switcher shows when the user has more than one workspace; Platform
 * only for platform admins. */
export function TopBar({ children, admin }: { children?: ReactNode; admin?: string }) {
  const user = useStore((s) => s.user);
  const setUser = useStore((s) => s.setUser);
  const toast = useStore((s) => s.toast);
  const { path } = useLocation();
  const current = decodeURIComponent(path.match(/^\/t\/([^/]+)/)?.[1] ?? "");
  const [tenants, setTenants] = useState<Tenant[]>([]);
  useEffect(() => {
    if (!user) return;
    workspaces ??= endpoints.tenants();
    workspaces.then(setTenants, () => { workspaces = null; });
  }, [user]);
  const logout = async () => {
    try {
      await endpoints.logout();
      workspacesForget();
      setUser(null);
      navigate("/login");
    } catch (e) {
      toast("error", `Could not log out: ${String(e)}`);
    }
  };
  const switchable = tenants.length > 1 || (tenants.length === 1 && tenants[0].slug !== current);
  return (
    <header className="topbar">
      <a className="brand" {...linkProps("/")}><span className="brand-mark">L</span> Loom</a>
      {user && switchable && (
        <label className="switcher">
          <select aria-label="Workspace" value={current} onChange={(e) => navigate(`/t/${encodeURIComponent(e.target.value)}`)}>
            {!tenants.some((t) => t.slug === current) && <option value={current}>Switch workspace…</option>}
            {tenants.map((t) => <option key={t.slug} value={t.slug}>{t.name}</option>)}
          </select>
        </label>
      )}
      <div className="topbar-main">{children}</div>
      {user && (
        <div className="topbar-user">
          {admin && <a className="button ghost small" {...linkProps(`/t/${encodeURIComponent(admin)}/admin`)}>Admin</a>}
          {user.is_platform_admin && <a className="button ghost small" {...linkProps("/platform")}>Platform</a>}
          <span className="muted">{user.username}</span>
          <a className="button ghost small" {...linkProps("/account/tokens")}>API tokens</a>
          <button className="button ghost small" onClick={logout}>Log out</button>
        </div>
      )}
    </header>
  );
}
