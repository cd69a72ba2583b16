import { type FormEvent, useState } from "react";
import { Modal } from "./Modal";

export function PromptDialog(props: {
  title: string;
  label: string;
  initial?: string;
  submit: string;
  onSubmit: (value: string) => Promise<string | null | void>;
  onClose: () => void;
}) {
  const [value, setValue] = useState(props.initial ?? "");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const go = async (e?: FormEvent) => {
    e?.preventDefault();
    if (!value.trim()) return setError("A name is needed.");
    setBusy(true);
    const problem = await props.onSubmit(value.trim()).catch((err) => String(err.message ?? err));
    setBusy(false);
    if (problem) setError(problem);
  };
  return (
    <Modal title={props.title} onClose={props.onClose}
      footer={<>
        <button className="button" onClick={props.onClose}>Cancel</button>
        <button className="button primary" disabled={busy} onClick={() => go()}>{props.submit}</button>
      </>}>
      <form onSubmit={go}>
        <label className="field">
          <span>{props.label}</span>
          <input autoFocus value={value} onChange={(e) => setValue(e.target.value)} onFocus={(e) => e.target.select()} />
        </label>
        {error && <div className="form-error" role="alert">{error}</div>}
      </form>
    </Modal>
  );
}

export function ConfirmDialog(props: {
  title: string;
  text: string;
  confirm: string;
  danger?: boolean;
  onConfirm: () => Promise<void> | void;
  onClose: () => void;
}) {
  const [busy, setBusy] = useState(false);
  return (
    <Modal title={props.title} onClose={props.onClose}
      footer={<>
        <button className="button" onClick={props.onClose}>Cancel</button>
        <button className={`button ${props.danger ? "danger" : "primary"}`} disabled={busy} autoFocus
          onClick={async () => { setBusy(true); await props.onConfirm(); setBusy(false); }}>{props.confirm}</button>
      </>}>
      <p>{props.text}</p>
    </Modal>
  );
}
