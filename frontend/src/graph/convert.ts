// API graph ⇄ editor nodes and edges. One API edge with N bindings becomes N editor edges
// (one per output → parameter wire); an API edge binding nothing becomes one `dep` edge.
import type { Graph, GraphEdge, GraphNode } from "../api/types";
import { DEP_IN, DEP_OUT, type FlowEdge, type FlowNode, NODE_DEFAULTS, handleParse, outputHandle, paramHandle } from "./model";

export type WorkflowMeta = Omit<Graph, "nodes" | "edges">;

export function bindingEdgeId(source: string, output: string, target: string, param: string): string {
  return `${source}.${output}->${target}.${param}`;
}

export function depEdgeId(source: string, target: string): string {
  return `${source}->${target}`;
}

export function nodeToFlow(n: GraphNode): FlowNode {
  const { id, position, ...spec } = { ...NODE_DEFAULTS, ...n };
  return { id, type: "notebook", position: { x: position?.x ?? 0, y: position?.y ?? 0 }, data: { node: spec } };
}

export function graphToFlow(graph: Pick<Graph, "nodes" | "edges">): { nodes: FlowNode[]; edges: FlowEdge[] } {
  const nodes = graph.nodes.map(nodeToFlow);
  const edges: FlowEdge[] = [];
  for (const e of graph.edges) {
    const bind = Object.entries(e.bind ?? {});
    if (bind.length === 0) {
      edges.push({ id: depEdgeId(e.source, e.target), source: e.source, target: e.target, sourceHandle: DEP_OUT, targetHandle: DEP_IN });
    }
    for (const [output, param] of bind) {
      edges.push({
        id: bindingEdgeId(e.source, output, e.target, param),
        source: e.source,
        target: e.target,
        sourceHandle: outputHandle(output),
        targetHandle: paramHandle(param),
      });
    }
  }
  return { nodes, edges };
}

export function flowToGraph(meta: WorkflowMeta, nodes: FlowNode[], edges: FlowEdge[]): Graph {
  const apiNodes: GraphNode[] = nodes.map((n) => ({
    id: n.id,
    ...n.data.node,
    position: { x: Math.round(n.position.x), y: Math.round(n.position.y) },
  }));
  const byPair = new Map<string, GraphEdge>();
  for (const e of edges) {
    const key = `${e.source}\u0000${e.target}`;
    let edge = byPair.get(key);
    if (!edge) {
      edge = { source: e.source, target: e.target, bind: {} };
      byPair.set(key, edge);
    }
    const out = handleParse(e.sourceHandle);
    const param = handleParse(e.targetHandle);
    if (out?.kind === "output" && param?.kind === "param") edge.bind[out.name] = param.name;
  }
  return { ...meta, nodes: apiNodes, edges: [...byPair.values()] };
}
