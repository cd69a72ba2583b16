// Automatic layout, left to right, with dagre. Sizes are estimated from the node's rows so
// that layout works before React has measured anything (a freshly loaded graph).
import dagre from "@dagrejs/dagre";
import type { FlowEdge, FlowNode } from "./model";

export const NODE_WIDTH = 248;
const HEADER = 58;
const ROW = 24;

export function nodeSize(n: FlowNode, paramCount: number): { width: number; height: number } {
  const measured = n.measured ?? {};
  const rows = Math.max(paramCount, n.data.node.outputs.length, 1);
  return { width: measured.width ?? NODE_WIDTH, height: measured.height ?? HEADER + rows * ROW + 12 };
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
