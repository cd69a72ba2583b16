import type { ReactNode } from "react";
import { endpoints } from "../api/endpoints";
import { linkProps, navigate } from "../router";
import { useStore } from "../store";

/** `admin`: the tenant whose admin pages the user may open (tenant admins only: others never see the link). */
export function TopBar({ children, admin }: { children?: ReactNode; admin?: string }) {
  const user = useStore((s) => s.user);
  const setUser = useStore((s) => s.setUser);
  const toast = useStore((s) => s.toast);
  const logout = async () => {
    try {
      await endpoints.logout();
      setUser(null);
      navigate("/login");
    } catch (e) {
      toast("error", `Could not log out: ${String(e)}`);
    }
  };
  return (
    <header className="topbar">
      <a className="brand" {...linkProps("/")}><span className="brand-mark">L</span> Loom</a>
      <div className="topbar-main">{children}</div>
      {user && (
        <div className="topbar-user">
          {admin && <a className="button ghost small" {...linkProps(`/t/${encodeURIComponent(admin)}/admin`)}>Admin</a>}
          <span className="muted">{user.username}</span>
          <a className="button ghost small" {...linkProps("/account/tokens")}>API tokens</a>
          <button className="button ghost small" onClick={logout}>Log out</button>
        </div>
      )}
    </header>
  );
}
