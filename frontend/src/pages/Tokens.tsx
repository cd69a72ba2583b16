// The user's API tokens: list (never a secret), create (the secret shown once), revoke.
import { type FormEvent, useCallback, useEffect, useRef, useState } from "react";
import { ApiError } from "../api/client";
import { endpoints } from "../api/endpoints";
import type { ApiToken, ApiTokenCreated } from "../api/types";
import { useStore } from "../store";
import { ConfirmDialog } from "../ui/Dialogs";
import { Modal } from "../ui/Modal";
import { timeAgo } from "../ui/format";
import { TopBar } from "./TopBar";

const LIFETIMES = [7, 30, 90, 365];
const msg = (e: unknown) => (e instanceof ApiError ? e.message : String(e));
const day = (iso: string | null | undefined) =>
  iso ? new Date(iso).toLocaleDateString(undefined, { year: "numeric", month: "short", day: "numeric" }) : "never";

export function Tokens() {
  const toast = useStore((s) => s.toast);
  const [tokens, setTokens] = useState<ApiToken[] | null>(null);
  const [error, setError] = useState("");
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState<ApiTokenCreated | null>(null);
  const [revoking, setRevoking] = useState<ApiToken | null>(null);

  const reload = useCallback(() => {
    endpoints.tokens().then((t) => { setTokens(t); setError(""); }, (e) => setError(msg(e)));
  }, []);
  useEffect(reload, [reload]);

  const revoke = async (token: ApiToken) => {
    try {
      await endpoints.tokenRevoke(token.id);
      toast("success", `Revoked “${token.name}”: it no longer works.`);
    } catch (e) {
      toast("error", msg(e));
    }
    setRevoking(null);
    reload();
  };

  return (
    <div className="page">
      <TopBar>
        <span className="crumb-sep">/</span>
        <span className="crumb">API tokens</span>
      </TopBar>
      <main className="content">
        <section className="section">
          <div className="section-head">
            <h1>API tokens</h1>
            <span className="spacer" />
            <button className="button primary" onClick={() => setCreating(true)}>New token</button>
          </div>
          <p className="muted">
            Scripts use a token as <code className="mono">Authorization: Token &lt;token&gt;</code>. Each acts as you, in
            every workspace you belong to. Changing your password revokes them all.
          </p>
          {error && <div className="form-error" role="alert">{error}</div>}
          {!tokens && !error && <div className="empty">Loading…</div>}
          {tokens?.length === 0 && <div className="empty">No tokens yet. Create one for each script or machine, so you can revoke it alone.</div>}
          {tokens && tokens.length > 0 && (
            <table className="table" aria-label="API tokens">
              <thead><tr><th>Name</th><th>Created</th><th>Expires</th><th>Last used</th><th aria-label="Actions" /></tr></thead>
              <tbody>
                {tokens.map((t) => (
                  <tr key={t.id} data-testid={`token-row-${t.id}`}>
                    <td className="strong">{t.name}</td>
                    <td className="muted">{day(t.created)}</td>
                    <td>{t.expired ? <span className="chip status-failed">expired {day(t.expires)}</span> : <span className="muted">{day(t.expires)}</span>}</td>
                    <td className="muted">{t.last_used ? timeAgo(t.last_used) : "never"}</td>
                    <td className="row-actions">
                      <button className="button ghost small danger-text" onClick={() => setRevoking(t)}>Revoke</button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
      </main>

      {creating && <CreateDialog onClose={() => setCreating(false)}
        onCreated={(t) => { setCreating(false); setCreated(t); reload(); }} />}
      {created && <SecretDialog token={created} onClose={() => setCreated(null)} />}
      {revoking && (
        <ConfirmDialog title="Revoke token" danger confirm="Revoke"
          text={`Revoke “${revoking.name}”? Scripts using it get 401 from now on. This cannot be undone.`}
          onClose={() => setRevoking(null)} onConfirm={() => revoke(revoking)} />
      )}
    </div>
  );
}

function CreateDialog(props: { onClose: () => void; onCreated: (t: ApiTokenCreated) => void }) {
  const [name, setName] = useState("");
  const [days, setDays] = useState(30);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);
  const go = async (e?: FormEvent) => {
    e?.preventDefault();
    if (!name.trim()) return setErrors({ name: "A name is needed." });
    setBusy(true);
    try {
      props.onCreated(await endpoints.tokenCreate({ name: name.trim(), expires_in_days: days }));
    } catch (err) {
      // The server names the field that is wrong ({"name": ["..."]}); anything else goes on top.
      const body = err instanceof ApiError && err.body && typeof err.body === "object" ? (err.body as Record<string, unknown>) : {};
      const field = (k: string) => (Array.isArray(body[k]) ? String((body[k] as unknown[])[0]) : "");
      setErrors(field("name") || field("expires_in_days")
        ? { name: field("name"), expires_in_days: field("expires_in_days") }
        : { form: msg(err) });
    }
    setBusy(false);
  };
  return (
    <Modal title="New API token" onClose={props.onClose}
      footer={<>
        <button className="button" onClick={props.onClose}>Cancel</button>
        <button className="button primary" disabled={busy} onClick={() => go()}>Create token</button>
      </>}>
      <form onSubmit={go}>
        {errors.form && <div className="form-error" role="alert">{errors.form}</div>}
        <label className="field">
          <span>Name</span>
          <input autoFocus value={name} maxLength={100} placeholder="e.g. nightly-export on build-01"
            onChange={(e) => setName(e.target.value)} aria-invalid={!!errors.name} />
          {errors.name && <span className="field-error" role="alert">{errors.name}</span>}
        </label>
        <label className="field">
          <span>Expires in</span>
          <select value={days} onChange={(e) => setDays(Number(e.target.value))} aria-invalid={!!errors.expires_in_days}>
            {LIFETIMES.map((d) => <option key={d} value={d}>{d} days</option>)}
          </select>
          {errors.expires_in_days && <span className="field-error" role="alert">{errors.expires_in_days}</span>}
        </label>
      </form>
    </Modal>
  );
}

function SecretDialog({ token, onClose }: { token: ApiTokenCreated; onClose: () => void }) {
  const toast = useStore((s) => s.toast);
  const field = useRef<HTMLInputElement>(null);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(token.token);
      toast("success", "Token copied.");
    } catch {
      field.current?.select(); // no clipboard (plain http): selected, for Ctrl+C
      toast("info", "Press Ctrl+C to copy the selected token.");
    }
  };
  return (
    <Modal title={`Token “${token.name}” created`} onClose={onClose} testId="token-secret"
      footer={<button className="button primary" onClick={onClose}>Done</button>}>
      <p>Copy it now: Loom keeps only a hash of it, so it is shown this once.</p>
      <div className="secret-row">
        <input ref={field} className="input mono" readOnly value={token.token} aria-label="New token" onFocus={(e) => e.target.select()} />
        <button className="button" onClick={copy} autoFocus>Copy</button>
      </div>
      <p className="help">Expires {day(token.expires)}.</p>
    </Modal>
  );
}
