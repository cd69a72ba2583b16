// Client-side routes on the History API; Django answers index.html for each of them.
import { useSyncExternalStore } from "react";

const listeners = new Set<() => void>();
const here = () => location.pathname + location.search;
let current = here();

/** Decides whether the page may go to `to`; false keeps it (the guard then asks the user, and
 * calls navigate(to, { force: true }) if they choose to leave). One at a time: the editor's. */
export type LeaveGuard = (to: string) => boolean;
let guard: LeaveGuard | null = null;

export function setLeaveGuard(g: LeaveGuard | null): void {
  guard = g;
}

export function navigate(to: string, opts: { replace?: boolean; force?: boolean } = {}): void {
  if (to === here()) return;
  if (!opts.force && guard && !guard(to)) return;
  if (opts.replace) history.replaceState(null, "", to);
  else history.pushState(null, "", to);
  current = to;
  listeners.forEach((l) => l());
}

// Back and Forward cannot be cancelled: a refused one puts the page's address back.
window.addEventListener("popstate", () => {
  const to = here();
  if (guard && !guard(to)) {
    history.pushState(null, "", current);
    return;
  }
  current = to;
  listeners.forEach((l) => l());
});

function subscribe(l: () => void) {
  listeners.add(l);
  return () => {
    listeners.delete(l);
  };
}

export function useLocation(): { path: string; search: URLSearchParams } {
  const href = useSyncExternalStore(subscribe, () => location.pathname + location.search);
  const url = new URL(href, location.origin);
  return { path: url.pathname, search: url.searchParams };
}

export type Route =
  | { page: "login" }
  | { page: "tenants" }
  | { page: "tokens" }
  | { page: "home"; tenant: string }
  | { page: "editor"; tenant: string; workflow: number }
  | { page: "admin"; tenant: string; section: AdminSection }
  | { page: "invitation"; token: string }
  | { page: "run"; tenant: string; run: number }
  | { page: "platform"; section: PlatformSection }
  | { page: "notebook"; tenant: string; notebook: number }
  | { page: "runs"; tenant: string }
  | { page: "missing" };

export const ADMIN_SECTIONS = ["members", "connections", "channels", "audit", "settings"] as const;
export type AdminSection = (typeof ADMIN_SECTIONS)[number];
export const PLATFORM_SECTIONS = ["tenants", "usage", "audit"] as const;
export type PlatformSection = (typeof PLATFORM_SECTIONS)[number];

export function routeOf(path: string): Route {
  if (path === "/login") return { page: "login" };
  if (path === "/" || path === "") return { page: "tenants" };
  if (path === "/account/tokens" || path === "/account/tokens/") return { page: "tokens" };
  let m = path.match(/^\/t\/([^/]+)\/?$/);
  if (m) return { page: "home", tenant: decodeURIComponent(m[1]) };
  m = path.match(/^\/t\/([^/]+)\/notebooks\/(\d+)\/?$/);
  if (m) return { page: "notebook", tenant: decodeURIComponent(m[1]), notebook: Number(m[2]) };
  m = path.match(/^\/t\/([^/]+)\/runs\/?$/);
  if (m) return { page: "runs", tenant: decodeURIComponent(m[1]) };
  m = path.match(/^\/t\/([^/]+)\/workflows\/(\d+)\/?$/);
  if (m) return { page: "editor", tenant: decodeURIComponent(m[1]), workflow: Number(m[2]) };
  m = path.match(/^\/t\/([^/]+)\/runs\/(\d+)\/?$/);
  if (m) return { page: "run", tenant: decodeURIComponent(m[1]), run: Number(m[2]) };
  m = path.match(/^\/platform(?:\/(tenants|usage|audit))?\/?$/);
  if (m) return { page: "platform", section: (m[1] ?? "tenants") as PlatformSection };
  m = path.match(/^\/t\/([^/]+)\/admin(?:\/(members|connections|channels|audit|settings))?\/?$/);
  if (m) return { page: "admin", tenant: decodeURIComponent(m[1]), section: (m[2] ?? "members") as AdminSection };
  m = path.match(/^\/invitations\/([^/]+)\/?$/);
  if (m) return { page: "invitation", token: decodeURIComponent(m[1]) };
  return { page: "missing" };
}

/** A link that navigates without reloading the page. */
export function linkProps(to: string) {
  return {
    href: to,
    onClick: (e: { preventDefault: () => void; metaKey: boolean; ctrlKey: boolean; button: number }) => {
      if (e.metaKey || e.ctrlKey || e.button !== 0) return;
      e.preventDefault();
      navigate(to);
    },
  };
}
