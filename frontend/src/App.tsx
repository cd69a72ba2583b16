import { useEffect, useState } from "react";
import { endpoints } from "./api/endpoints";
import { Editor } from "./editor/Editor";
import { Home } from "./pages/Home";
import { RunsPage } from "./pages/RunsPage";
import { Invitation } from "./pages/Invitation";
import { Admin } from "./pages/admin/Admin";
import { Platform } from "./pages/platform/Platform";
import { RunLink } from "./pages/RunLink";
import { Login } from "./pages/Login";
import { NotebookPage } from "./pages/NotebookPage";
import { Tenants } from "./pages/Tenants";
import { Tokens } from "./pages/Tokens";
import { linkProps, navigate, routeOf, useLocation } from "./router";
import { useStore } from "./store";
import { Toasts } from "./ui/Toasts";

export function App() {
  const { path } = useLocation();
  const user = useStore((s) => s.user);
  const setUser = useStore((s) => s.setUser);
  const [checked, setChecked] = useState(false);
  const route = routeOf(path);

  useEffect(() => {
    endpoints
      .me()
      .then((me) => setUser(me.user))
      .catch(() => setUser(null))
      .finally(() => setChecked(true));
  }, [setUser]);

  useEffect(() => {
    // An invitation link is for people without an account too: its page offers both ways in.
    if (checked && !user && route.page !== "login" && route.page !== "invitation") navigate(`/login?next=${encodeURIComponent(path)}`, { replace: true });
  }, [checked, user, route.page, path]);

  if (!checked) return <div className="splash">Loom</div>;
  return (
    <>
      {route.page === "login" && <Login />}
      {user && route.page === "tenants" && <Tenants />}
      {user && route.page === "tokens" && <Tokens />}
      {user && route.page === "home" && <Home tenant={route.tenant} />}
      {user && route.page === "runs" && <RunsPage key={route.tenant} tenant={route.tenant} />}
      {user && route.page === "notebook" && <NotebookPage key={route.notebook} tenant={route.tenant} id={route.notebook} />}
      {user && route.page === "editor" && <Editor key={`${route.tenant}/${route.workflow}`} tenant={route.tenant} workflowId={route.workflow} />}
      {user && route.page === "admin" && <Admin key={route.tenant} tenant={route.tenant} section={route.section} />}
      {user && route.page === "run" && <RunLink key={`${route.tenant}/${route.run}`} tenant={route.tenant} run={route.run} />}
      {user && route.page === "platform" && <Platform section={route.section} />}
      {route.page === "invitation" && <Invitation token={route.token} />}
      {user && route.page === "missing" && (
        <div className="centered-page">
          <div className="card narrow">
            <h1>Page not found</h1>
            <p className="muted">There is nothing at {path}.</p>
            <a className="button primary" {...linkProps("/")}>Go to your workspaces</a>
          </div>
        </div>
      )}
      <Toasts />
    </>
  );
}
