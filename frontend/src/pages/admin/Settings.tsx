// Tenant settings: name and description (tenant admins); limits, pools and queues (platform
// admins: read-only for everyone else, as PLATFORM_FIELDS in backend/tenancy/models.py says).
import { type FormEvent, useState } from "react";
import { endpoints } from "../../api/endpoints";
import type { TenantDetail, TenantUpdate } from "../../api/types";
import { useStore } from "../../store";
import { fieldErrors } from "../../ui/errors";

const PLATFORM = ["concurrency_quota", "pools", "allowed_queues", "node_timeout_s", "artifacts_quota_mb"] as const;
type Pool = { name: string; slots: string };
const num = (v: string) => (v.trim() === "" ? null : Number(v));
const text = (v: number | null | undefined) => (v == null ? "" : String(v));

export function Settings({ tenant, onSaved }: { tenant: TenantDetail; onSaved: (t: TenantDetail) => void }) {
  const toast = useStore((s) => s.toast);
  const platform = !!useStore((s) => s.user?.is_platform_admin);
  const [name, setName] = useState(tenant.name);
  const [description, setDescription] = useState(tenant.description ?? "");
  const [quota, setQuota] = useState(text(tenant.concurrency_quota));
  const [timeout, setTimeout_] = useState(text(tenant.node_timeout_s));
  const [artifacts, setArtifacts] = useState(text(tenant.artifacts_quota_mb));
  const [pools, setPools] = useState<Pool[]>(Object.entries(tenant.pools ?? {}).map(([n, s]) => ({ name: n, slots: String(s) })));
  const [queues, setQueues] = useState((tenant.allowed_queues ?? []).join(", "));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);

  const save = async (e: FormEvent) => {
    e.preventDefault();
    const body: TenantUpdate = { name: name.trim(), description };
    if (platform) {
      Object.assign(body, {
        concurrency_quota: num(quota) ?? undefined,
        node_timeout_s: num(timeout),
        artifacts_quota_mb: num(artifacts),
        pools: Object.fromEntries(pools.filter((p) => p.name.trim()).map((p) => [p.name.trim(), Number(p.slots)])),
        allowed_queues: queues.split(",").map((q) => q.trim()).filter(Boolean),
      });
    }
    setBusy(true);
    setErrors({});
    try {
      const saved = await endpoints.tenantUpdate(tenant.slug, body);
      onSaved(saved);
      toast("success", "Settings saved.");
    } catch (err) {
      setErrors(fieldErrors(err, ["name", "description", ...PLATFORM]));
    }
    setBusy(false);
  };

  const err = (f: string) => errors[f] && <span className="field-error" role="alert">{errors[f]}</span>;
  const shown = (v: number | null | undefined, unit: string, empty: string) => (v == null ? empty : `${v} ${unit}`);
  return (
    <section className="section narrow-content settings">
      <h1>Settings</h1>
      <form onSubmit={save} aria-label="Tenant settings">
        {errors.form && <div className="form-error" role="alert">{errors.form}</div>}
        <label className="field">
          <span>Name</span>
          <input value={name} maxLength={200} onChange={(e) => setName(e.target.value)} aria-invalid={!!errors.name} />
          {err("name")}
        </label>
        <label className="field">
          <span>Description</span>
          <textarea rows={3} maxLength={1000} value={description} onChange={(e) => setDescription(e.target.value)} />
          {err("description")}
        </label>

        <h2>Limits</h2>
        <p className="help">
          {platform ? "You are a platform admin: you set this tenant's limits." : "Set by the platform's admins; ask them to change a limit."}
        </p>
        {platform ? <>
          <div className="grid-2">
            <label className="field">
              <span>Concurrency quota</span>
              <input type="number" min={1} value={quota} onChange={(e) => setQuota(e.target.value)} aria-invalid={!!errors.concurrency_quota} />
              {err("concurrency_quota") || <span className="help">Notebooks of this tenant running at once.</span>}
            </label>
            <label className="field">
              <span>Node timeout (s)</span>
              <input type="number" min={1} value={timeout} placeholder="platform default" onChange={(e) => setTimeout_(e.target.value)} />
              {err("node_timeout_s")}
            </label>
            <label className="field">
              <span>Artifacts quota (MB)</span>
              <input type="number" min={1} value={artifacts} placeholder="platform default" onChange={(e) => setArtifacts(e.target.value)} />
              {err("artifacts_quota_mb")}
            </label>
            <label className="field">
              <span>Allowed queues</span>
              <input value={queues} placeholder="none: the default queue only" onChange={(e) => setQueues(e.target.value)} />
              {err("allowed_queues") || <span className="help">Comma-separated Airflow queue names.</span>}
            </label>
          </div>
          <div className="field" role="group" aria-label="Pools">
            <span>Pools</span>
            {pools.map((p, i) => (
              <div className="secret-field" key={i}>
                <input aria-label={`Pool ${i + 1} name`} value={p.name} placeholder="name"
                  onChange={(e) => setPools(pools.map((q, j) => (j === i ? { ...q, name: e.target.value } : q)))} />
                <input aria-label={`Pool ${i + 1} slots`} type="number" min={1} value={p.slots}
                  onChange={(e) => setPools(pools.map((q, j) => (j === i ? { ...q, slots: e.target.value } : q)))} />
                <button type="button" className="button ghost small" onClick={() => setPools(pools.filter((_, j) => j !== i))}>Remove</button>
              </div>
            ))}
            <button type="button" className="button small" style={{ alignSelf: "flex-start" }}
              onClick={() => setPools([...pools, { name: "", slots: "1" }])}>Add pool</button>
            {err("pools") || <span className="help">Slots reserved out of the quota for nodes naming the pool; together at most the quota − 1.</span>}
          </div>
        </> : (
          <dl className="readonly-list" aria-label="Limits">
            <dt>Concurrency quota</dt><dd>{tenant.concurrency_quota} notebooks at once</dd>
            <dt>Pools</dt><dd>{Object.entries(tenant.pools ?? {}).map(([n, s]) => `${n}: ${s} slots`).join(", ") || "none"}</dd>
            <dt>Allowed queues</dt><dd>{(tenant.allowed_queues ?? []).join(", ") || "the default queue only"}</dd>
            <dt>Node timeout</dt><dd>{shown(tenant.node_timeout_s, "s", "the platform default")}</dd>
            <dt>Artifacts quota</dt><dd>{shown(tenant.artifacts_quota_mb, "MB", "the platform default")}</dd>
          </dl>
        )}
        <button className="button primary" type="submit" disabled={busy}>{busy ? "Saving…" : "Save settings"}</button>
      </form>
    </section>
  );
}
