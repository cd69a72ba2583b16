import hljs from "highlight.js/lib/core";
import python from "highlight.js/lib/languages/python";
import "highlight.js/styles/github.css";
import { useEffect, useMemo, useState } from "react";
import { ApiError } from "../api/client";
import { endpoints } from "../api/endpoints";
import type { GraphError } from "../api/types";
import { useStore } from "../store";
import { Modal } from "../ui/Modal";

hljs.registerLanguage("python", python);

/** The Airflow DAG file rendered from the saved version, highlighted, with a download. */
export function DagDialog({ onClose }: { onClose: () => void }) {
  const tenant = useStore((s) => s.tenant);
  const workflowId = useStore((s) => s.workflowId);
  const version = useStore((s) => s.version);
  const dirty = useStore((s) => s.dirty);
  const name = useStore((s) => s.meta.name);
  const toast = useStore((s) => s.toast);
  const [code, setCode] = useState<string | null>(null);
  const [error, setError] = useState("");
  const [problems, setProblems] = useState<GraphError[]>([]);

  useEffect(() => {
    if (workflowId === null) return;
    endpoints.dag(tenant, workflowId, version).then(setCode, (e) => {
      if (e instanceof ApiError && e.status === 404 && !(e.body && typeof e.body === "object" && "errors" in e.body)) {
        setError("DAG rendering is not available on this server yet.");
      } else {
        setError(e instanceof ApiError ? e.message : String(e));
        const errors = e instanceof ApiError && e.body && typeof e.body === "object" ? (e.body as { errors?: GraphError[] }).errors : undefined;
        setProblems(errors ?? []);
      }
    });
  }, [tenant, workflowId, version]);

  const html = useMemo(() => (code === null ? "" : hljs.highlight(code, { language: "python" }).value), [code]);
  const filename = `${name.toLowerCase().replace(/[^a-z0-9]+/g, "_").replace(/^_|_$/g, "") || "workflow"}_v${version}.py`;
  const download = () => {
    if (code === null) return;
    const url = URL.createObjectURL(new Blob([code], { type: "text/x-python" }));
    const a = document.createElement("a");
    a.href = url;
    a.download = filename;
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  };

  return (
    <Modal title={`DAG code · version ${version}`} wide onClose={onClose} testId="dag-dialog"
      footer={<>
        {dirty && <span className="muted small spacer-left">Showing the saved version; save to include your latest changes.</span>}
        <button className="button" disabled={code === null || !navigator.clipboard}
          onClick={() => code !== null && navigator.clipboard.writeText(code).then(() => toast("success", "Copied the DAG file."), () => toast("error", "The browser refused the clipboard."))}>Copy</button>
        <button className="button primary" onClick={download} disabled={code === null}>Download {filename}</button>
      </>}>
      {code === null && !error && <p className="muted">Rendering…</p>}
      {error && <div className="callout callout-error" role="alert">{error}</div>}
      {problems.length > 0 && <ul className="problem-list">{problems.map((p, i) => <li key={i}>{p.node ? <strong className="mono">{p.node}: </strong> : null}{p.message}</li>)}</ul>}
      {code !== null && <pre className="code-block dag-code hljs" data-testid="dag-code"><code dangerouslySetInnerHTML={{ __html: html }} /></pre>}
    </Modal>
  );
}
