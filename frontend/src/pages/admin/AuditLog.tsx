// An audit log: filters by person, action, object and time (the API's own filters, applied on
// submit), newest first, "Load more" following the server's cursor; each entry links to what it
// concerns (a run, a workflow version, a connection, a notebook, a member). The tenant's for its
// admins; with tenant={null} every tenant's, for platform admins, with a tenant filter and column.
import { type FormEvent, useCallback, useEffect, useRef, useState } from "react";
import { endpoints } from "../../api/endpoints";
import type { AuditAction, AuditEntry, Json } from "../../api/types";
import { linkProps } from "../../router";
import { errorText } from "../../ui/errors";

const ACTIONS: AuditAction[] = [
  "workflow.created", "workflow.saved", "workflow.deleted", "notebook.uploaded", "notebook.deleted", "run.started",
  "run.cancelled", "run.repaired", "deployment.deployed", "deployment.undeployed", "deployment.paused", "deployment.resumed",
  "backfill.cancelled", "connection.created", "connection.changed", "connection.deleted", "channel.created", "channel.changed",
  "channel.deleted", "member.added", "member.changed", "member.removed", "invitation.created", "invitation.accepted",
  "invitation.revoked", "tenant.created", "tenant.changed", "tenant.deleted", "token.created", "token.revoked",
];
const OBJECT_TYPES = ["workflow", "run", "deployment", "backfill", "notebook", "connection", "channel", "member", "invitation", "tenant"];
const ACTORS = ["system", "scheduler", "airflow"];
const EMPTY = { tenant: "", actor: "", action: "", object_type: "", object_id: "", since: "", until: "" };
type Filters = typeof EMPTY;

/** datetime-local (the browser's zone) to ISO 8601 for the API. */
const iso = (local: string) => (local ? new Date(local).toISOString() : "");

/** What differs between a tenant's log and the platform's: where it is read, and the filters' choices. */
function scopeOf(tenant: string | null) {
  const platform = tenant === null;
  const actions: AuditAction[] = platform ? [...ACTIONS, "login.failed"] : ACTIONS;
  return {
    platform,
    actions,
    categories: [...new Set(actions.map((a) => a.split(".")[0]))],
    actors: platform ? [...ACTORS, "anonymous"] : ACTORS,
    objectTypes: platform ? [...OBJECT_TYPES, "user"] : OBJECT_TYPES,
  };
}

export function AuditLog({ tenant }: { tenant: string | null }) {
  const scope = scopeOf(tenant);
  const [draft, setDraft] = useState<Filters>(EMPTY);
  const [filters, setFilters] = useState<Filters>(EMPTY);
  const [entries, setEntries] = useState<AuditEntry[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [people, setPeople] = useState<string[]>([]);
  const [tenants, setTenants] = useState<string[]>([]);
  const [error, setError] = useState("");
  const [loading, setLoading] = useState(false);

  // Only the newest query's answer is shown: an older one arriving later (the page's first load
  // answering after a filter was applied) must not put back entries the filters exclude.
  const latest = useRef(0);
  const load = useCallback(async (cursor?: string) => {
    const ticket = ++latest.current;
    setLoading(true);
    try {
      const page = await endpoints.audit(tenant, { ...filters, since: iso(filters.since), until: iso(filters.until) }, cursor);
      if (ticket !== latest.current) return;
      setEntries((old) => (cursor && old ? [...old, ...page.results] : page.results));
      setNext(page.next);
      setError("");
    } catch (e) {
      if (ticket !== latest.current) return;
      setError(errorText(e));
      if (!cursor) setEntries(null);
    }
    setLoading(false);
  }, [tenant, filters]);
  useEffect(() => { load(); }, [load]);
  useEffect(() => {
    if (tenant === null) {
      endpoints.platformTenants().then((ts) => setTenants(ts.map((t) => t.slug)), () => setTenants([]));
    } else {
      endpoints.members(tenant).then((ms) => setPeople(ms.map((m) => m.username)), () => setPeople([]));
    }
  }, [tenant]);

  const apply = (e: FormEvent) => {
    e.preventDefault();
    setFilters({ ...draft });
  };
  const set = (k: keyof Filters) => (e: { target: { value: string } }) => setDraft((d) => ({ ...d, [k]: e.target.value }));
  const filtered = Object.values(filters).some(Boolean);

  return (
    <section className="section">
      <div className="section-head"><h1>Audit log</h1></div>
      <form className="audit-filters" onSubmit={apply} aria-label="Filter the audit log">
        {scope.platform && (
          <label className="field">
            <span>Tenant</span>
            <select value={draft.tenant} onChange={set("tenant")}>
              <option value="">any</option>
              {tenants.map((t) => <option key={t} value={t}>{t}</option>)}
            </select>
          </label>
        )}
        <label className="field">
          <span>Person</span>
          <input list="audit-people" value={draft.actor} onChange={set("actor")} placeholder="anyone" />
          <datalist id="audit-people">
            {people.map((p) => <option key={p} value={p} />)}
            {scope.actors.map((a) => <option key={a} value={a} />)}
          </datalist>
        </label>
        <label className="field">
          <span>Action</span>
          <select value={draft.action} onChange={set("action")}>
            <option value="">any</option>
            <optgroup label="Every action of">{scope.categories.map((c) => <option key={c} value={c}>{c}.*</option>)}</optgroup>
            <optgroup label="One action">{scope.actions.map((a) => <option key={a} value={a}>{a}</option>)}</optgroup>
          </select>
        </label>
        <label className="field">
          <span>Object</span>
          <select value={draft.object_type} onChange={set("object_type")}>
            <option value="">any</option>
            {scope.objectTypes.map((t) => <option key={t} value={t}>{t}</option>)}
          </select>
        </label>
        <label className="field small-field">
          <span>Object id</span>
          <input value={draft.object_id} onChange={set("object_id")} inputMode="numeric" />
        </label>
        <label className="field">
          <span>From</span>
          <input type="datetime-local" value={draft.since} onChange={set("since")} />
        </label>
        <label className="field">
          <span>Until</span>
          <input type="datetime-local" value={draft.until} onChange={set("until")} />
        </label>
        <div className="audit-filter-actions">
          <button className="button primary" type="submit">Filter</button>
          {filtered && <button className="button ghost" type="button" onClick={() => { setDraft(EMPTY); setFilters(EMPTY); }}>Clear</button>}
        </div>
      </form>
      {error && <div className="form-error" role="alert">{error}</div>}
      {!entries && !error && <div className="empty">Loading…</div>}
      {entries?.length === 0 && (
        <div className="empty">{filtered ? "No entry matches these filters." : scope.platform ? "Nothing has happened on this platform yet." : "Nothing has happened in this workspace yet."}</div>
      )}
      {entries && entries.length > 0 && (
        <table className="table audit-table" aria-label="Audit log">
          <thead><tr><th>When</th>{scope.platform && <th>Tenant</th>}<th>Who</th><th>Action</th><th>Concerns</th><th>Details</th></tr></thead>
          <tbody>
            {entries.map((e) => (
              <tr key={e.id} data-testid={`audit-${e.id}`}>
                <td className="small nowrap" title={e.at}>{new Date(e.at).toLocaleString()}</td>
                {scope.platform && <td>{e.tenant ? <a {...linkProps(`/t/${encodeURIComponent(e.tenant)}`)}>{e.tenant}</a> : <span className="muted">—</span>}</td>}
                <td>{e.actor}{e.actor_kind !== "user" && e.actor !== e.actor_kind && <span className="muted small"> ({e.actor_kind})</span>}</td>
                <td><span className="chip mono">{e.action}</span></td>
                <td><EntryLink tenant={tenant ?? e.tenant} entry={e} /></td>
                <td className="small muted audit-details">{details(e)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {next && <button className="button ghost load-more" disabled={loading} onClick={() => load(next)}>{loading ? "Loading…" : "Load more"}</button>}
    </section>
  );
}

function field(obj: Json | undefined, key: string): Json | undefined {
  return obj && typeof obj === "object" && !Array.isArray(obj) ? (obj as Record<string, Json>)[key] : undefined;
}

/** Where an entry's object lives in the app, or null when nothing shows it (deleted, a login). */
export function entryHref(tenant: string, e: AuditEntry): string | null {
  const t = `/t/${encodeURIComponent(tenant)}`;
  if (!tenant || e.action.endsWith(".deleted") || e.action === "member.removed" || !e.object_id) return null;
  switch (e.object_type) {
    case "run": return `${t}/runs/${e.object_id}`;
    case "workflow": case "deployment": {
      const version = field(e.after ?? undefined, "version") ?? field(e.before ?? undefined, "version");
      return `${t}/workflows/${e.object_id}${typeof version === "number" ? `?version=${version}` : ""}`;
    }
    case "notebook": return `${t}/notebooks/${e.object_id}`;
    case "connection": return `${t}/admin/connections`;
    case "member": case "invitation": return `${t}/admin/members`;
    case "tenant": return `${t}/admin/settings`;
    default: return null;
  }
}

function EntryLink({ tenant, entry: e }: { tenant: string; entry: AuditEntry }) {
  const version = field(e.after ?? undefined, "version");
  const label = `${e.object_type} ${e.object_label || e.object_id}${e.object_type === "workflow" && version ? ` · version ${version}` : ""}`;
  const href = entryHref(tenant, e);
  return href ? <a {...linkProps(href)}>{label}</a> : <span>{label}</span>;
}

/** One line of what changed: "field: before → after" for changes, the new values otherwise. */
function details(e: AuditEntry): string {
  const before = (e.before ?? {}) as Record<string, Json>;
  const after = (e.after ?? {}) as Record<string, Json>;
  const cut = (t: string) => (t.length > 60 ? `${t.slice(0, 16)}…` : t); // digests and long values: their start is enough
  const show = (v: Json | undefined) => (v === undefined ? "—" : cut(typeof v === "string" ? v : JSON.stringify(v)));
  const empty = (v: Json | undefined) => v === undefined || v === null || v === "" || (typeof v === "object" && !Object.keys(v).length);
  // What a creation or deletion left empty says nothing; a change to or from empty does.
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])]
    .filter((k) => !(empty(before[k]) && empty(after[k])));
  return keys.slice(0, 6).map((k) => (k in before && k in after ? `${k}: ${show(before[k])} → ${show(after[k])}`
    : `${k}: ${show(after[k] ?? before[k])}`)).join("; ");
}
