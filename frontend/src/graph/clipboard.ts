// Copy and paste: selected nodes with the wires among them, under fresh ids.
import { bindingEdgeId, depEdgeId } from "./convert";
import { nodeIdFor } from "./ids";
import { type FlowEdge, type FlowNode, handleParse } from "./model";

export interface Clip {
  nodes: FlowNode[];
  edges: FlowEdge[];
}

export function clipCopy(nodes: FlowNode[], edges: FlowEdge[]): Clip {
  const chosen = nodes.filter((n) => n.selected);
  const ids = new Set(chosen.map((n) => n.id));
  return {
    nodes: structuredClone(chosen.map(({ id, type, position, data }) => ({ id, type, position, data }))),
    edges: edges.filter((e) => ids.has(e.source) && ids.has(e.target)).map((e) => ({ ...e, selected: false })),
  };
}

/** The clip's nodes and edges renamed so as not to clash with `taken`, shifted by `offset`, selected. */
export function clipPaste(clip: Clip, taken: Set<string>, offset = { x: 40, y: 40 }): Clip {
  const rename = new Map<string, string>();
  const used = new Set(taken);
  for (const n of clip.nodes) {
    const id = nodeIdFor(n.id, used);
    used.add(id);
    rename.set(n.id, id);
  }
  const nodes = clip.nodes.map((n) => ({
    ...structuredClone(n),
    id: rename.get(n.id)!,
    position: { x: n.position.x + offset.x, y: n.position.y + offset.y },
    selected: true,
  }));
  const edges = clip.edges.map((e) => {
    const source = rename.get(e.source)!;
    const target = rename.get(e.target)!;
    const out = handleParse(e.sourceHandle);
    const inp = handleParse(e.targetHandle);
    const id = out?.kind === "output" && inp?.kind === "param" ? bindingEdgeId(source, out.name, target, inp.name) : depEdgeId(source, target);
    return { ...e, id, source, target, selected: false };
  });
  return { nodes, edges };
}
