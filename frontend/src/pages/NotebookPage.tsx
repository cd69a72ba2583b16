import { useEffect, useState } from "react";
import { ApiError } from "../api/client";
import { endpoints } from "../api/endpoints";
import type { NotebookDetail, NotebookDiff, Tenant } from "../api/types";
import { linkProps, navigate } from "../router";
import { useStore } from "../store";
import { ConfirmDialog } from "../ui/Dialogs";
import { timeAgo } from "../ui/format";
import { staticHtml } from "../ui/notebookHtml";
import { TopBar } from "./TopBar";

const msg = (e: unknown) => (e instanceof ApiError ? e.message : String(e));

/** One notebook of the catalog: its signature, what uses it, a rendered preview, a diff between two versions, delete. */
export function NotebookPage({ tenant, id }: { tenant: string; id: number }) {
  const toast = useStore((s) => s.toast);
  const [version, setVersion] = useState<number | undefined>(undefined);
  const [nb, setNb] = useState<NotebookDetail | null>(null);
  const [diff, setDiff] = useState<NotebookDiff | null>(null);
  const [role, setRole] = useState<Tenant["role"] | null>(null);
  const [error, setError] = useState("");
  const [deleting, setDeleting] = useState(false);

  const [preview, setPreview] = useState<string | null>(null);
  useEffect(() => {
    endpoints.notebook(tenant, id, version).then(setNb, (e) => setError(msg(e)));
    // nbconvert's rendering, shown in a sandbox without scripts (as an executed notebook is).
    setPreview(null);
    endpoints.text(endpoints.notebookPreviewUrl(tenant, id, version), "text/html").then((h) => setPreview(staticHtml(h)), (e) => setError(msg(e)));
  }, [tenant, id, version]);
  useEffect(() => {
    endpoints.tenants().then((ts) => setRole(ts.find((t) => t.slug === tenant)?.role ?? null), () => undefined);
  }, [tenant]);

  // nbdime's diff, computed by the backend: from the chosen version to the one shown.
  const compare = (n: number) => (n && nb ? endpoints.notebookDiff(tenant, id, n, nb.version).then(setDiff, (e) => setError(msg(e))) : setDiff(null));
  const remove = async () => {
    try {
      await endpoints.notebookDelete(tenant, id);
      toast("success", `Deleted ${nb?.name}.`);
      navigate(`/t/${tenant}`);
    } catch (e) {
      setError(msg(e));
      setDeleting(false);
    }
  };

  return (
    <div className="page">
      <TopBar>
        <span className="crumb-sep">/</span>
        <a className="crumb" {...linkProps(`/t/${tenant}`)}>{tenant}</a>
        <span className="crumb-sep">/</span>
        <span className="crumb mono">{nb?.name ?? "…"}</span>
      </TopBar>
      <main className="content" data-testid="notebook-page">
        {error && <div className="form-error" role="alert">{error}</div>}
        {nb && <>
          <section className="section">
            <div className="section-head">
              <h1 className="mono notebook-title">{nb.name}</h1>
              <select className="input small-select" aria-label="Version" value={nb.version} onChange={(e) => { setDiff(null); setVersion(Number(e.target.value)); }}>
                {nb.versions.map((v) => <option key={v.number} value={v.number}>v{v.number} · {timeAgo(v.created_at)}</option>)}
              </select>
              <span className="spacer" />
              {role && role !== "viewer" && <button className="button danger-text" onClick={() => setDeleting(true)}>Delete</button>}
            </div>
            <div className="muted" data-testid="used-by">
              <p>{nb.used_by.length ? <>Used by {nb.used_by.map((w, i) => <span key={w}>{i ? ", " : ""}<strong>{w}</strong></span>)} (their latest versions).</> : "No workflow uses it."}</p>
              {nb.used_in.length > 0 && (
                <ul className="used-in" aria-label="Workflow versions that run it">
                  {nb.used_in.map((u) => (
                    <li key={u.workflow_id}>
                      <a {...linkProps(`/t/${tenant}/workflows/${u.workflow_id}`)}>{u.workflow}</a>
                      {u.latest ? "" : " (not its latest version)"}:{" "}
                      {u.versions.map((v) => `v${v.number} runs notebook v${v.notebook_version}`).join(", ") || "its latest version (saved before this notebook was uploaded)"}
                    </li>
                  ))}
                </ul>
              )}
            </div>
            <div className="param-pills">
              <span className="muted small">Parameters:</span>
              {nb.parameters.map((p) => <span key={p.name} className={`pill type-${p.type ?? "any"}`} title={p.help || p.default_source}>{p.name}<span className="pill-type">{p.type ?? "any"}</span></span>)}
              {!nb.parameters.length && <span className="muted small">none</span>}
              <span className="muted small">Outputs found:</span>
              {nb.outputs.map((o) => <span key={o.name} className={`pill type-${o.type ?? "any"}`}>{o.name}<span className="pill-type">{o.type ?? "any"}</span></span>)}
              {!nb.outputs.length && <span className="muted small">none</span>}
            </div>
          </section>
          {nb.versions.length > 1 && (
            <section className="section">
              <div className="section-head">
                <h2>Changes</h2>
                <span className="muted">from</span>
                <select className="input small-select" aria-label="Compare with" value={diff?.from_version ?? 0} onChange={(e) => compare(Number(e.target.value))}>
                  <option value={0}>compare with…</option>
                  {nb.versions.filter((v) => v.number !== nb.version).map((v) => <option key={v.number} value={v.number}>v{v.number}</option>)}
                </select>
              </div>
              {diff && (
                <pre className="code-block text-diff" data-testid="notebook-diff">
                  {diff.cells.map((c, i) => (
                    <div key={i} className={`diff-cell diff-cell-${c.status}`}>
                      <div className="diff-cell-head muted">
                        ── cell {i + 1}: {c.cell_type}{c.tags.length ? ` [${c.tags.join(", ")}]` : ""} · {c.status}{c.changed.length ? ` (${c.changed.join(", ")})` : ""}
                      </div>
                      {c.lines.map((l, j) => <div key={j} className={`diff-${l.kind}`}>{l.kind === "added" ? "+ " : l.kind === "removed" ? "- " : "  "}{l.text}</div>)}
                    </div>
                  ))}
                </pre>
              )}
            </section>
          )}
          <section className="section">
            <h2>Preview</h2>
            {preview === null ? <p className="muted">Rendering…</p>
              : <iframe className="notebook-frame preview-frame" title={`Preview of ${nb.name} v${nb.version}`} sandbox="" srcDoc={preview} data-testid="notebook-preview" />}
          </section>
        </>}
      </main>
      {deleting && nb && (
        <ConfirmDialog title="Delete notebook" danger confirm="Delete" text={`Delete ${nb.name} and all ${nb.versions.length} of its versions?`}
          onClose={() => setDeleting(false)} onConfirm={remove} />
      )}
    </div>
  );
}
