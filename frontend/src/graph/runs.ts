// A node's status on the canvas, from its row in run details: a fanned-out node's row counts its
// items by status (`items`); the items themselves come from the items endpoint.
import { FINISHED, type NodeRun, type RunStatus } from "../api/types";

export interface NodeStatus {
  status: RunStatus;
  total: number;
  done: number;
  /** Items that did not succeed (failed, upstream failed, cancelled). */
  failed: number;
  attempts: number;
  /** Not executed: where its outputs came from. */
  source?: { kind: "cached" | "reused"; run: number };
}

const NOT_SUCCEEDED: RunStatus[] = ["failed", "upstream_failed", "cancelled"];

export function nodeStatuses(runs: NodeRun[]): Map<string, NodeStatus> {
  const out = new Map<string, NodeStatus>();
  for (const r of runs) {
    if (r.map_index !== null) continue;
    const counts = Object.entries(r.items ?? { [r.status]: 1 }) as [RunStatus, number][];
    const sum = (keep: (s: RunStatus) => boolean) => counts.filter(([s]) => keep(s)).reduce((n, [, c]) => n + c, 0);
    out.set(r.node, {
      status: r.status, total: sum(() => true), done: sum((s) => FINISHED.includes(s)),
      failed: sum((s) => NOT_SUCCEEDED.includes(s)), attempts: r.attempts,
      source: r.cached_from ? { kind: "cached", run: r.cached_from.run } : r.reused_from ? { kind: "reused", run: r.reused_from.run } : undefined,
    });
  }
  return out;
}

/** What the node's chip adds to its status for a fanned-out node: "3/5" while it runs, "1 of 3 failed" after. */
export function itemsChip(s: NodeStatus): string | undefined {
  if (s.total <= 1) return undefined;
  const n = (x: number) => x.toLocaleString("en-US");
  if (s.done < s.total) return `${n(s.done)}/${n(s.total)}`;
  return s.failed ? `· ${n(s.failed)} of ${n(s.total)} failed` : `· ${n(s.total)} items`;
}

/** Every node after `id` (its descendants) along the edges. */
export function downstreamOf(edges: { source: string; target: string }[], ids: Iterable<string>): Set<string> {
  const seen = new Set<string>();
  const stack = [...ids];
  while (stack.length) {
    const at = stack.pop()!;
    for (const e of edges) if (e.source === at && !seen.has(e.target)) { seen.add(e.target); stack.push(e.target); }
  }
  return seen;
}

export function runFinished(status: RunStatus): boolean {
  return FINISHED.includes(status);
}
