// Renaming a node renames it everywhere the graph names it: its edges and the fan-outs over its outputs.
import { bindingEdgeId, depEdgeId } from "./convert";
import { type FlowEdge, type FlowNode, handleParse } from "./model";

export function graphRename<N extends FlowNode, E extends FlowEdge>(nodes: N[], edges: E[], id: string, to: string): { nodes: N[]; edges: E[] } {
  const swap = (x: string) => (x === id ? to : x);
  return {
    nodes: nodes.map((n) => {
      const over = n.data.node.map_over;
      const renamedOver = over && over.startsWith(`${id}.`) ? `${to}.${over.slice(id.length + 1)}` : over;
      const base = n.id === id ? { ...n, id: to } : n;
      return renamedOver !== over ? { ...base, data: { ...base.data, node: { ...base.data.node, map_over: renamedOver } } } : base;
    }),
    edges: edges.map((e) => {
      if (e.source !== id && e.target !== id) return e;
      const source = swap(e.source);
      const target = swap(e.target);
      const out = handleParse(e.sourceHandle);
      const inp = handleParse(e.targetHandle);
      const eid = out?.kind === "output" && inp?.kind === "param" ? bindingEdgeId(source, out.name, target, inp.name) : depEdgeId(source, target);
      return { ...e, id: eid, source, target };
    }),
  };
}
