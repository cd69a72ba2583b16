// Members of a tenant and its invitations: invite by email, change a role, remove, revoke.
// The server's refusals (the last admin, a bad address) are shown where they happen.
import { type FormEvent, useCallback, useEffect, useState } from "react";
import { endpoints } from "../../api/endpoints";
import { type Invitation, type Member, ROLES, type Role } from "../../api/types";
import { useStore } from "../../store";
import { ConfirmDialog } from "../../ui/Dialogs";
import { errorText, fieldErrors } from "../../ui/errors";
import { timeAgo } from "../../ui/format";

const day = (iso: string) => new Date(iso).toLocaleDateString(undefined, { year: "numeric", month: "short", day: "numeric" });

export function Members({ tenant }: { tenant: string }) {
  const toast = useStore((s) => s.toast);
  const me = useStore((s) => s.user);
  const [members, setMembers] = useState<Member[] | null>(null);
  const [invitations, setInvitations] = useState<Invitation[] | null>(null);
  const [error, setError] = useState("");
  const [rowError, setRowError] = useState<{ id: number; text: string } | null>(null);
  const [removing, setRemoving] = useState<Member | null>(null);

  const reload = useCallback(() => {
    Promise.all([endpoints.members(tenant), endpoints.invitations(tenant)]).then(([m, i]) => {
      setMembers(m);
      setInvitations(i);
      setError("");
    }, (e) => setError(errorText(e)));
  }, [tenant]);
  useEffect(reload, [reload]);

  const changeRole = async (m: Member, role: Role) => {
    setRowError(null);
    try {
      await endpoints.memberRole(tenant, m.id, role);
      toast("success", `${m.username} is now ${role}.`);
    } catch (e) {
      setRowError({ id: m.id, text: errorText(e) });
    }
    reload();
  };
  const remove = async (m: Member) => {
    setRemoving(null);
    setRowError(null);
    try {
      await endpoints.memberRemove(tenant, m.id);
      toast("success", `Removed ${m.username} from the workspace.`);
    } catch (e) {
      setRowError({ id: m.id, text: errorText(e) });
    }
    reload();
  };
  const revoke = async (inv: Invitation) => {
    try {
      await endpoints.invitationRevoke(tenant, inv.id);
      toast("success", `Revoked the invitation of ${inv.email}: its link no longer works.`);
    } catch (e) {
      toast("error", errorText(e));
    }
    reload();
  };

  const pending = invitations?.filter((i) => i.status === "pending") ?? [];
  return (
    <>
      <section className="section">
        <div className="section-head"><h1>Members</h1></div>
        <InviteForm tenant={tenant} onInvited={reload} />
        {me?.is_platform_admin && <AddUserForm tenant={tenant} onAdded={reload} />}
        {error && <div className="form-error" role="alert">{error}</div>}
        {!members && !error && <div className="empty">Loading…</div>}
        {members?.length === 0 && <div className="empty">No members. Invite someone above.</div>}
        {members && members.length > 0 && (
          <table className="table" aria-label="Members">
            <thead><tr><th>User</th><th>Email</th><th>Role</th><th>Member since</th><th aria-label="Actions" /></tr></thead>
            <tbody>
              {members.map((m) => (
                <tr key={m.id} data-testid={`member-${m.username}`}>
                  <td className="strong">{m.username}{m.username === me?.username && <span className="muted"> (you)</span>}</td>
                  <td className="muted">{m.email || "—"}</td>
                  <td>
                    <select className="small-select" aria-label={`Role of ${m.username}`} value={m.role}
                      onChange={(e) => changeRole(m, e.target.value as Role)}>
                      {ROLES.map((r) => <option key={r} value={r}>{r}</option>)}
                    </select>
                    {rowError?.id === m.id && <div className="field-error" role="alert">{rowError.text}</div>}
                  </td>
                  <td className="muted">{day(m.created_at)}</td>
                  <td className="row-actions">
                    <button className="button ghost small danger-text" onClick={() => setRemoving(m)}>Remove</button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>

      <section className="section">
        <div className="section-head"><h2>Pending invitations</h2></div>
        {invitations && pending.length === 0 && <div className="empty">No pending invitations.</div>}
        {pending.length > 0 && (
          <table className="table" aria-label="Pending invitations">
            <thead><tr><th>Email</th><th>Role</th><th>Invited by</th><th>Sent</th><th>Expires</th><th aria-label="Actions" /></tr></thead>
            <tbody>
              {pending.map((i) => (
                <tr key={i.id} data-testid={`invitation-${i.email}`}>
                  <td className="strong">{i.email}</td>
                  <td><span className="chip">{i.role}</span></td>
                  <td className="muted">{i.invited_by ?? "—"}</td>
                  <td className="muted">{timeAgo(i.created_at)}</td>
                  <td className="muted">{day(i.expires_at)}</td>
                  <td className="row-actions">
                    <button className="button ghost small danger-text" onClick={() => revoke(i)}>Revoke</button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>

      {removing && (
        <ConfirmDialog title="Remove member" danger confirm="Remove"
          text={`Remove ${removing.username} from this workspace? They lose access to its workflows at once.`}
          onClose={() => setRemoving(null)} onConfirm={() => remove(removing)} />
      )}
    </>
  );
}

function InviteForm({ tenant, onInvited }: { tenant: string; onInvited: () => void }) {
  const [email, setEmail] = useState("");
  const [role, setRole] = useState<Role>("editor");
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [sent, setSent] = useState("");
  const [busy, setBusy] = useState(false);
  const go = async (e: FormEvent) => {
    e.preventDefault();
    setErrors({});
    setSent("");
    if (!email.trim()) return setErrors({ email: "An email address is needed." });
    setBusy(true);
    try {
      const inv = await endpoints.invite(tenant, email.trim(), role);
      setSent(`Invitation sent to ${inv.email} as ${inv.role}. The link is valid until ${day(inv.expires_at)}.`);
      setEmail("");
      onInvited();
    } catch (err) {
      setErrors(fieldErrors(err, ["email", "role"]));
    }
    setBusy(false);
  };
  return (
    <form className="inline-form" onSubmit={go} aria-label="Invite someone">
      <label className="field">
        <span>Invite by email</span>
        <input type="email" value={email} placeholder="name@example.com" onChange={(e) => setEmail(e.target.value)}
          aria-invalid={!!errors.email} />
        {errors.email && <span className="field-error" role="alert">{errors.email}</span>}
      </label>
      <label className="field">
        <span>Role</span>
        <select value={role} onChange={(e) => setRole(e.target.value as Role)}>
          {ROLES.map((r) => <option key={r} value={r}>{r}</option>)}
        </select>
        {errors.role && <span className="field-error" role="alert">{errors.role}</span>}
      </label>
      <button className="button primary" type="submit" disabled={busy}>{busy ? "Sending…" : "Send invitation"}</button>
      {errors.form && <div className="form-error" role="alert">{errors.form}</div>}
      {sent && <div className="form-success" role="status">{sent}</div>}
    </form>
  );
}

/** Platform admins only (the API refuses others): add an existing account without an invitation. */
function AddUserForm({ tenant, onAdded }: { tenant: string; onAdded: () => void }) {
  const toast = useStore((s) => s.toast);
  const [username, setUsername] = useState("");
  const [role, setRole] = useState<Role>("viewer");
  const [errors, setErrors] = useState<Record<string, string>>({});
  const go = async (e: FormEvent) => {
    e.preventDefault();
    setErrors({});
    if (!username.trim()) return setErrors({ username: "A username is needed." });
    try {
      const m = await endpoints.memberAdd(tenant, username.trim(), role);
      toast("success", `Added ${m.username} as ${m.role}.`);
      setUsername("");
      onAdded();
    } catch (err) {
      setErrors(fieldErrors(err, ["username", "role"]));
    }
  };
  return (
    <form className="inline-form" onSubmit={go} aria-label="Add an existing user">
      <label className="field">
        <span>Add an existing user (platform admin)</span>
        <input value={username} placeholder="username" onChange={(e) => setUsername(e.target.value)} aria-invalid={!!errors.username} />
        {errors.username && <span className="field-error" role="alert">{errors.username}</span>}
      </label>
      <label className="field">
        <span>Role</span>
        <select value={role} onChange={(e) => setRole(e.target.value as Role)}>
          {ROLES.map((r) => <option key={r} value={r}>{r}</option>)}
        </select>
      </label>
      <button className="button" type="submit">Add user</button>
      {errors.form && <div className="form-error" role="alert">{errors.form}</div>}
    </form>
  );
}
