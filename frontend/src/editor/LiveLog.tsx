import { useEffect, useRef, useState } from "react";
import { ApiError } from "../api/client";
import { endpoints } from "../api/endpoints";
import type { RunStatus } from "../api/types";
import { runFinished } from "../graph/runs";
import { useStore } from "../store";

/** A node run's log, read from where it was left every second while the node runs (what the
 * notebook prints appears while it runs), once more when it ends. */
export function LiveLog({ runId, node, mapIndex, status }: { runId: number; node: string; mapIndex: number | null; status: RunStatus }) {
  const tenant = useStore((s) => s.tenant);
  const [text, setText] = useState("");
  const [error, setError] = useState("");
  const offset = useRef(0);
  const pre = useRef<HTMLPreElement>(null);
  const running = !runFinished(status);

  useEffect(() => {
    offset.current = 0;
    setText("");
  }, [tenant, runId, node, mapIndex]);

  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout>;
    const read = async () => {
      try {
        const page = await endpoints.nodeLog(tenant, runId, node, offset.current, mapIndex);
        if (stopped) return;
        setText((t) => (page.reset ? page.text : t + page.text));
        offset.current = page.offset;
        setError("");
      } catch (e) {
        if (!stopped) setError(e instanceof ApiError ? e.message : String(e));
      }
      if (!stopped && running) timer = setTimeout(read, 1000);
    };
    read();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [tenant, runId, node, mapIndex, running]);

  useEffect(() => {
    if (pre.current) pre.current.scrollTop = pre.current.scrollHeight;  // follow the end, like tail -f
  }, [text]);

  return (
    <details className="live-log" open data-testid={`log-${node}${mapIndex === null ? "" : `-${mapIndex}`}`}>
      <summary>Log{running ? " (live)" : ""}</summary>
      {error && <div className="callout callout-error" role="alert">{error}</div>}
      <pre ref={pre} className="code-block small log-text">{text || (running ? "Waiting for output…" : "(empty)")}</pre>
    </details>
  );
}
