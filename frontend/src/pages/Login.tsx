import { type FormEvent, useState } from "react";
import { ApiError } from "../api/client";
import { endpoints } from "../api/endpoints";
import { navigate, useLocation } from "../router";
import { useStore } from "../store";

export function Login() {
  const setUser = useStore((s) => s.setUser);
  const { search } = useLocation();
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError("");
    try {
      const me = await endpoints.login(username, password);
      setUser(me.user);
      const next = search.get("next");
      navigate(next && next.startsWith("/") && next !== "/login" ? next : "/", { replace: true });
    } catch (err) {
      setError(err instanceof ApiError ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="centered-page login-page">
      <form className="card narrow" onSubmit={submit} aria-label="Log in">
        <div className="brand brand-large"><span className="brand-mark">L</span> Loom</div>
        <p className="muted">Workflows of notebooks, drawn, run and shipped to Airflow.</p>
        <label className="field">
          <span>Username</span>
          <input name="username" autoComplete="username" autoFocus value={username} onChange={(e) => setUsername(e.target.value)} required />
        </label>
        <label className="field">
          <span>Password</span>
          <input name="password" type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} required />
        </label>
        {error && <div className="form-error" role="alert">{error}</div>}
        <button className="button primary block" type="submit" disabled={busy}>{busy ? "Logging in…" : "Log in"}</button>
      </form>
    </div>
  );
}
