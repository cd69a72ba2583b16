// Create or edit a notification channel. The webhook secret is write-only: set, replace or clear.
import { type FormEvent, useState } from "react";
import { endpoints } from "../../api/endpoints";
import type { Channel, ChannelRequest } from "../../api/types";
import { fieldErrors } from "../../ui/errors";
import { Modal } from "../../ui/Modal";

type Kind = Channel["kind"];
const KINDS: { kind: Kind; label: string; help: string }[] = [
  { kind: "webhook", label: "Webhook", help: "A JSON body POSTed to the URL, signed with the secret." },
  { kind: "slack", label: "Slack", help: "A Slack (or compatible) incoming webhook URL." },
  { kind: "email", label: "Email", help: "Mailed through Loom's email server." },
];

export function ChannelForm(props: { tenant: string; channel: Channel | null; onClose: () => void; onSaved: (c: Channel) => void }) {
  const c = props.channel;
  const [name, setName] = useState(c?.name ?? "");
  const [kind, setKind] = useState<Kind>(c?.kind ?? "webhook");
  const [url, setUrl] = useState(c?.url ?? "");
  const [address, setAddress] = useState(c?.address ?? "");
  const [secret, setSecret] = useState<string | null>(null); // null: keep the stored one
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);

  const go = async (e?: FormEvent) => {
    e?.preventDefault();
    if (!name.trim()) return setErrors({ name: "A name is needed." });
    const body: ChannelRequest = { name: name.trim(), kind, ...(kind === "email" ? { address: address.trim() } : { url: url.trim() }) };
    if (kind === "webhook" && secret !== null) body.secret = secret;
    setBusy(true);
    setErrors({});
    try {
      props.onSaved(c ? await endpoints.channelSave(props.tenant, c.id, body) : await endpoints.channelCreate(props.tenant, body));
    } catch (err) {
      setErrors(fieldErrors(err, ["name", "kind", "url", "address", "secret"]));
      setBusy(false);
    }
  };

  const err = (f: string) => errors[f] && <span className="field-error" role="alert">{errors[f]}</span>;
  return (
    <Modal title={c ? `Edit channel ${c.name}` : "New channel"} onClose={props.onClose} testId="channel-form"
      footer={<>
        <button className="button" onClick={props.onClose}>Cancel</button>
        <button className="button primary" disabled={busy} onClick={() => go()}>{c ? "Save" : "Create channel"}</button>
      </>}>
      <form onSubmit={go}>
        {errors.form && <div className="form-error" role="alert">{errors.form}</div>}
        <div className="grid-2">
          <label className="field">
            <span>Name</span>
            <input autoFocus value={name} onChange={(e) => setName(e.target.value)} placeholder="e.g. oncall" aria-invalid={!!errors.name} />
            {err("name") || <span className="help">Lowercase letters, digits and _; alert rules name it.</span>}
          </label>
          <label className="field">
            <span>Kind</span>
            <select value={kind} onChange={(e) => setKind(e.target.value as Kind)}>
              {KINDS.map((k) => <option key={k.kind} value={k.kind}>{k.label}</option>)}
            </select>
            <span className="help">{KINDS.find((k) => k.kind === kind)?.help}</span>
          </label>
        </div>
        {kind === "email" ? (
          <label className="field">
            <span>Address</span>
            <input type="email" value={address} onChange={(e) => setAddress(e.target.value)} placeholder="oncall@example.com" aria-invalid={!!errors.address} />
            {err("address")}
          </label>
        ) : (
          <label className="field">
            <span>URL</span>
            <input value={url} onChange={(e) => setUrl(e.target.value)} placeholder="https://…" aria-invalid={!!errors.url} />
            {err("url")}
          </label>
        )}
        {kind === "webhook" && (
          <div className="field" role="group" aria-label="Signing secret">
            <span>Signing secret <span className={`set-badge${c?.has_secret ? "" : " unset"}`}>{c?.has_secret ? "set" : "not set"}</span></span>
            <div className="secret-field">
              {secret === null ? <>
                <button type="button" className="button small" onClick={() => setSecret("")}>{c?.has_secret ? "Replace" : "Set"}</button>
              </> : <>
                <input type="password" autoComplete="new-password" aria-label="New signing secret" value={secret} autoFocus
                  onChange={(e) => setSecret(e.target.value)} aria-invalid={!!errors.secret} />
                <button type="button" className="button ghost small" onClick={() => setSecret(null)}>Cancel</button>
              </>}
            </div>
            {err("secret") || <span className="help">Receivers check X-Loom-Signature: sha256=HMAC-SHA256(secret, body). Encrypted, never shown again.</span>}
          </div>
        )}
      </form>
    </Modal>
  );
}
