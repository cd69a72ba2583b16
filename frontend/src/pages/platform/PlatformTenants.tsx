// Every tenant, for platform admins: open one with its first admin (an existing user, or a new
// one with a password), rename it (PromptDialog), deactivate or activate it (ConfirmDialog).
import { type FormEvent, useCallback, useEffect, useState } from "react";
import { endpoints } from "../../api/endpoints";
import type { PlatformTenant } from "../../api/types";
import { linkProps } from "../../router";
import { useStore } from "../../store";
import { ConfirmDialog, PromptDialog } from "../../ui/Dialogs";
import { errorText, fieldErrors } from "../../ui/errors";

export function PlatformTenants() {
  const toast = useStore((s) => s.toast);
  const [tenants, setTenants] = useState<PlatformTenant[] | null>(null);
  const [error, setError] = useState("");
  const [opening, setOpening] = useState(false);
  const [renaming, setRenaming] = useState<PlatformTenant | null>(null);
  const [toggling, setToggling] = useState<PlatformTenant | null>(null);
  const reload = useCallback(() => {
    endpoints.platformTenants().then((t) => { setTenants(t); setError(""); }, (e) => setError(errorText(e)));
  }, []);
  useEffect(reload, [reload]);

  const toggle = async (t: PlatformTenant) => {
    setToggling(null);
    try {
      await endpoints.platformTenantUpdate(t.slug, { is_active: !t.is_active });
      toast("success", `${t.is_active ? "Deactivated" : "Activated"} ${t.name}.`);
    } catch (e) {
      toast("error", errorText(e));
    }
    reload();
  };

  return (
    <section className="section">
      <div className="section-head">
        <h1>Tenants</h1>
        <span className="spacer" />
        {!opening && <button className="button primary" onClick={() => setOpening(true)}>New tenant</button>}
      </div>
      {opening && <OpenForm onClose={() => setOpening(false)} onOpened={(t) => { setOpening(false); toast("success", `Opened ${t.name}.`); reload(); }} />}
      {error && <div className="form-error" role="alert">{error}</div>}
      {!tenants && !error && <div className="empty">Loading…</div>}
      {tenants?.length === 0 && <div className="empty">No tenants yet. Open the first one with "New tenant".</div>}
      {tenants && tenants.length > 0 && (
        <table className="table" aria-label="Tenants">
          <thead><tr><th>Name</th><th>Slug</th><th>Admins</th><th className="num">Members</th><th>Status</th><th aria-label="Actions" /></tr></thead>
          <tbody>
            {tenants.map((t) => (
              <tr key={t.slug} data-testid={`tenant-${t.slug}`}>
                <td><a className="strong" {...linkProps(`/t/${encodeURIComponent(t.slug)}`)}>{t.name}</a>
                  {t.description && <div className="muted small">{t.description}</div>}</td>
                <td className="mono small">{t.slug}</td>
                <td className="small">{t.admins.length ? t.admins.join(", ") : <span className="danger-text">no admin</span>}</td>
                <td className="num">{t.members}</td>
                <td>{t.is_active ? <span className="chip status-success">active</span> : <span className="chip">deactivated</span>}</td>
                <td className="row-actions">
                  <button className="button ghost small" onClick={() => setRenaming(t)} aria-label={`Rename ${t.slug}`}>Rename</button>
                  <button className={`button ghost small${t.is_active ? " danger-text" : ""}`} onClick={() => setToggling(t)}>
                    {t.is_active ? "Deactivate" : "Activate"}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {renaming && (
        <PromptDialog title={`Rename ${renaming.slug}`} label="Name" initial={renaming.name} submit="Rename"
          onClose={() => setRenaming(null)}
          onSubmit={async (name) => {
            try {
              await endpoints.platformTenantUpdate(renaming.slug, { name });
            } catch (e) {
              return errorText(e);
            }
            setRenaming(null);
            reload();
          }} />
      )}
      {toggling && (
        <ConfirmDialog title={`${toggling.is_active ? "Deactivate" : "Activate"} ${toggling.name}`} danger={toggling.is_active}
          confirm={toggling.is_active ? "Deactivate" : "Activate"}
          text={toggling.is_active
            ? `Its ${toggling.members} member(s) can no longer open ${toggling.name}; nothing is deleted and you can activate it again.`
            : `Its members can open ${toggling.name} again.`}
          onClose={() => setToggling(null)} onConfirm={() => toggle(toggling)} />
      )}
    </section>
  );
}

const FIELDS = ["slug", "name", "description", "admin_username", "admin_password", "admin_email"] as const;

function OpenForm({ onClose, onOpened }: { onClose: () => void; onOpened: (t: PlatformTenant) => void }) {
  const [v, setV] = useState<Record<(typeof FIELDS)[number], string>>(
    { slug: "", name: "", description: "", admin_username: "", admin_password: "", admin_email: "" });
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);
  const set = (k: (typeof FIELDS)[number]) => (e: { target: { value: string } }) => setV((o) => ({ ...o, [k]: e.target.value }));
  const go = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setErrors({});
    try {
      const body = { slug: v.slug.trim(), name: v.name.trim(), description: v.description, admin_username: v.admin_username.trim(),
        ...(v.admin_password ? { admin_password: v.admin_password } : {}), admin_email: v.admin_email.trim() };
      onOpened(await endpoints.platformTenantOpen(body));
    } catch (err) {
      setErrors(fieldErrors(err, [...FIELDS]));
    }
    setBusy(false);
  };
  const input = (k: (typeof FIELDS)[number], label: string, props: Record<string, unknown> = {}) => (
    <label className="field">
      <span>{label}</span>
      <input value={v[k]} onChange={set(k)} aria-invalid={!!errors[k]} {...props} />
      {errors[k] && <span className="field-error" role="alert">{errors[k]}</span>}
    </label>
  );
  return (
    <form className="card open-tenant" onSubmit={go} aria-label="New tenant">
      <h2>New tenant</h2>
      {errors.form && <div className="form-error" role="alert">{errors.form}</div>}
      <div className="form-grid">
        {input("slug", "Slug (in URLs; lowercase, digits, -)", { required: true, autoFocus: true })}
        {input("name", "Name", { required: true })}
        {input("description", "Description")}
      </div>
      <h3>First admin</h3>
      <p className="muted small">An existing username, or a new person: then give a password (and an email).</p>
      <div className="form-grid">
        {input("admin_username", "Username", { required: true, autoComplete: "off" })}
        {input("admin_password", "Password (new user only)", { type: "password", autoComplete: "new-password" })}
        {input("admin_email", "Email (new user only)", { type: "email" })}
      </div>
      <div className="form-actions">
        <button className="button" type="button" onClick={onClose}>Cancel</button>
        <button className="button primary" type="submit" disabled={busy}>{busy ? "Opening…" : "Open tenant"}</button>
      </div>
    </form>
  );
}
