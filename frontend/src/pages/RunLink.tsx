// /t/<tenant>/runs/<id>: where links to a run lead (the audit log); opens the run in its workflow's editor.
import { useEffect, useState } from "react";
import { endpoints } from "../api/endpoints";
import { linkProps, navigate } from "../router";
import { errorText } from "../ui/errors";

export function RunLink({ tenant, run }: { tenant: string; run: number }) {
  const [error, setError] = useState("");
  useEffect(() => {
    endpoints.run(tenant, run).then(
      (r) => navigate(`/t/${encodeURIComponent(tenant)}/workflows/${r.workflow}?run=${r.id}`, { replace: true }),
      (e) => setError(errorText(e)));
  }, [tenant, run]);
  return (
    <div className="centered-page">
      <div className="card narrow">
        {error ? <>
          <h1>Run {run}</h1>
          <div className="form-error" role="alert">{error}</div>
          <a className="button primary" {...linkProps(`/t/${encodeURIComponent(tenant)}`)}>Go to the workspace</a>
        </> : <p className="muted">Opening run {run}…</p>}
      </div>
    </div>
  );
}
