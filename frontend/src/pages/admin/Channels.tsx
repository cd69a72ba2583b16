// The tenant's notification channels (webhook, Slack, email): create, edit, delete (refused while
// workflows' rules name it), "Send test alert" with what the receiver answered, and the delivery log.
import { Fragment, useCallback, useEffect, useState } from "react";
import { endpoints } from "../../api/endpoints";
import type { Channel, Delivery } from "../../api/types";
import { useStore } from "../../store";
import { ConfirmDialog } from "../../ui/Dialogs";
import { errorText } from "../../ui/errors";
import { ChannelForm } from "./ChannelForm";

const KIND_LABELS: Record<Channel["kind"], string> = { webhook: "Webhook", slack: "Slack", email: "Email" };

function testResult(d: Delivery): string {
  return d.status === "delivered" ? "Delivered: the receiver took the test alert." : `Not delivered: ${d.last_error || d.status}`;
}

export function Channels({ tenant }: { tenant: string }) {
  const toast = useStore((s) => s.toast);
  const [channels, setChannels] = useState<Channel[] | null>(null);
  const [deliveries, setDeliveries] = useState<Delivery[]>([]);
  const [error, setError] = useState("");
  const [editing, setEditing] = useState<Channel | "new" | null>(null);
  const [deleting, setDeleting] = useState<Channel | null>(null);
  const [rowNote, setRowNote] = useState<{ id: number; text: string; ok: boolean } | null>(null);
  const [testing, setTesting] = useState<number | null>(null);

  const reload = useCallback(() => {
    Promise.all([endpoints.channels(tenant), endpoints.deliveries(tenant, { limit: 20 })]).then(([c, d]) => {
      setChannels(c);
      setDeliveries(d.results);
      setError("");
    }, (e) => setError(errorText(e)));
  }, [tenant]);
  useEffect(reload, [reload]);

  const test = async (c: Channel) => {
    setTesting(c.id);
    setRowNote(null);
    try {
      const d = await endpoints.channelTest(tenant, c.id);
      setRowNote({ id: c.id, text: testResult(d), ok: d.status === "delivered" });
    } catch (e) {
      setRowNote({ id: c.id, text: errorText(e), ok: false });
    }
    setTesting(null);
    reload();
  };
  const remove = async (c: Channel) => {
    setDeleting(null);
    setRowNote(null);
    try {
      await endpoints.channelDelete(tenant, c.id);
      toast("success", `Deleted the channel ${c.name}.`);
    } catch (e) {
      setRowNote({ id: c.id, text: errorText(e), ok: false });
    }
    reload();
  };

  return (
    <section className="section">
      <div className="section-head">
        <h1>Alert channels</h1>
        <span className="spacer" />
        <button className="button primary" onClick={() => setEditing("new")}>New channel</button>
      </div>
      <p className="muted">
        Workflows name a channel in their alert rules (the workflow panel's <em>Alerts</em>) to hear of failures, successes,
        recoveries and slow runs. Webhooks are signed with the channel's secret (<code className="mono">X-Loom-Signature</code>);
        the secret is encrypted and write-only.
      </p>
      {error && <div className="form-error" role="alert">{error}</div>}
      {!channels && !error && <div className="empty">Loading…</div>}
      {channels?.length === 0 && <div className="empty">No channels yet. Add a webhook, a Slack incoming webhook or an email address.</div>}
      {channels && channels.length > 0 && (
        <table className="table" aria-label="Channels">
          <thead><tr><th>Name</th><th>Kind</th><th>Sends to</th><th>Secret</th><th>Used by</th><th aria-label="Actions" /></tr></thead>
          <tbody>
            {channels.map((c) => (
              <Fragment key={c.id}>
                <tr data-testid={`channel-${c.name}`}>
                  <td className="strong mono">{c.name}</td>
                  <td>{KIND_LABELS[c.kind]}</td>
                  <td className="mono small">{c.kind === "email" ? c.address : c.url}</td>
                  <td>{c.kind === "webhook"
                    ? <span className={`set-badge${c.has_secret ? "" : " unset"}`}>{c.has_secret ? "set" : "not set"}</span>
                    : <span className="muted">—</span>}</td>
                  <td className="small">{c.used_by.length ? c.used_by.join(", ") : <span className="muted">no workflow</span>}</td>
                  <td className="row-actions">
                    <button className="button small" disabled={testing === c.id} onClick={() => test(c)}>
                      {testing === c.id ? "Sending…" : "Send test alert"}
                    </button>
                    <button className="button ghost small" onClick={() => setEditing(c)}>Edit</button>
                    <button className="button ghost small danger-text" onClick={() => setDeleting(c)}>Delete</button>
                  </td>
                </tr>
                {rowNote?.id === c.id && (
                  <tr className="row-error" data-testid={`channel-${c.name}-result`}>
                    <td colSpan={6}><div className={rowNote.ok ? "callout" : "field-error"} role="status">{rowNote.text}</div></td>
                  </tr>
                )}
              </Fragment>
            ))}
          </tbody>
        </table>
      )}

      <h2 style={{ marginTop: 24 }}>Recent deliveries</h2>
      {deliveries.length === 0
        ? <div className="empty">No alert sent yet.</div>
        : (
          <table className="table" aria-label="Deliveries">
            <thead><tr><th>When</th><th>Channel</th><th>Event</th><th>Run</th><th>Status</th><th>Attempts</th><th>Last error</th></tr></thead>
            <tbody>
              {deliveries.map((d) => (
                <tr key={d.id} data-testid={`delivery-${d.id}`}>
                  <td className="small">{new Date(d.created_at).toLocaleString()}</td>
                  <td className="mono">{d.channel}</td>
                  <td>{d.event}</td>
                  <td>{d.run && d.workflow
                    ? <a href={`/t/${encodeURIComponent(tenant)}/workflows/${d.workflow}?run=${d.run}`}>run {d.run}</a>
                    : <span className="muted">—</span>}</td>
                  <td><span className={`status-pill status-${d.status}`}>{d.status}</span>
                    {d.status === "pending" && d.next_attempt_at && <div className="muted small">next {new Date(d.next_attempt_at).toLocaleTimeString()}</div>}</td>
                  <td>{d.attempts}</td>
                  <td className="small">{d.last_error || <span className="muted">—</span>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}

      {editing && (
        <ChannelForm tenant={tenant} channel={editing === "new" ? null : editing} onClose={() => setEditing(null)}
          onSaved={(c) => { setEditing(null); toast("success", `Saved the channel ${c.name}.`); reload(); }} />
      )}
      {deleting && (
        <ConfirmDialog title="Delete channel" danger confirm="Delete"
          text={`Delete the channel ${deleting.name} and its delivery log? This cannot be undone.`}
          onClose={() => setDeleting(null)} onConfirm={() => remove(deleting)} />
      )}
    </section>
  );
}
