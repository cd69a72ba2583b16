import { useCallback, useEffect, useRef, useState } from "react";
import { ApiError } from "../api/client";
import { endpoints } from "../api/endpoints";
import type { Notebook, Tenant, WorkflowListItem } from "../api/types";
import { linkProps, navigate } from "../router";
import { useStore } from "../store";
import { ConfirmDialog, PromptDialog } from "../ui/Dialogs";
import { StatusChip } from "../ui/StatusChip";
import { timeAgo } from "../ui/format";
import { LAST_WORKSPACE } from "./Tenants";
import { TopBar } from "./TopBar";

type Dialog =
  | { kind: "create" }
  | { kind: "rename"; wf: WorkflowListItem }
  | { kind: "duplicate"; wf: WorkflowListItem }
  | { kind: "delete"; wf: WorkflowListItem }
  | null;

const msg = (e: unknown) => (e instanceof ApiError ? e.message : String(e));

export function Home({ tenant }: { tenant: string }) {
  const toast = useStore((s) => s.toast);
  const [info, setInfo] = useState<Tenant | null>(null);
  const [workflows, setWorkflows] = useState<WorkflowListItem[] | null>(null);
  const [notebooks, setNotebooks] = useState<Notebook[] | null>(null);
  const [error, setError] = useState("");
  const [dialog, setDialog] = useState<Dialog>(null);
  const [filter, setFilter] = useState("");
  const [onlyOne, setOnlyOne] = useState(true);
  const fileInput = useRef<HTMLInputElement>(null);

  const reload = useCallback(() => {
    endpoints.workflows(tenant).then(setWorkflows, (e) => setError(msg(e)));
    endpoints.notebooks(tenant).then(setNotebooks, (e) => setError(msg(e)));
  }, [tenant]);

  useEffect(() => {
    localStorage.setItem(LAST_WORKSPACE, tenant);
    endpoints.tenants().then((ts) => {
      setInfo(ts.find((t) => t.slug === tenant) ?? null);
      setOnlyOne(ts.length === 1);
    }, () => undefined);
    reload();
  }, [tenant, reload]);

  const canEdit = info ? info.role !== "viewer" : false; // hide edit actions until the role is known

  const create = async (name: string) => {
    const wf = await endpoints.workflowCreate(tenant, { name });
    navigate(`/t/${tenant}/workflows/${wf.id}`);
  };
  const rename = async (wf: WorkflowListItem, name: string) => {
    const detail = await endpoints.workflow(tenant, wf.id);
    await endpoints.workflowSave(tenant, wf.id, { ...detail.graph, name }, detail.version);
    setDialog(null);
    toast("success", `Renamed to “${name}”.`);
    reload();
  };
  const duplicate = async (wf: WorkflowListItem, name: string) => {
    const detail = await endpoints.workflow(tenant, wf.id);
    await endpoints.workflowCreate(tenant, { ...detail.graph, name });
    setDialog(null);
    toast("success", `Created “${name}”.`);
    reload();
  };
  const remove = async (wf: WorkflowListItem) => {
    try {
      await endpoints.workflowDelete(tenant, wf.id);
      toast("success", `Deleted “${wf.name}”.`);
      reload();
    } catch (e) {
      toast("error", msg(e));
    }
    setDialog(null);
  };
  const upload = async (files: FileList | null) => {
    for (const file of Array.from(files ?? [])) {
      try {
        const nb = await endpoints.notebookUpload(tenant, file);
        toast("success", `Uploaded ${nb.name} (version ${nb.version}, ${nb.parameters.length} parameters).`);
      } catch (e) {
        toast("error", `${file.name}: ${msg(e)}`);
      }
    }
    if (fileInput.current) fileInput.current.value = "";
    reload();
  };

  const shown = workflows?.filter((w) => w.name.toLowerCase().includes(filter.toLowerCase()));

  return (
    <div className="page">
      <TopBar admin={info?.role === "admin" ? tenant : undefined}>
        <span className="crumb-sep">/</span>
        <a className="crumb" {...linkProps(`/t/${tenant}`)}>{info?.name ?? tenant}</a>
        <a className="button ghost small" {...linkProps(`/t/${encodeURIComponent(tenant)}/runs`)}>Runs</a>
        {!onlyOne && <a className="button ghost small" {...linkProps("/?all")}>Switch workspace</a>}
      </TopBar>
      <main className="content">
        {error && <div className="form-error">{error}</div>}
        <section className="section">
          <div className="section-head">
            <h1>Workflows</h1>
            <input className="search" placeholder="Filter workflows" value={filter} onChange={(e) => setFilter(e.target.value)} aria-label="Filter workflows" />
            {canEdit && <button className="button primary" onClick={() => setDialog({ kind: "create" })}>New workflow</button>}
          </div>
          {shown && shown.length === 0 && (
            <div className="empty">{workflows?.length ? "No workflow matches." : "No workflows yet. Create one and drag notebooks onto it."}</div>
          )}
          {shown && shown.length > 0 && (
            <table className="table" aria-label="Workflows">
              <thead>
                <tr><th>Name</th><th>Version</th><th>Last run</th><th>Updated</th><th aria-label="Actions" /></tr>
              </thead>
              <tbody>
                {shown.map((wf) => (
                  <tr key={wf.id} data-testid={`workflow-row-${wf.id}`}>
                    <td><a className="strong" {...linkProps(`/t/${tenant}/workflows/${wf.id}`)}>{wf.name}</a></td>
                    <td className="muted">v{wf.latest_version}</td>
                    <td>{wf.last_run ? <span title={timeAgo(wf.last_run.created_at)}><StatusChip status={wf.last_run.status} /></span> : <span className="muted">never run</span>}</td>
                    <td className="muted">{timeAgo(wf.updated_at)}</td>
                    <td className="row-actions">
                      {canEdit && <>
                        <button className="button ghost small" onClick={() => setDialog({ kind: "rename", wf })}>Rename</button>
                        <button className="button ghost small" onClick={() => setDialog({ kind: "duplicate", wf })}>Duplicate</button>
                        <button className="button ghost small danger-text" onClick={() => setDialog({ kind: "delete", wf })}>Delete</button>
                      </>}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>

        <section className="section">
          <div className="section-head">
            <h2>Notebooks</h2>
            <span className="spacer" />
            {canEdit && <>
              <input ref={fileInput} type="file" accept=".ipynb" multiple hidden onChange={(e) => upload(e.target.files)} data-testid="notebook-upload-input" />
              <button className="button" onClick={() => fileInput.current?.click()}>Upload notebook</button>
            </>}
          </div>
          {notebooks && notebooks.length === 0 && <div className="empty">No notebooks yet. Upload a .ipynb with a cell tagged “parameters”.</div>}
          {notebooks && notebooks.length > 0 && (
            <table className="table" aria-label="Notebooks">
              <thead><tr><th>Name</th><th>Version</th><th>Parameters</th><th>Outputs found</th><th>Updated</th></tr></thead>
              <tbody>
                {notebooks.map((nb) => (
                  <tr key={nb.id}>
                    <td className="strong mono"><a {...linkProps(`/t/${tenant}/notebooks/${nb.id}`)}>{nb.name}</a></td>
                    <td className="muted">v{nb.version}</td>
                    <td>
                      <div className="param-pills">
                        {nb.parameters.map((p) => (
                          <span key={p.name} className={`pill type-${p.type ?? "any"}`} title={p.help || p.default_source}>
                            {p.name}<span className="pill-type">{p.type ?? "any"}</span>
                          </span>
                        ))}
                        {nb.parameters.length === 0 && <span className="muted">none</span>}
                      </div>
                    </td>
                    <td>
                      <div className="param-pills">
                        {nb.outputs?.map((o) => (
                          <span key={o.name} className={`pill type-${o.type ?? "any"}`}>{o.name}<span className="pill-type">{o.type ?? "any"}</span></span>
                        ))}
                        {!nb.outputs?.length && <span className="muted" title="Loom finds the names given to sb.glue and the variables of a cell tagged outputs">none</span>}
                      </div>
                    </td>
                    <td className="muted">{timeAgo(nb.updated_at)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
      </main>

      {dialog?.kind === "create" && (
        <PromptDialog title="New workflow" label="Name" submit="Create" onClose={() => setDialog(null)} onSubmit={create} />
      )}
      {dialog?.kind === "rename" && (
        <PromptDialog title="Rename workflow" label="Name" initial={dialog.wf.name} submit="Rename" onClose={() => setDialog(null)}
          onSubmit={(name) => rename(dialog.wf, name)} />
      )}
      {dialog?.kind === "duplicate" && (
        <PromptDialog title="Duplicate workflow" label="Name of the copy" initial={`${dialog.wf.name} (copy)`} submit="Duplicate"
          onClose={() => setDialog(null)} onSubmit={(name) => duplicate(dialog.wf, name)} />
      )}
      {dialog?.kind === "delete" && (
        <ConfirmDialog title="Delete workflow" danger confirm="Delete"
          text={`Delete “${dialog.wf.name}” and all ${dialog.wf.latest_version} of its versions? This cannot be undone.`}
          onClose={() => setDialog(null)} onConfirm={() => remove(dialog.wf)} />
      )}
    </div>
  );
}
