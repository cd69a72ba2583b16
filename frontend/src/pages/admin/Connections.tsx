// The tenant's connections: kind, host, which secret fields are set (never a value), which
// workflows use each; create and edit through ConnectionForm; delete, refused while in use.
import { Fragment, useCallback, useEffect, useState } from "react";
import { endpoints } from "../../api/endpoints";
import type { Connection, ConnectionKind } from "../../api/types";
import { useStore } from "../../store";
import { ConfirmDialog } from "../../ui/Dialogs";
import { errorText } from "../../ui/errors";
import { ConnectionForm } from "./ConnectionForm";

export function Connections({ tenant }: { tenant: string }) {
  const toast = useStore((s) => s.toast);
  const [connections, setConnections] = useState<Connection[] | null>(null);
  const [kinds, setKinds] = useState<ConnectionKind[] | null>(null);
  const [error, setError] = useState("");
  const [editing, setEditing] = useState<Connection | "new" | null>(null);
  const [deleting, setDeleting] = useState<Connection | null>(null);
  const [rowError, setRowError] = useState<{ id: number; text: string } | null>(null);

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
                    <button className="button ghost small" onClick={() => setEditing(c)}>Edit</button>
                    <button className="button ghost small danger-text" onClick={() => setDeleting(c)}>Delete</button>
                  </td>
                </tr>
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
