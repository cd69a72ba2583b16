// Automatic layout, left to right, with dagre. Sizes are estimated from the node's rows so
// that layout works before React has measured anything (a freshly loaded graph).
import dagre from "@dagrejs/dagre";
import type { FlowEdge, FlowNode } from "./model";

// Must match styles.css (.loom-node-header, .port, .loom-node-body): handles sit at these offsets.
export const NODE_WIDTH = 264;
export const NODE_HEADER = 50;
export const NODE_ROW = 24;
export const NODE_BODY_PAD = 5;
const BORDERS = 3;

export function nodeSize(n: FlowNode, paramCount: number): { width: number; height: number } {
  const measured = n.measured ?? {};
  const rows = Math.max(paramCount, n.data.node.outputs.length, 1);
  return { width: measured.width ?? NODE_WIDTH, height: measured.height ?? NODE_HEADER + rows * NODE_ROW + 2 * NODE_BODY_PAD + BORDERS };
}

/** New positions (top-left corners) for every node; edges between the same pair count once. */
export function layoutGraph(
  nodes: FlowNode[],
  edges: FlowEdge[],
  paramCount: (n: FlowNode) => number,
): Map<string, { x: number; y: number }> {
  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: "LR", nodesep: 36, ranksep: 90, marginx: 20, marginy: 20 });
  g.setDefaultEdgeLabel(() => ({}));
  const sizes = new Map(nodes.map((n) => [n.id, nodeSize(n, paramCount(n))]));
  for (const n of nodes) g.setNode(n.id, sizes.get(n.id)!);
  for (const e of edges) if (sizes.has(e.source) && sizes.has(e.target)) g.setEdge(e.source, e.target);
  dagre.layout(g);
  const out = new Map<string, { x: number; y: number }>();
  for (const n of nodes) {
    const p = g.node(n.id);
    const s = sizes.get(n.id)!;
    out.set(n.id, { x: Math.round(p.x - s.width / 2), y: Math.round(p.y - s.height / 2) });
  }
  return out;
}

/** The box around every node, from measured sizes where known and estimates elsewhere. */
export function graphBounds(nodes: FlowNode[], paramCount: (n: FlowNode) => number): { x: number; y: number; width: number; height: number } {
  if (!nodes.length) return { x: 0, y: 0, width: 0, height: 0 };
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  for (const n of nodes) {
    const s = nodeSize(n, paramCount(n));
    x0 = Math.min(x0, n.position.x);
    y0 = Math.min(y0, n.position.y);
    x1 = Math.max(x1, n.position.x + s.width);
    y1 = Math.max(y1, n.position.y + s.height);
  }
  return { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
}

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

const overlaps = (a: Box, b: Box, gap: number) =>
  a.x < b.x + b.width + gap && b.x < a.x + a.width + gap && a.y < b.y + b.height + gap && b.y < a.y + a.height + gap;

/**
 * Where a new node of `size` goes near `centre` (flow coordinates): the nearest spot on a grid
 * around it that overlaps no node and nothing to `avoid` (the minimap, say), preferring spots
 * inside `view`. Returns the top-left corner.
 */
export function freeSpot(centre: { x: number; y: number }, size: { width: number; height: number }, taken: Box[], avoid: Box[] = [], view?: Box): { x: number; y: number } {
  // Half-node steps: a crowded view still has room between nodes.
  const stepX = Math.round((size.width + 40) / 2);
  const stepY = Math.round((size.height + 30) / 2);
  const origin = { x: Math.round(centre.x - size.width / 2), y: Math.round(centre.y - size.height / 2) };
  let outside: { x: number; y: number } | null = null;
  for (let ring = 0; ring <= 16; ring++) {
    for (let dy = -ring; dy <= ring; dy++) {
      for (let dx = -ring; dx <= ring; dx++) {
        if (Math.max(Math.abs(dx), Math.abs(dy)) !== ring) continue;
        const box = { x: origin.x + dx * stepX, y: origin.y + dy * stepY, ...size };
        if (taken.some((t) => overlaps(box, t, 16)) || avoid.some((a) => overlaps(box, a, 8))) continue;
        const inView = !view || (box.x >= view.x && box.y >= view.y && box.x + box.width <= view.x + view.width && box.y + box.height <= view.y + view.height);
        if (inView) return { x: box.x, y: box.y };
        outside ??= { x: box.x, y: box.y };
      }
    }
  }
  return outside ?? origin;
}
