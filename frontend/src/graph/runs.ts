// A node's status on the canvas: one node can have many node runs (fan-out, map_index).
import { FINISHED, type NodeRun, type RunStatus } from "../api/types";

export interface NodeStatus {
  status: RunStatus;
  total: number;
  done: number;
  attempts: number;
}

const ORDER: RunStatus[] = ["failed", "upstream_failed", "cancelled", "queued", "skipped", "success"];

export function nodeStatuses(runs: NodeRun[]): Map<string, NodeStatus> {
  const byNode = new Map<string, NodeRun[]>();
  for (const r of runs) byNode.set(r.node, [...(byNode.get(r.node) ?? []), r]);
  const out = new Map<string, NodeStatus>();
  for (const [node, list] of byNode) {
    const statuses = new Set(list.map((r) => r.status));
    // A fanned-out node has one row for the whole and one per item; count the items.
    const items = list.some((r) => r.map_index !== null) ? list.filter((r) => r.map_index !== null) : list;
    const done = items.filter((r) => FINISHED.includes(r.status)).length;
    let status: RunStatus;
    if (statuses.has("running") || (statuses.has("queued") && done > 0)) status = "running";
    else status = ORDER.find((s) => statuses.has(s)) ?? "queued";
    out.set(node, { status, total: items.length, done, attempts: Math.max(0, ...list.map((r) => r.attempts)) });
  }
  return out;
}

export function runFinished(status: RunStatus): boolean {
  return FINISHED.includes(status);
}
