// Unsaved canvases kept in the browser (localStorage, so every tab sees them), one per workflow:
// a draft survives leaving the editor, a reload or a crash, and is offered back on the next open.
import type { Graph } from "../api/types";

export interface Draft {
  version: number; // the saved version the edit started from (a later save elsewhere is a conflict)
  graph: Graph;
  savedAt: string; // ISO time of the last keystroke kept
}

type KeyValue = Pick<Storage, "getItem" | "setItem" | "removeItem">;

export const draftKey = (tenant: string, workflowId: number) => `loom.draft.${tenant}.${workflowId}`;

function store(): KeyValue | null {
  try {
    return typeof localStorage === "undefined" ? null : localStorage;
  } catch {
    return null; // storage disabled by the browser: no drafts, the leave guard still asks
  }
}

export function draftRead(tenant: string, workflowId: number, kv: KeyValue | null = store()): Draft | null {
  const text = kv?.getItem(draftKey(tenant, workflowId));
  if (!text) return null;
  try {
    const d = JSON.parse(text) as Draft;
    return typeof d.version === "number" && d.graph && Array.isArray(d.graph.nodes) ? d : null;
  } catch {
    return null;
  }
}

export function draftWrite(tenant: string, workflowId: number, draft: Draft, kv: KeyValue | null = store()): void {
  try {
    kv?.setItem(draftKey(tenant, workflowId), JSON.stringify(draft));
  } catch {
    // Quota exceeded: the canvas is still in memory and the leave guard still asks.
  }
}

export function draftClear(tenant: string, workflowId: number, kv: KeyValue | null = store()): void {
  kv?.removeItem(draftKey(tenant, workflowId));
}

/** Whether a draft changes anything in the saved graph (key order and positions' rounding aside). */
export function draftDiffers(draft: Graph, saved: Graph): boolean {
  return canonical(draft) !== canonical(saved);
}

function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v) =>
    v && typeof v === "object" && !Array.isArray(v) ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, v[k]])) : v,
  );
}

/** The draft to show instead of the saved version, if any; one based on a later version than the
 * saved one, or equal to it, is dropped. */
export function draftPending(tenant: string, workflowId: number, savedVersion: number, saved: Graph, kv: KeyValue | null = store()): Draft | null {
  const draft = draftRead(tenant, workflowId, kv);
  if (draft && draft.version <= savedVersion && draftDiffers(draft.graph, saved)) return draft;
  if (draft) draftClear(tenant, workflowId, kv);
  return null;
}

/** A graph's workflow settings, without its nodes and edges. */
export function draftMeta(graph: Graph): Omit<Graph, "nodes" | "edges"> {
  const { nodes: _n, edges: _e, ...meta } = graph;
  return meta;
}
