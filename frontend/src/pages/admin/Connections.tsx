// The tenant's connections: kind, host, which secret fields are set (never a value), which
// workflows use each; create and edit through ConnectionForm; delete, refused while in use;
// test (a worker tries it from inside a notebook sandbox; the answer shows under the row).
import { Fragment, useCallback, useEffect, useRef, useState } from "react";
import { endpoints } from "../../api/endpoints";
import type { Connection, ConnectionKind, ConnectionTest } from "../../api/types";
import { useStore } from "../../store";
import { ConfirmDialog } from "../../ui/Dialogs";
import { errorText } from "../../ui/errors";
import { ConnectionForm } from "./ConnectionForm";

const WAIT_S = 45;

export function Connections({ tenant }: { tenant: string }) {
  const toast = useStore((s) => s.toast);
  const [connections, setConnections] = useState<Connection[] | null>(null);
  const [kinds, setKinds] = useState<ConnectionKind[] | null>(null);
  const [error, setError] = useState("");
  const [editing, setEditing] = useState<Connection | "new" | null>(null);
  const [deleting, setDeleting] = useState<Connection | null>(null);
  const [rowError, setRowError] = useState<{ id: number; text: string } | null>(null);
  const [tests, setTests] = useState<Record<number, ConnectionTest | "asking" | { error: string }>>({});
  const polls = useRef(new Set<number>());
  useEffect(() => () => polls.current.forEach((t) => clearTimeout(t)), []);

  // Ask, then poll GET …/test/ until a worker answered (or give up after WAIT_S, saying why).
  const test = async (c: Connection) => {
    setTests((t) => ({ ...t, [c.id]: "asking" }));
    const show = (r: ConnectionTest | { error: string }) => setTests((t) => ({ ...t, [c.id]: r }));
    try {
      const asked = await endpoints.connectionTestStart(tenant, c.id);
      const until = Date.now() + WAIT_S * 1000;
      const poll = async () => {
        try {
          const r = await endpoints.connectionTest(tenant, c.id);
          if (r.status !== "pending" || r.id !== asked.id) return show(r);
          if (Date.now() > until) return show({ error: `No worker answered within ${WAIT_S} s. Is a Loom worker running?` });
          polls.current.add(window.setTimeout(poll, 500));
        } catch (e) {
          show({ error: errorText(e) });
        }
      };
      await poll();
    } catch (e) {
      show({ error: errorText(e) });
    }
  };

  const reload = useCallback(() => {
    Promise.all([endpoints.connections(tenant), endpoints.connectionKinds()]).then(([c, k]) => {
      setConnections(c);
      setKinds(k);
      setError("");
    }, (e) => setError(errorText(e)));
  }, [tenant]);
  useEffect(reload, [reload]);

  const kindOf = (kind: string | undefined) => kinds?.find((k) => k.kind === kind);
  const remove = async (c: Connection) => {
    setDeleting(null);
    setRowError(null);
    try {
      await endpoints.connectionDelete(tenant, c.id);
      toast("success", `Deleted the connection ${c.name}.`);
    } catch (e) {
      setRowError({ id: c.id, text: errorText(e) });
    }
    reload();
  };

  return (
    <section className="section">
      <div className="section-head">
        <h1>Connections</h1>
        <span className="spacer" />
        <button className="button primary" disabled={!kinds} onClick={() => setEditing("new")}>New connection</button>
      </div>
      <p className="muted">
        A node that names a connection gets its fields as <code className="mono">LOOM_CONN_&lt;NAME&gt;_*</code> variables.
        Secret fields are encrypted and write-only: this page shows whether each is set, never its value.
      </p>
      {error && <div className="form-error" role="alert">{error}</div>}
      {!connections && !error && <div className="empty">Loading…</div>}
      {connections?.length === 0 && <div className="empty">No connections yet. Add one for each database, bucket or API your notebooks reach.</div>}
      {connections && connections.length > 0 && (
        <table className="table" aria-label="Connections">
          <thead><tr><th>Name</th><th>Kind</th><th>Host</th><th>Secrets</th><th>Used by</th><th aria-label="Actions" /></tr></thead>
          <tbody>
            {connections.map((c) => {
              const kind = kindOf(c.kind);
              const label = (field: string) => kind?.secret_fields.find((f) => f.name === field)?.label ?? field;
              return (
                <Fragment key={c.id}>
                <tr data-testid={`connection-${c.name}`}>
                  <td><span className="strong mono">{c.name}</span>{c.description && <div className="muted small">{c.description}</div>}</td>
                  <td>{kind?.label ?? c.kind}</td>
                  <td className="mono small">{c.host ? `${c.host}${c.port ? `:${c.port}` : ""}` : <span className="muted">—</span>}</td>
                  <td>
                    {Object.entries(c.secrets_set).map(([field, set]) => (
                      <span key={field} className={`set-badge${set ? "" : " unset"}`}>{label(field)}: {set ? "set" : "not set"}</span>
                    ))}
                  </td>
                  <td className="small">{c.used_by.length ? c.used_by.join(", ") : <span className="muted">no workflow</span>}</td>
                  <td className="row-actions">
                    <button className="button ghost small" disabled={tests[c.id] === "asking" || (typeof tests[c.id] === "object" && (tests[c.id] as ConnectionTest).status === "pending")}
                      onClick={() => test(c)} aria-label={`Test ${c.name}`}>Test</button>
                    <button className="button ghost small" onClick={() => setEditing(c)}>Edit</button>
                    <button className="button ghost small danger-text" onClick={() => setDeleting(c)}>Delete</button>
                  </td>
                </tr>
                {tests[c.id] && <TestResult name={c.name} result={tests[c.id]} />}
                {rowError?.id === c.id && (
                  <tr className="row-error" data-testid={`connection-${c.name}-error`}>
                    <td colSpan={6}><div className="field-error" role="alert">{rowError.text}</div></td>
                  </tr>
                )}
                </Fragment>
              );
            })}
          </tbody>
        </table>
      )}

      {editing && kinds && (
        <ConnectionForm tenant={tenant} kinds={kinds} connection={editing === "new" ? null : editing}
          onClose={() => setEditing(null)}
          onSaved={(c) => { setEditing(null); toast("success", `Saved the connection ${c.name}.`); reload(); }} />
      )}
      {deleting && (
        <ConfirmDialog title="Delete connection" danger confirm="Delete"
          text={`Delete the connection ${deleting.name} and its secrets? This cannot be undone.`}
          onClose={() => setDeleting(null)} onConfirm={() => remove(deleting)} />
      )}
    </section>
  );
}

function TestResult({ name, result }: { name: string; result: ConnectionTest | "asking" | { error: string } }) {
  let body;
  if (result === "asking" || ("status" in result && result.status === "pending")) {
    body = <span className="muted" role="status">Testing {name} from a notebook sandbox…</span>;
  } else if ("error" in result) {
    body = <div className="field-error" role="alert">Could not test {name}: {result.error}</div>;
  } else if (result.status === "ok") {
    body = <div className="test-ok" role="status"><strong>Connected.</strong> {result.message}</div>;
  } else {
    body = <div className="field-error test-failed" role="alert"><strong>Test failed.</strong> <span className="mono">{result.message}</span></div>;
  }
  return (
    <tr className="row-error" data-testid={`connection-${name}-test`}>
      <td colSpan={6}>{body}</td>
    </tr>
  );
}
