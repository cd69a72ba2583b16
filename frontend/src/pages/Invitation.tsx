// The page an invitation link opens: what it offers, then join (logged in) or create an account.
import { type FormEvent, useEffect, useState } from "react";
import { endpoints } from "../api/endpoints";
import type { InvitationPreview } from "../api/types";
import { linkProps, navigate } from "../router";
import { useStore } from "../store";
import { errorText, fieldErrors } from "../ui/errors";

export function Invitation({ token }: { token: string }) {
  const user = useStore((s) => s.user);
  const toast = useStore((s) => s.toast);
  const [offer, setOffer] = useState<InvitationPreview | null>(null);
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    endpoints.invitationPreview(token).then(setOffer, (e) => setError(errorText(e)));
  }, [token]);

  const join = async () => {
    setBusy(true);
    try {
      const t = await endpoints.invitationAccept(token);
      toast("success", `You joined ${t.name} as ${t.role}.`);
      navigate(`/t/${encodeURIComponent(t.slug)}`);
    } catch (e) {
      setError(errorText(e));
    }
    setBusy(false);
  };

  return (
    <div className="centered-page login-page">
      <div className="card narrow" data-testid="invitation">
        <div className="brand brand-large"><span className="brand-mark">L</span> Loom</div>
        {!offer && !error && <p className="muted">Reading the invitation…</p>}
        {error && !offer && <>
          <h1>Invitation</h1>
          <div className="form-error" role="alert">{error}</div>
          <p className="muted">Ask the admin who invited you for a new link.</p>
          <a className="button" {...linkProps("/")}>Go to Loom</a>
        </>}
        {offer && <>
          <h1>Join {offer.tenant_name}</h1>
          <p>You are invited to the workspace <strong>{offer.tenant_name}</strong> as <strong>{offer.role}</strong>.</p>
          <p className="help">The invitation was sent to {offer.email}; the link works once, until {new Date(offer.expires_at).toLocaleString()}.</p>
          {error && <div className="form-error" role="alert">{error}</div>}
          {user ? <>
            <p className="muted">You are logged in as {user.username}.</p>
            <button className="button primary block" disabled={busy} onClick={join}>Join {offer.tenant_name}</button>
          </> : <SignupForm token={token} offer={offer} />}
        </>}
      </div>
    </div>
  );
}

function SignupForm({ token, offer }: { token: string; offer: InvitationPreview }) {
  const setUser = useStore((s) => s.setUser);
  const toast = useStore((s) => s.toast);
  const [password, setPassword] = useState("");
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);
  const go = async (e: FormEvent) => {
    e.preventDefault();
    setErrors({});
    setBusy(true);
    try {
      const joined = await endpoints.invitationSignup(token, password);
      const me = await endpoints.login(joined.username, password);
      setUser(me.user);
      toast("success", `Welcome, ${joined.username}: you joined ${offer.tenant_name} as ${joined.role}.`);
      navigate(`/t/${encodeURIComponent(joined.tenant)}`);
    } catch (err) {
      setErrors(fieldErrors(err, ["password"]));
      setBusy(false);
    }
  };
  return (
    <form onSubmit={go} aria-label="Create your account">
      <h2>Create your account</h2>
      {/* The invitation names the account, so this form cannot be used to test usernames. */}
      <label className="field">
        <span>Username</span>
        <input name="username" autoComplete="username" value={offer.email} readOnly />
        <span className="help">Your email address, the one invited: log in with it.</span>
      </label>
      <label className="field">
        <span>Password</span>
        <input name="password" type="password" autoComplete="new-password" autoFocus value={password} required
          onChange={(e) => setPassword(e.target.value)} aria-invalid={!!errors.password} />
        {errors.password
          ? <span className="field-error" role="alert">{errors.password}</span>
          : <span className="help">At least 8 characters, not a common password, not only digits.</span>}
      </label>
      {errors.form && <div className="form-error" role="alert">{errors.form}</div>}
      <button className="button primary block" type="submit" disabled={busy}>{busy ? "Creating…" : "Create account and join"}</button>
      <p className="help">
        Already have an account? <a {...linkProps(`/login?next=${encodeURIComponent(`/invitations/${token}`)}`)}>Log in</a> to join with it.
      </p>
    </form>
  );
}
