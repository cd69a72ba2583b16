// Create or edit a connection with the fields its kind uses (GET /api/connection-kinds/, from
// backend/tenancy/kinds.py). Secret fields are write-only: set, replace or clear, never shown.
import { type FormEvent, useState } from "react";
import { endpoints } from "../../api/endpoints";
import type { Connection, ConnectionKind, ConnectionRequest } from "../../api/types";
import { fieldErrors } from "../../ui/errors";
import { Modal } from "../../ui/Modal";

type Plain = "host" | "port" | "login" | "schema";
/** What saving does to a secret field: nothing, set it to `value`, or clear it. */
type SecretEdit = { mode: "keep" } | { mode: "set"; value: string } | { mode: "clear" };

export function ConnectionForm(props: {
  tenant: string;
  kinds: ConnectionKind[];
  connection: Connection | null;
  onClose: () => void;
  onSaved: (c: Connection) => void;
}) {
  const c = props.connection;
  const [name, setName] = useState(c?.name ?? "");
  const [kindName, setKindName] = useState<string>(c?.kind ?? props.kinds[0].kind);
  const [description, setDescription] = useState(c?.description ?? "");
  const [plain, setPlain] = useState<Record<Plain, string>>({
    host: c?.host ?? "", port: c?.port == null ? "" : String(c.port), login: c?.login ?? "", schema: c?.schema ?? "",
  });
  const stored = (c?.extra ?? {}) as Record<string, unknown>;
  const [extra, setExtra] = useState<Record<string, string>>(
    Object.fromEntries(Object.entries(stored).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)])));
  const [extraJson, setExtraJson] = useState(JSON.stringify(stored, null, 2));
  const [secrets, setSecrets] = useState<Record<string, SecretEdit>>({});
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);
  const kind = props.kinds.find((k) => k.kind === kindName) ?? props.kinds[0];

  const body = (): ConnectionRequest | string => {
    let ext: Record<string, unknown>;
    if (kind.free_extra) {
      try {
        ext = JSON.parse(extraJson || "{}");
      } catch {
        return "Extra is not valid JSON.";
      }
      if (!ext || typeof ext !== "object" || Array.isArray(ext)) return "Extra must be a JSON object.";
    } else {
      ext = { ...stored }; // keys this form does not show stay as they are
      for (const { name: key } of kind.extra_keys) {
        if (extra[key]) ext[key] = extra[key];
        else delete ext[key];
      }
    }
    const out: ConnectionRequest = { name: name.trim(), kind: kind.kind as ConnectionRequest["kind"], description };
    for (const f of ["host", "login", "schema"] as const) out[f] = kind.fields.some((k) => k.name === f) ? plain[f] : "";
    out.port = kind.fields.some((k) => k.name === "port") && /^\d+$/.test(plain.port.trim()) ? Number(plain.port) : null;
    for (const { name: field } of kind.secret_fields) {
      const edit = secrets[field];
      if (!edit || edit.mode === "keep") continue;
      const value = edit.mode === "set" ? edit.value : "";
      if (field === "secret") out.secret = value;
      else ext[field.replace(/^extra\./, "")] = value;
    }
    out.extra = ext;
    return out;
  };

  const go = async (e?: FormEvent) => {
    e?.preventDefault();
    const b = body();
    if (typeof b === "string") return setErrors({ extra: b });
    if (!b.name) return setErrors({ name: "A name is needed." });
    if (b.port === null && plain.port && kind.fields.some((k) => k.name === "port")) return setErrors({ port: "A port is a whole number." });
    setBusy(true);
    setErrors({});
    try {
      props.onSaved(c ? await endpoints.connectionSave(props.tenant, c.id, b) : await endpoints.connectionCreate(props.tenant, b));
    } catch (err) {
      const names = ["name", "kind", "description", "host", "port", "login", "schema", "extra", ...kind.secret_fields.map((f) => f.name)];
      setErrors(fieldErrors(err, names));
      setBusy(false);
    }
  };

  const err = (f: string) => errors[f] && <span className="field-error" role="alert">{errors[f]}</span>;
  return (
    <Modal title={c ? `Edit connection ${c.name}` : "New connection"} onClose={props.onClose} wide testId="connection-form"
      footer={<>
        <button className="button" onClick={props.onClose}>Cancel</button>
        <button className="button primary" disabled={busy} onClick={() => go()}>{c ? "Save" : "Create connection"}</button>
      </>}>
      <form onSubmit={go}>
        {errors.form && <div className="form-error" role="alert">{errors.form}</div>}
        <div className="grid-2">
          <label className="field">
            <span>Name</span>
            <input autoFocus value={name} onChange={(e) => setName(e.target.value)} placeholder="e.g. warehouse" aria-invalid={!!errors.name} />
            {err("name") || <span className="help">Lowercase letters, digits and _; nodes name it.</span>}
          </label>
          <label className="field">
            <span>Kind</span>
            <select value={kind.kind} onChange={(e) => setKindName(e.target.value)} disabled={!!c}>
              {props.kinds.map((k) => <option key={k.kind} value={k.kind}>{k.label}</option>)}
            </select>
            {err("kind")}
          </label>
        </div>
        <label className="field">
          <span>Description</span>
          <input value={description} onChange={(e) => setDescription(e.target.value)} />
          {err("description")}
        </label>
        <div className="grid-2">
          {kind.fields.map((f) => (
            <label className="field" key={f.name}>
              <span>{f.label}</span>
              <input value={plain[f.name as Plain]} inputMode={f.name === "port" ? "numeric" : undefined}
                placeholder={f.name === "port" && kind.default_port ? String(kind.default_port) : undefined}
                onChange={(e) => setPlain({ ...plain, [f.name]: e.target.value })} aria-invalid={!!errors[f.name]} />
              {err(f.name)}
            </label>
          ))}
          {kind.extra_keys.map((f) => (
            <label className="field" key={f.name}>
              <span>{f.label}</span>
              <input value={extra[f.name] ?? ""} onChange={(e) => setExtra({ ...extra, [f.name]: e.target.value })} />
            </label>
          ))}
        </div>
        {kind.free_extra && (
          <label className="field">
            <span>Extra (JSON object)</span>
            <textarea className="mono" rows={3} value={extraJson} onChange={(e) => setExtraJson(e.target.value)} aria-invalid={!!errors.extra} />
            {err("extra")}
          </label>
        )}
        {!kind.free_extra && err("extra")}
        <h3>Secrets</h3>
        <p className="help">Encrypted and write-only: nobody sees them again, notebooks get them at run time.</p>
        {kind.secret_fields.map((f) => (
          <SecretInput key={f.name} label={f.label} isSet={!!c?.secrets_set[f.name]} edit={secrets[f.name] ?? { mode: "keep" }}
            onChange={(edit) => setSecrets({ ...secrets, [f.name]: edit })} error={errors[f.name]} />
        ))}
      </form>
    </Modal>
  );
}

function SecretInput(props: { label: string; isSet: boolean; edit: SecretEdit; error?: string; onChange: (e: SecretEdit) => void }) {
  const { label, isSet, edit, onChange } = props;
  return (
    <div className="field" role="group" aria-label={label}>
      <span>{label} <span className={`set-badge${isSet ? "" : " unset"}`}>{isSet ? "set" : "not set"}</span></span>
      <div className="secret-field">
        {edit.mode === "set" && <>
          <input type="password" autoComplete="new-password" aria-label={`New ${label}`} value={edit.value} autoFocus
            onChange={(e) => onChange({ mode: "set", value: e.target.value })} aria-invalid={!!props.error} />
          <button type="button" className="button ghost small" onClick={() => onChange({ mode: "keep" })}>Cancel</button>
        </>}
        {edit.mode === "clear" && <>
          <span className="muted small">Cleared when you save.</span>
          <button type="button" className="button ghost small" onClick={() => onChange({ mode: "keep" })}>Undo</button>
        </>}
        {edit.mode === "keep" && <>
          <button type="button" className="button small" onClick={() => onChange({ mode: "set", value: "" })}>{isSet ? "Replace" : "Set"}</button>
          {isSet && <button type="button" className="button ghost small danger-text" onClick={() => onChange({ mode: "clear" })}>Clear</button>}
        </>}
      </div>
      {props.error && <span className="field-error" role="alert">{props.error}</span>}
    </div>
  );
}
